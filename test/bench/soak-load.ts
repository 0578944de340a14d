/**
 * The soak's callers: sync invokes, async invokes and HTTP calls of the
 * function origin (`/fn/{name}`), sent open-loop at a fixed rate (at most
 * `maxInFlight` waiting at once; a call that would go over is skipped and
 * counted), spread at random over the fleet. Each answer is counted in the
 * current window: success, a refusal a delete explains (404 not found,
 * 410 deleted), or an error by mode, status and code; every invocation id
 * the platform accepted is kept (sync: `X-Invocation-Id`; async: the 202's
 * `invocationId`; HTTP: the id the function returns), to be matched with
 * the records at the end.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { sleep } from '../helpers/wait.ts';
import type { Fleet, SoakFunction } from './soak-functions.ts';
import type { SoakStack } from './soak-stack.ts';
import { httpCall, type HttpAnswer } from './stack.ts';

export const MODES = ['sync', 'async', 'http'] as const;
export type Mode = (typeof MODES)[number];
export type Mix = Record<Mode, number>;

const zero = (): Record<Mode, number> => ({ sync: 0, async: 0, http: 0 });

/** What one window saw, by the time each answer came. */
export interface WindowCounts {
  startedAt: number;
  endedAt: number;
  sent: Record<Mode, number>;
  ok: Record<Mode, number>;
  /** 404/410 answers for a function deleted along the way: expected, not errors. */
  refusedDeleted: Record<Mode, number>;
  /** `mode status code` → count. */
  errors: Record<string, number>;
  /** Calls not sent because `maxInFlight` were already waiting. */
  skipped: number;
  syncMs: number[];
  httpMs: number[];
}

function emptyWindow(at: number): WindowCounts {
  return { startedAt: at, endedAt: at, sent: zero(), ok: zero(), refusedDeleted: zero(), errors: {}, skipped: 0, syncMs: [], httpMs: [] };
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '-';
  } catch {
    return '-';
  }
}

export class Load {
  /** Every accepted invocation id and how it was called. */
  readonly accepted = new Map<string, Mode>();
  /** Ids answered twice (never expected). */
  duplicateAnswers = 0;
  /** Successful answers whose body named another id than the answer's header. */
  wrongIds = 0;
  /** Sync/HTTP calls that ended in a network error: the platform may have run and recorded them with no id seen. */
  clientGaveUp = 0;
  private window: WindowCounts = emptyWindow(Date.now());
  private inFlight = 0;
  private agent: http.Agent;

  constructor(private readonly stack: SoakStack, private readonly fleet: Fleet, private readonly maxInFlight = 64) {
    this.agent = this.newAgent();
  }

  private newAgent(): http.Agent {
    return new http.Agent({ keepAlive: true, maxSockets: this.maxInFlight });
  }

  /** Drops the idle keep-alive sockets (before a phase that follows a pause). */
  freshSockets(): void {
    this.agent.destroy();
    this.agent = this.newAgent();
  }

  /** Ends the current window and starts the next; returns the one ended. */
  takeWindow(): WindowCounts {
    const now = Date.now();
    const done = this.window;
    done.endedAt = now;
    this.window = emptyWindow(now);
    return done;
  }

  /** One call of `f` in `mode`, counted in the window current when it answers. */
  async call(mode: Mode, f: SoakFunction): Promise<void> {
    const sentAt = Date.now();
    this.window.sent[mode] += 1;
    this.inFlight += 1;
    let a: HttpAnswer;
    try {
      a = await this.send(mode, f.name);
    } catch (err) {
      if (mode !== 'async') this.clientGaveUp += 1;
      this.count(`${mode} network ${err instanceof Error ? err.message.slice(0, 60) : 'error'}`);
      return;
    } finally {
      this.inFlight -= 1;
    }
    const w = this.window;
    let id = typeof a.headers['x-invocation-id'] === 'string' ? a.headers['x-invocation-id'] : undefined;
    if ((a.status === 200 || a.status === 202) && mode !== 'sync') {
      try {
        const body = JSON.parse(a.body) as { invocationId?: string; id?: string };
        id = mode === 'async' ? body.invocationId : body.id;
      } catch {
        // counted as an error below: no id
      }
    } else if (a.status === 200 && id) {
      try {
        if ((JSON.parse(a.body) as { id?: string }).id !== id) this.wrongIds += 1;
      } catch {
        this.wrongIds += 1;
      }
    }
    if (id) {
      if (this.accepted.has(id)) this.duplicateAnswers += 1;
      this.accepted.set(id, mode);
    }
    const expected = mode === 'async' ? 202 : 200;
    if (a.status === expected && id) {
      w.ok[mode] += 1;
      if (mode === 'sync') w.syncMs.push(a.ms);
      if (mode === 'http') w.httpMs.push(a.ms);
      return;
    }
    const code = errorCode(a.body);
    if ((a.status === 404 || a.status === 410) && this.fleet.refusalExpected(f, sentAt)) {
      w.refusedDeleted[mode] += 1;
      return;
    }
    this.count(`${mode} ${a.status} ${code}${a.status === expected ? ' (no id)' : ''}`);
  }

  private count(key: string): void {
    this.window.errors[key] = (this.window.errors[key] ?? 0) + 1;
  }

  private send(mode: Mode, name: string): Promise<HttpAnswer> {
    const { stack } = this;
    if (mode === 'http') return httpCall(this.agent, `${stack.fnUrl}/fn/${name}/soak`, { headers: stack.headers(false), timeoutMs: 30_000 });
    const qs = mode === 'async' ? '?async=true' : '';
    return httpCall(this.agent, `${stack.url}/v1/functions/${name}/invoke${qs}`, { method: 'POST', headers: stack.headers(), body: '{}', timeoutMs: 30_000 });
  }

  private pick(): SoakFunction {
    const fs = this.fleet.functions;
    return fs[Math.floor(Math.random() * fs.length)]!;
  }

  /**
   * Sync calls, `concurrency` at a time back to back, for `seconds`: the
   * most this platform completes; the calls are accepted and checked like
   * any others.
   */
  async closedLoop(seconds: number, concurrency = this.maxInFlight): Promise<number> {
    const until = Date.now() + seconds * 1000;
    let done = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < until) {
          const f = this.pick();
          if (!f.live) continue;
          const before = this.window.ok.sync;
          await this.call('sync', f);
          if (this.window.ok.sync > before) done += 1;
        }
      }),
    );
    return done / ((performance.now() - t0) / 1000);
  }

  /** Calls at `ratePerS` in the proportions of `mix` until `until` (epoch ms); resolves once every call answered. */
  async openLoop(ratePerS: number, mix: Mix, until: number, onTick?: () => void): Promise<void> {
    const total = MODES.reduce((s, m) => s + mix[m], 0);
    const pending = new Set<Promise<void>>();
    const t0 = performance.now();
    let launched = 0;
    while (Date.now() < until) {
      const due = Math.floor(((performance.now() - t0) / 1000) * ratePerS);
      for (; launched < due; launched++) {
        if (this.inFlight >= this.maxInFlight) {
          this.window.skipped += 1;
          continue;
        }
        let r = Math.random() * total;
        const mode = MODES.find((m) => (r -= mix[m]) < 0) ?? 'sync';
        const p: Promise<void> = this.call(mode, this.pick()).finally(() => pending.delete(p));
        pending.add(p);
      }
      onTick?.();
      await sleep(2);
    }
    await Promise.allSettled([...pending]);
  }

  close(): void {
    this.agent.destroy();
  }
}
