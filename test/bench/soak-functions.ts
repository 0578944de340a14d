/**
 * The soak's fleet and what happens to it along the way: 50 functions
 * (`soak-fNN`, a few of them python3), each returning its version and the
 * invocation id it ran as (`context.awsRequestId`, so even an HTTP call,
 * whose answer carries no `X-Invocation-Id`, names its record); one of them
 * with a `rate(…)` schedule trigger. `churn()` runs the next operation of a
 * rotation: a deploy of a new version (moves `latest`), a rollback (latest
 * back to the version before), a delete with a re-create a few seconds later.
 */
import type { Log } from './stack.ts';
import type { SoakStack } from './soak-stack.ts';

export interface SoakFunction {
  name: string;
  runtime: 'nodejs20' | 'python3';
  /** The highest version deployed since the last create. */
  versions: number;
  /** Where `latest` points. */
  latest: number;
  /** False between a delete and its re-create: calls get 404, which the soak expects. */
  live: boolean;
  /** When it was last deleted (epoch ms), to tell an expected refusal from an error. */
  deletedAt: number | null;
}

export interface ChurnEvent {
  at: number;
  op: 'deploy' | 'rollback' | 'delete' | 'recreate' | 'trigger';
  name: string;
  detail: string;
  ok: boolean;
}

/** The function the schedule trigger fires; never deleted. */
export const TRIGGERED = 'soak-f00';
const OPS = ['deploy', 'rollback', 'delete'] as const;

function source(f: SoakFunction, version: number): { file: string; text: string; handler: string } {
  if (f.runtime === 'python3') {
    return {
      file: 'main.py',
      handler: 'main.handler',
      text: `def handler(event, context):\n    return {"ok": True, "v": ${version}, "fn": "${f.name}", "id": context.aws_request_id}\n`,
    };
  }
  return {
    file: 'index.js',
    handler: 'index.handler',
    text: `exports.handler = async (event, context) => ({ ok: true, v: ${version}, fn: ${JSON.stringify(f.name)}, id: context.awsRequestId });\n`,
  };
}

export class Fleet {
  readonly functions: SoakFunction[];
  readonly events: ChurnEvent[] = [];
  private next = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly stack: SoakStack, private readonly log: Log, count = 50, python = 4) {
    // The python ones spread through the list (never f00, the triggered one).
    const py = new Set(Array.from({ length: python }, (_, k) => Math.floor(((k + 1) * count) / (python + 1))));
    this.functions = Array.from({ length: count }, (_, i) => ({
      name: `soak-f${String(i).padStart(2, '0')}`,
      runtime: py.has(i) && i > 0 ? 'python3' : 'nodejs20',
      versions: 0,
      latest: 0,
      live: false,
      deletedAt: null,
    }));
  }

  async deployAll(): Promise<void> {
    for (let i = 0; i < this.functions.length; i += 8) await Promise.all(this.functions.slice(i, i + 8).map((f) => this.deploy(f)));
  }

  /** A new version of `f`, which `latest` moves to. */
  async deploy(f: SoakFunction): Promise<void> {
    const version = f.versions + 1;
    const s = source(f, version);
    const form = new FormData();
    form.append('code', new Blob([s.text], { type: 'text/plain' }), s.file);
    for (const [k, v] of Object.entries({ runtime: f.runtime, handler: s.handler, memoryMb: '128', timeoutMs: '3000' })) form.append(k, v);
    const res = await fetch(`${this.stack.url}/v1/functions/${f.name}`, { method: 'PUT', headers: this.stack.headers(false), body: form });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`deploy of ${f.name} answered ${res.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { version: number };
    f.versions = body.version;
    f.latest = body.version;
    f.live = true;
  }

  /** A schedule on the triggered function; returns its period in seconds. */
  async addTrigger(periodS: number): Promise<number> {
    for (const p of [periodS, 30, 60]) {
      const expr = p >= 60 ? `rate(${p / 60} minute${p === 60 ? '' : 's'})` : `rate(${p} seconds)`;
      const res = await fetch(`${this.stack.url}/v1/functions/${TRIGGERED}/triggers/tick`, {
        method: 'PUT',
        headers: this.stack.headers(),
        body: JSON.stringify({ type: 'schedule', schedule: expr }),
      });
      const text = await res.text();
      this.events.push({ at: Date.now(), op: 'trigger', name: TRIGGERED, detail: `${expr}: ${res.status}`, ok: res.status < 300 });
      if (res.status < 300) return p;
      this.log(`fleet: schedule ${expr} refused (${res.status} ${text.slice(0, 200)}); trying a longer period`);
    }
    throw new Error('no schedule trigger was accepted');
  }

  /** Runs the next operation of the rotation on a random function other than the triggered one. */
  churn(): void {
    const op = OPS[this.next++ % OPS.length]!;
    const candidates = this.functions.filter((f) => f.name !== TRIGGERED && f.live && (op !== 'rollback' || f.latest >= 2));
    const f = candidates[Math.floor(Math.random() * candidates.length)];
    if (!f) return;
    const run = this.runOp(op, f).finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  private async runOp(op: (typeof OPS)[number], f: SoakFunction): Promise<void> {
    const record = (o: ChurnEvent['op'], detail: string, ok: boolean) => {
      this.events.push({ at: Date.now(), op: o, name: f.name, detail, ok });
      if (!ok) this.log(`fleet: ${o} ${f.name} failed: ${detail}`);
    };
    try {
      if (op === 'deploy') {
        await this.deploy(f);
        record('deploy', `v${f.latest}`, true);
      } else if (op === 'rollback') {
        const to = f.latest - 1;
        const res = await fetch(`${this.stack.url}/v1/functions/${f.name}/rollback`, { method: 'POST', headers: this.stack.headers(), body: JSON.stringify({ version: to }) });
        const text = await res.text();
        if (res.status >= 300) return record('rollback', `${res.status} ${text.slice(0, 200)}`, false);
        f.latest = to;
        record('rollback', `latest → v${to} (of ${f.versions})`, true);
      } else {
        f.live = false;
        f.deletedAt = Date.now();
        const res = await fetch(`${this.stack.url}/v1/functions/${f.name}`, { method: 'DELETE', headers: this.stack.headers(false) });
        await res.text();
        record('delete', String(res.status), res.status === 204);
        await new Promise((r) => setTimeout(r, 5000));
        f.versions = 0;
        f.latest = 0;
        await this.deploy(f);
        record('recreate', `v${f.latest}`, true);
      }
    } catch (err) {
      record(op, err instanceof Error ? err.message : String(err), false);
    }
  }

  /** Resolves once every operation under way has ended. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** True when a refusal of `f` (404 not found, 410 deleted) is what a delete along the way explains. */
  refusalExpected(f: SoakFunction, at: number): boolean {
    return !f.live || (f.deletedAt !== null && at - f.deletedAt < 60_000);
  }
}
