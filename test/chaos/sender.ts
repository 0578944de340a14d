/**
 * The caller side of a chaos run: N async invocations at a steady rate, each
 * with its own `Idempotency-Key`, retried the way a careful client would when
 * the platform cannot take the call right now (503, any 5xx, 429 or no
 * answer) — same key, so a retry can never start a second invocation.
 */
import http from 'node:http';
import { sleep } from '../helpers/wait.ts';

export interface Accepted {
  seq: number;
  invocationId: string;
  /** Epoch ms when the 202 arrived. */
  acceptedAt: number;
  /** Requests it took (1: accepted at once). */
  attempts: number;
  /** The gateway said the key was already bound (`repeated: true`). */
  repeated: boolean;
  /** Each distinct answer that made us retry, in order (evidence when such a call goes missing). */
  rejections: string[];
}

export interface SendStats {
  /** Answers that made us retry, by `<status> <error code>` (or `network`). */
  rejected: Record<string, number>;
  /** Distinct calls that needed more than one request. */
  retriedSends: number;
  /** How long each rejected answer took (the platform promises a 503 at once, not after a hang). */
  rejectedMs: number[];
  /** Calls never accepted before their deadline, with the last answer. */
  gaveUp: Array<{ seq: number; last: string }>;
}

export interface SendOptions {
  url: string;
  functionName: string;
  headers: Record<string, string>;
  count: number;
  ratePerS: number;
  runId: string;
  /** How long one call keeps being retried before we give up on it. */
  giveUpAfterMs?: number;
}

/** The sender's live state, readable while it runs (for progress lines). */
export class Sender {
  readonly accepted = new Map<number, Accepted>();
  readonly stats: SendStats = { rejected: {}, retriedSends: 0, rejectedMs: [], gaveUp: [] };
  started = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly options: SendOptions) {}

  /** Sends every call on schedule; resolves when each is accepted or given up. */
  async run(): Promise<void> {
    const { count, ratePerS } = this.options;
    const t0 = Date.now();
    const inFlight: Array<Promise<void>> = [];
    for (let seq = 0; seq < count; seq++) {
      const due = t0 + (seq * 1000) / ratePerS;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      this.started += 1;
      inFlight.push(this.send(seq));
    }
    await Promise.all(inFlight);
    this.agent.destroy();
  }

  private async send(seq: number): Promise<void> {
    const { url, functionName, headers, runId } = this.options;
    const deadline = Date.now() + (this.options.giveUpAfterMs ?? 180_000);
    const body = JSON.stringify({ seq });
    const requestHeaders = { ...headers, 'idempotency-key': `chaos-${runId}-${seq}` };
    let last = '';
    const rejections: string[] = [];
    for (let attempt = 1; ; attempt++) {
      if (attempt === 2) this.stats.retriedSends += 1;
      const t = Date.now();
      const answer = await post(this.agent, `${url}/v1/functions/${functionName}/invoke?async=true`, requestHeaders, body);
      if (answer.status === 202) {
        const parsed = JSON.parse(answer.body) as { invocationId: string; repeated?: boolean };
        const repeated = parsed.repeated === true;
        this.accepted.set(seq, { seq, invocationId: parsed.invocationId, acceptedAt: Date.now(), attempts: attempt, repeated, rejections });
        return;
      }
      last = answer.status === 0 ? `network ${answer.body}` : `${answer.status} ${errorCode(answer.body)}: ${errorMessage(answer.body)}`;
      if (!rejections.includes(last)) rejections.push(last);
      const retryable = answer.status === 0 || answer.status === 429 || answer.status >= 500;
      if (!retryable || Date.now() > deadline) {
        this.stats.gaveUp.push({ seq, last: `${last}: ${answer.body.slice(0, 200)}` });
        return;
      }
      const key = answer.status === 0 ? 'network error' : `${answer.status} ${errorCode(answer.body)}`;
      this.stats.rejected[key] = (this.stats.rejected[key] ?? 0) + 1;
      this.stats.rejectedMs.push(Date.now() - t);
      await sleep(200 + Math.random() * 300);
    }
  }
}

function errorMessage(body: string): string {
  try {
    return ((JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body).slice(0, 160);
  } catch {
    return body.slice(0, 160);
  }
}

function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '?';
  } catch {
    return '?';
  }
}

/** One POST; network failures come back as status 0 with the error message as body. */
function post(agent: http.Agent, url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ status: 0, body: err.message }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end(body);
  });
}
