/**
 * What the soak samples at the end of each window (the load goes on): each
 * platform process's RSS (`/proc/PID/status`), V8 heap (written by
 * `soak-heap-preload.mjs`) and open file descriptors (`/proc/PID/fd`);
 * Redis `used_memory` (the whole server's: shared with whatever else uses
 * it) and the number of keys under the soak's queue prefix; the size of `invocations` summed over its partitions
 * (`pg_partition_tree`), with its indexes, and of `invocation_rollups`
 * with its dead and hot-updated tuples and last autovacuum; and the soak
 * worker's containers (`docker ps` by the hearth worker label).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import type { SoakStack } from './soak-stack.ts';

export interface ProcessSample {
  rssMb: number;
  heapUsedMb: number | null;
  heapTotalMb: number | null;
  fds: number;
}

export interface PlatformSample {
  gateway: ProcessSample;
  worker: ProcessSample;
  redisUsedMb: number;
  redisKeys: number;
  invocationsTableMb: number;
  invocationsIndexMb: number;
  invocationsPartitions: number;
  rollupsTableMb: number;
  rollupRows: number;
  rollupDeadRows: number;
  rollupHotUpdates: number;
  rollupLastAutovacuum: string | null;
  containers: number;
}

const MB = 2 ** 20;

function processSample(pid: number | undefined, heapDir: string): ProcessSample {
  if (pid === undefined) return { rssMb: Number.NaN, heapUsedMb: null, heapTotalMb: null, fds: Number.NaN };
  let rssMb = Number.NaN;
  let fds = Number.NaN;
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (kb) rssMb = Number(kb[1]) / 1024;
    fds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // The process ended.
  }
  let heapUsedMb: number | null = null;
  let heapTotalMb: number | null = null;
  try {
    const heap = JSON.parse(readFileSync(join(heapDir, `${pid}.json`), 'utf8')) as { heapUsed: number; heapTotal: number };
    heapUsedMb = heap.heapUsed / MB;
    heapTotalMb = heap.heapTotal / MB;
  } catch {
    // Not written yet.
  }
  return { rssMb, heapUsedMb, heapTotalMb, fds };
}

export class PlatformProbe {
  private readonly redis: Redis;

  constructor(private readonly stack: SoakStack, redisUrl: string) {
    this.redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
    this.redis.on('error', () => {});
  }

  async sample(): Promise<PlatformSample> {
    const pids = this.stack.pids();
    const info = await this.redis.info('memory').catch(() => '');
    const used = /used_memory:(\d+)/.exec(info);
    let redisKeys = 0;
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.stack.prefix}:*`, 'COUNT', 5000);
        cursor = next;
        redisKeys += keys.length;
      } while (cursor !== '0');
    } catch {
      redisKeys = Number.NaN;
    }
    const db = this.stack.records;
    const inv = await db.query<{ table_bytes: string; index_bytes: string; parts: string }>(
      `select coalesce(sum(pg_total_relation_size(relid)), 0) as table_bytes,
              coalesce(sum(pg_indexes_size(relid)), 0) as index_bytes,
              count(*) filter (where isleaf) as parts
         from pg_partition_tree('invocations')`,
    );
    const roll = await db.query<{ bytes: string; live: string; dead: string; hot: string; vac: Date | null }>(
      `select pg_total_relation_size('invocation_rollups') as bytes, n_live_tup as live, n_dead_tup as dead,
              n_tup_hot_upd as hot, greatest(last_autovacuum, last_vacuum) as vac
         from pg_stat_user_tables where relname = 'invocation_rollups'`,
    );
    const containers = await this.stack.docker
      .listContainers({ filters: { label: [`${SANDBOX_LABELS.worker}=${this.stack.workerId}`] } })
      .then((l) => l.length, () => Number.NaN);
    const r = roll.rows[0];
    return {
      gateway: processSample(pids.gateway, this.stack.heapDir),
      worker: processSample(pids.worker, this.stack.heapDir),
      redisUsedMb: used ? Number(used[1]) / MB : Number.NaN,
      redisKeys,
      invocationsTableMb: Number(inv.rows[0]?.table_bytes ?? 0) / MB,
      invocationsIndexMb: Number(inv.rows[0]?.index_bytes ?? 0) / MB,
      invocationsPartitions: Number(inv.rows[0]?.parts ?? 0),
      rollupsTableMb: Number(r?.bytes ?? 0) / MB,
      rollupRows: Number(r?.live ?? 0),
      rollupDeadRows: Number(r?.dead ?? 0),
      rollupHotUpdates: Number(r?.hot ?? 0),
      rollupLastAutovacuum: r?.vac ? r.vac.toISOString() : null,
      containers,
    };
  }

  close(): void {
    this.redis.disconnect();
  }
}
