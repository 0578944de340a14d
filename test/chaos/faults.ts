/**
 * The faults of a chaos run, spread over the sending window and applied one
 * after another: SIGKILL a worker (restarted under the same id a little
 * later), restart Redis (SIGTERM, down a few seconds, start on the same AOF),
 * take Postgres down for a while (`pg_ctl stop -m fast`, then start). Every
 * step lands in a timeline with its time since the run began.
 */
import { Redis } from 'ioredis';
import { sleep } from '../helpers/wait.ts';
import type { ChaosStack, Log } from './chaos-stack.ts';

export interface FaultPlan {
  workerKills: number;
  redisRestarts: number;
  /** 0: no Postgres outage. */
  postgresOutageS: number;
  /** How long Redis stays down on each restart. */
  redisDownMs?: number;
  /** How long a killed worker stays dead before it is started again. */
  workerRestartDelayMs?: number;
}

/** Jobs by state (−1 when Redis does not answer); failed jobs are kept a day, the others leave once done. */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export type FaultKind = 'worker-kill' | 'redis-restart' | 'postgres-outage';

export interface TimelineEntry {
  /** Milliseconds since the run began. */
  atMs: number;
  event: string;
}

/**
 * When each fault starts: evenly over the middle 80% of the window, kinds
 * interleaved (kill, redis, postgres, kill, …) so they do not bunch up.
 */
export function scheduleFaults(plan: FaultPlan, windowMs: number): Array<{ atMs: number; kind: FaultKind }> {
  const left: Record<FaultKind, number> = {
    'worker-kill': plan.workerKills,
    'redis-restart': plan.redisRestarts,
    'postgres-outage': plan.postgresOutageS > 0 ? 1 : 0,
  };
  const kinds: FaultKind[] = [];
  while (Object.values(left).some((n) => n > 0)) {
    for (const kind of ['worker-kill', 'redis-restart', 'postgres-outage'] as const) {
      if (left[kind] > 0) {
        kinds.push(kind);
        left[kind] -= 1;
      }
    }
  }
  return kinds.map((kind, i) => ({ kind, atMs: Math.round(windowMs * (0.1 + (0.8 * (i + 0.5)) / kinds.length)) }));
}

/** Applies faults to a stack and keeps the timeline. */
export class FaultInjector {
  readonly timeline: TimelineEntry[] = [];
  private kills = 0;

  constructor(
    private readonly stack: ChaosStack,
    private readonly plan: FaultPlan,
    private readonly startedAt: number,
    private readonly log: Log,
  ) {}

  /** Logs `event` and keeps it in the timeline. */
  note(event: string): void {
    const atMs = Date.now() - this.startedAt;
    this.timeline.push({ atMs, event });
    this.log(`[${(atMs / 1000).toFixed(1).padStart(6)} s] ${event}`);
  }

  /** Logs a progress line, not kept in the timeline. */
  progress(line: string): void {
    this.log(`[${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  }

  /**
   * Runs the schedule in order; a fault whose time has passed (the previous
   * one ran long) starts at once. Stops between steps once the stack is
   * being torn down (Ctrl-C), so nothing is started again behind it.
   */
  async run(schedule: Array<{ atMs: number; kind: FaultKind }>): Promise<void> {
    for (const { atMs, kind } of schedule) {
      const wait = this.startedAt + atMs - Date.now();
      if (wait > 0) await sleep(wait);
      if (this.stack.stopping) return;
      if (kind === 'worker-kill') await this.killWorker();
      else if (kind === 'redis-restart') await this.restartRedis();
      else await this.postgresOutage();
    }
  }

  async killWorker(): Promise<void> {
    const id = this.stack.workerIds[this.kills % this.stack.workerIds.length]!;
    this.kills += 1;
    const [all, own] = await Promise.all([this.queueDepth(), this.queueDepth(`-${id}`)]);
    await this.stack.killWorker(id);
    this.note(`SIGKILL worker ${id} (its own queue: active ${own.active}, waiting ${own.waiting}; all queues: active ${all.active}, waiting ${all.waiting})`);
    await sleep(this.plan.workerRestartDelayMs ?? 2000);
    if (this.stack.stopping) return;
    await this.stack.startWorker(id);
    this.note(`worker ${id} started again under the same id`);
  }

  async restartRedis(): Promise<void> {
    const before = await this.queueDepth();
    await this.stack.redis.stop();
    this.note(`redis stopped (SIGTERM; queues had waiting ${before.waiting}, active ${before.active}, delayed ${before.delayed})`);
    await sleep(this.plan.redisDownMs ?? 3000);
    if (this.stack.stopping) return;
    await this.stack.redis.start();
    const after = await this.queueDepth();
    this.note(`redis started on its AOF (queues: waiting ${after.waiting}, active ${after.active}, delayed ${after.delayed})`);
  }

  async postgresOutage(): Promise<void> {
    await this.stack.postgres.stop();
    this.note(`postgres stopped (pg_ctl stop -m fast) for ${this.plan.postgresOutageS} s`);
    await sleep(this.plan.postgresOutageS * 1000);
    if (this.stack.stopping) return;
    await this.stack.postgres.start();
    this.note('postgres started again');
  }

  /**
   * Job counts straight from Redis, summed over every invocation queue (the
   * shared one and each worker's own, `invocations-<workerId>`), or only the
   * queues whose name ends with `only`. −1 when Redis does not answer.
   */
  async queueDepth(only?: string): Promise<QueueDepth> {
    const client = new Redis({ port: this.stack.redis.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    const sum = async (suffix: string, count: (key: string) => Promise<number>) => {
      const keys = (await client.keys(`${this.stack.prefix}:invocations*:${suffix}`)).filter((k) => !only || k.endsWith(`${only}:${suffix}`));
      return (await Promise.all(keys.map(count))).reduce((a, b) => a + b, 0);
    };
    try {
      const [wait, prioritized, active, delayed, failed] = await Promise.all([
        sum('wait', (k) => client.llen(k)),
        sum('prioritized', (k) => client.zcard(k)),
        sum('active', (k) => client.llen(k)),
        sum('delayed', (k) => client.zcard(k)),
        sum('failed', (k) => client.zcard(k)),
      ]);
      return { waiting: wait + prioritized, active, delayed, failed };
    } catch {
      return { waiting: -1, active: -1, delayed: -1, failed: -1 };
    } finally {
      client.disconnect();
    }
  }
}
