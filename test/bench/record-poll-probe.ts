/**
 * How long a caller that learns of an async call's end by polling its
 * record waits, as a trigger's batch does (`gateway/triggers/batch-invoker.ts`
 * polls after 5, 10, 20, 40, 80, 160, 320 ms, then every 500 ms), next to a
 * caller that polls every millisecond: the difference is what the back-off
 * adds to every batch. One call at a time, the two ways in alternating blocks.
 */
import http from 'node:http';
import { httpCall, type BenchStack } from './stack.ts';
import { nowMs } from './event-brokers.ts';
import { summarize, type Summary } from './stats.ts';
import { sleep } from '../helpers/wait.ts';

/** The batch invoker's schedule (a copy: the bench reads the platform from outside). */
export const INVOKER_POLL_MS = [5, 10, 20, 40, 80, 160, 320, 500];
const TIGHT_POLL_MS = [1];

export interface PollProbe {
  /** 202 answer → record seen, by the invoker's schedule and by a 1 ms poll. */
  invokerSeen: Summary;
  tightSeen: Summary;
  /** Record's `finished_at` → seen: the record write plus the poll's own delay. */
  invokerAfterFinish: Summary;
  tightAfterFinish: Summary;
  /** Record queries made per call. */
  invokerQueries: number;
  tightQueries: number;
}

/** `calls` async calls of `fn` each way (blocks of 10), one at a time. */
export async function probeRecordPolling(stack: BenchStack, fn: string, calls: number): Promise<PollProbe> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ways = { invoker: { seen: [] as number[], after: [] as number[], queries: 0 }, tight: { seen: [] as number[], after: [] as number[], queries: 0 } };
  const one = async (schedule: number[], way: (typeof ways)['invoker']) => {
    const answer = await httpCall(agent, `${stack.url}/v1/functions/${fn}/invoke?async=true`, { method: 'POST', headers: stack.headers(), body: '{}' });
    const id = answer.headers['x-invocation-id'];
    if (answer.status !== 202 || typeof id !== 'string') throw new Error(`async call answered ${answer.status}`);
    for (let i = 0; i < 10_000; i++) {
      await sleep(schedule[Math.min(i, schedule.length - 1)]!);
      way.queries += 1;
      const found = await stack.records.query<{ finishedAt: number }>(
        'select extract(epoch from finished_at)::float8 * 1000 as "finishedAt" from invocations where id = $1',
        [id],
      );
      const row = found.rows[0];
      if (!row) continue;
      const seenAt = nowMs();
      way.seen.push(seenAt - answer.receivedAt);
      way.after.push(seenAt - row.finishedAt);
      return;
    }
    throw new Error(`no record of ${id}`);
  };
  try {
    for (let block = 0; block * 10 < calls; block++) {
      const order = block % 2 === 0 ? (['invoker', 'tight'] as const) : (['tight', 'invoker'] as const);
      for (const name of order) for (let i = 0; i < 10; i++) await one(name === 'invoker' ? INVOKER_POLL_MS : TIGHT_POLL_MS, ways[name]);
    }
  } finally {
    agent.destroy();
  }
  const n = (way: (typeof ways)['invoker']) => way.queries / Math.max(1, way.seen.length);
  return {
    invokerSeen: summarize(ways.invoker.seen),
    tightSeen: summarize(ways.tight.seen),
    invokerAfterFinish: summarize(ways.invoker.after),
    tightAfterFinish: summarize(ways.tight.after),
    invokerQueries: n(ways.invoker),
    tightQueries: n(ways.tight),
  };
}
