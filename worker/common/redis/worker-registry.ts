/**
 * Where workers tell everyone they are alive and what they hold: each worker
 * writes a report (its pool by state and runtime, its memory) into one Redis
 * hash every few seconds. Readers ignore reports older than `STALE_MS`, so a
 * worker that died drops out on its own.
 */
import type { Redis } from 'ioredis';
import { REPORT_INTERVAL_MS, STALE_MS, type WorkerReport } from '../../contract/worker-report.ts';

const key = (prefix: string) => `${prefix}:workers`;
/** Every worker id that ever reported: the reaper finds dead workers' queues here. */
const idsKey = (prefix: string) => `${prefix}:worker-ids`;

export interface WorkerRegistry {
  /** Live workers' latest reports. */
  list(): Promise<WorkerReport[]>;
  /** Ids of every worker that has reported, live or not. */
  knownIds(): Promise<string[]>;
  forget(workerId: string): Promise<void>;
  /** Takes (or keeps) a lease named `name` for `ttlMs` if nobody else holds it. */
  tryLead(name: string, holder: string, ttlMs: number): Promise<boolean>;
}

/** The registry as gateways read it, over `redis`, a commands connection its owner closes. */
export function createWorkerRegistry(redis: Redis, prefix: string): WorkerRegistry {
  return {
    async list() {
      const all = await redis.hgetall(key(prefix));
      const now = Date.now();
      const reports: WorkerReport[] = [];
      for (const [id, text] of Object.entries(all)) {
        try {
          const report = JSON.parse(text) as WorkerReport;
          if (now - Date.parse(report.seenAt) <= STALE_MS) reports.push(report);
          else await redis.hdel(key(prefix), id);
        } catch {
          await redis.hdel(key(prefix), id);
        }
      }
      return reports.sort((a, b) => a.workerId.localeCompare(b.workerId));
    },
    knownIds() {
      return redis.smembers(idsKey(prefix));
    },
    async forget(workerId) {
      await redis.srem(idsKey(prefix), workerId);
    },
    async tryLead(name, holder, ttlMs) {
      const leaseKey = `${prefix}:lease:${name}`;
      if ((await redis.set(leaseKey, holder, 'PX', ttlMs, 'NX')) === 'OK') return true;
      if ((await redis.get(leaseKey)) !== holder) return false;
      await redis.pexpire(leaseKey, ttlMs);
      return true;
    },
  };
}

/** A worker's side: where it says it is alive. */
export interface WorkerReports {
  /** Writes `report()` now and every REPORT_INTERVAL_MS; `stop` removes the entry. */
  start(workerId: string, report: () => WorkerReport): { stop(): Promise<void> };
}

/** Reports over `redis`, a commands connection its owner closes. */
export function createWorkerReports(redis: Redis, prefix: string): WorkerReports {
  return {
    start(workerId, report) {
      // A write lost while Redis is away is made again at the next interval (the client logs the outage).
      const send = () => redis.hset(key(prefix), workerId, JSON.stringify(report())).catch(() => {});
      void redis.sadd(idsKey(prefix), workerId).catch(() => {});
      void send();
      const timer = setInterval(send, REPORT_INTERVAL_MS);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await redis.hdel(key(prefix), workerId).catch(() => {});
        },
      };
    },
  };
}
