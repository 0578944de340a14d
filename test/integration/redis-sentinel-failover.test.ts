/**
 * Redis failover through Sentinel, for real: a gateway and a worker (in this
 * process, real Docker and Postgres) reach Redis only through three
 * Sentinels watching a master and one replica. In the middle of a steady
 * async load, with sync calls beside it, the master is SIGKILLed — and then,
 * once the killed server is back as a replica, the next master is frozen
 * (SIGSTOP: its connections stay open and silent, as behind a partition) and
 * thawed after the Sentinels promoted its replica. Each async call is sent
 * with an Idempotency-Key and sent again while the gateway answers 503, as a
 * client should: every call must end with exactly one record and have run
 * once, and sync calls must succeed again soon after the promotion. Prints
 * what it measured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { RedisSentinelSet, type SwitchSeen } from '../helpers/redis-sentinel-set.ts';
import { sleep, waitFor, waitUntil } from '../helpers/wait.ts';

/** Takes a little time, so some calls are running when the master goes. */
const APP = `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.sleepMs ?? 0)); return { seq: e.seq }; };`;

const ASYNC_CALLS = 300;
const ASYNC_PER_SECOND = 30;
/** The fault comes once this many async calls were sent (4 s into the load). */
const FAULT_AFTER = 120;
const SYNC_EVERY_MS = 100;
const RETRY_503_MS = 200;

interface SyncTry {
  startedAt: number;
  endedAt: number;
  status: number;
  id: string | null;
  /** A 503 that says the call may have been queued (an add sent, not confirmed in time). */
  mayHaveQueued: boolean;
}

interface Fault {
  port: number;
  at: number;
}

describe('Redis failover through Sentinel', () => {
  let set: RedisSentinelSet;
  let platform: Platform;
  let name: string;
  /** Records of the function before a run, so each run counts its own. */
  let recordsBefore = 0;
  let runsBefore = 0;
  /** Ids of the calls answered so far (their records are expected). */
  const known = new Set<string>();

  const call = (event: unknown, headers: Record<string, string> = {}, query = '') =>
    platform.api(`/v1/functions/${name}/invoke${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(event),
      // A call the platform holds this long counts as failed (status 0), and the next one goes.
      signal: AbortSignal.timeout(20_000),
    });
  const recordsOfFunction = async () =>
    (await platform.database.pool.query<{ n: number }>(`select count(*)::int as n from invocations where namespace = 'default' and function_name = $1`, [name]))
      .rows[0]!.n;
  /** Calls the worker ran, as its Prometheus counter says (a call run twice is still recorded once: insert-or-ignore). */
  const runsOfFunction = async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${platform.worker.metricsPort}/metrics`)).text();
    return metrics
      .split('\n')
      .filter((line) => line.startsWith('hearth_invocations_total{') && line.includes(`function="default/${name}"`))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  };
  const recordsOf = async (ids: string[]) =>
    (
      await platform.database.pool.query<{ id: string; n: number; status: string }>(
        'select id::text, count(*)::int as n, min(status) as status from invocations where id = any($1::uuid[]) group by id',
        [ids],
      )
    ).rows;

  /**
   * Runs the load, brings `fault` on after `FAULT_AFTER` async calls, and
   * checks the records once every call is answered; returns what it measured.
   * `onResumed` runs (load still going) once a sync call succeeded after the
   * Sentinels' switch.
   */
  const throughFault = async (label: string, fault: () => Promise<Fault>, onResumed?: () => void) => {
    const accepted = new Map<number, string>();
    const retriesOf503 = { calls: 0, tries: 0 };
    const syncTries: SyncTry[] = [];
    let loadDone = false;

    const syncLoop = (async () => {
      for (let seq = 0; !loadDone; seq++) {
        const startedAt = Date.now();
        const res = await call({ seq: `${label}-sync-${seq}` }).catch(() => null);
        const body = res ? await res.text() : '';
        const id = res?.headers.get('x-invocation-id') ?? null;
        syncTries.push({ startedAt, endedAt: Date.now(), status: res?.status ?? 0, id, mayHaveQueued: body.includes('may or may not have been queued') });
        await sleep(SYNC_EVERY_MS);
      }
    })();
    /** One async call, sent again under the same key while the gateway answers 503 (as the 503 asks). */
    const sendAsync = async (seq: number) => {
      const giveUpAt = Date.now() + 30_000;
      for (let tries = 0; ; tries++) {
        const res = await call({ seq, sleepMs: 30 }, { 'idempotency-key': `${label}-${seq}` }, '?async=true').catch(() => null);
        if (res?.status === 202) {
          accepted.set(seq, (await res.json()).invocationId);
          if (tries > 0) retriesOf503.calls++;
          return;
        }
        const text = res ? await res.text() : 'no answer';
        if (res && res.status !== 503) throw new Error(`async call ${seq}: ${res.status} ${text}`);
        if (Date.now() > giveUpAt) throw new Error(`async call ${seq} still refused after ${tries + 1} tries in 30 s: ${text}`);
        retriesOf503.tries++;
        await sleep(RETRY_503_MS);
      }
    };

    let resumed: Promise<{ at: Fault; switched: SwitchSeen }> | null = null;
    const sent: Promise<void>[] = [];
    const start = Date.now();
    for (let seq = 0; seq < ASYNC_CALLS; seq++) {
      const due = start + (seq * 1000) / ASYNC_PER_SECOND;
      if (due > Date.now()) await sleep(due - Date.now());
      if (seq === FAULT_AFTER) {
        const at = await fault();
        resumed = (async () => {
          const switched = await set.switchAfter(at.at);
          await waitFor('a sync call to succeed after the promotion', () => syncTries.some((t) => t.startedAt > switched.at && t.status === 200), 30_000, 20).catch(
            (err: unknown) => {
              const timeline = syncTries.filter((t) => t.endedAt >= at.at).map((t) => `${t.startedAt - at.at}+${t.endedAt - t.startedAt}:${t.status}`);
              throw new Error(`${(err as Error).message}; switch ${switched.at - at.at} ms after the fault; sync tries since: ${timeline.join(' ')}`);
            },
          );
          onResumed?.();
          return { at, switched };
        })();
        // Not left unhandled while the load goes on; awaited below.
        resumed.catch(() => {});
      }
      sent.push(sendAsync(seq));
    }
    // A call given up on fails the run, but only once the promotion was waited for (its error says more).
    const given = await Promise.allSettled(sent);
    expect(resumed).not.toBeNull();
    await resumed!;
    for (const outcome of given) if (outcome.status === 'rejected') throw outcome.reason;
    const { at, switched } = await resumed!;
    loadDone = true;
    await syncLoop;

    // Every call ends with one record: the observable state, Postgres.
    const ids = [...accepted.values()];
    const allRecorded = await waitUntil(async () => (await recordsOf(ids)).length === ids.length, 45_000, 250);
    const rows = await recordsOf(ids);
    const recorded = new Set(rows.map((r) => r.id));
    const syncOk = syncTries.filter((t) => t.status === 200 && t.id);
    const syncRows = await recordsOf(syncOk.map((t) => t.id!));
    const failedSync = syncTries.filter((t) => t.status !== 200);
    // Once every call is recorded, the worker's count of runs settles too.
    const records = (await recordsOfFunction()) - recordsBefore;
    for (const id of [...ids, ...syncOk.map((t) => t.id!)]) known.add(id);
    const { rows: extras } = await platform.database.pool.query(
      `select id, mode, status, error_code, worker_id, result from invocations where namespace = 'default' and function_name = $1 and not (id = any($2::uuid[]))`,
      [name, [...known]],
    );
    await waitUntil(async () => (await runsOfFunction()) - runsBefore >= records, 5000);
    const runs = (await runsOfFunction()) - runsBefore;
    recordsBefore += records;
    runsBefore += runs;
    const firstOk = syncTries.find((t) => t.startedAt > at.at && t.status === 200)!;
    // Where the first answer after the fault spent its time: waiting to start, or between its end and the answer.
    const { rows: firstRows } = await platform.database.pool.query<{ queue_wait_ms: number; queued_at: Date; finished_at: Date }>(
      'select queue_wait_ms, queued_at, finished_at from invocations where id = $1',
      [firstOk.id],
    );
    const first = firstRows[0];
    const report = {
      fault: label,
      asyncCalls: ASYNC_CALLS,
      accepted: accepted.size,
      acceptedAfter503: retriesOf503.calls,
      retriesOf503: retriesOf503.tries,
      distinctIds: new Set(ids).size,
      lost: ids.filter((id) => !recorded.has(id)).length,
      duplicated: rows.filter((r) => r.n > 1).length,
      notSucceeded: rows.filter((r) => r.status !== 'succeeded').length,
      records,
      runs,
      syncCalls: syncTries.length,
      syncOk: syncOk.length,
      syncFailed: failedSync.length,
      syncFailedStatuses: [...new Set(failedSync.map((t) => t.status))],
      syncMayHaveQueued: failedSync.filter((t) => t.mayHaveQueued).length,
      sentinelSwitchMs: switched.at - at.at,
      syncResumedMs: firstOk.endedAt - at.at,
      longestSyncFailureMs: Math.max(0, ...failedSync.map((t) => t.endedAt - t.startedAt)),
      // Sync tries from the fault on: start (ms after it) + time taken : status.
      firstAnswerAfterFault: first && {
        sentMs: firstOk.startedAt - at.at,
        queuedMs: first.queued_at.getTime() - at.at,
        queueWaitMs: first.queue_wait_ms,
        answeredAfterFinishMs: firstOk.endedAt - first.finished_at.getTime(),
      },
      extraRecords: extras.slice(0, 5),
      syncTimeline: syncTries.filter((t) => t.endedAt >= at.at && t.startedAt <= firstOk.endedAt).map((t) => `${t.startedAt - at.at}+${t.endedAt - t.startedAt}:${t.status}`),
    };
    console.log(`redis sentinel failover: ${JSON.stringify(report)}`);

    expect(allRecorded, `${report.lost} accepted calls have no record`).toBe(true);
    expect(report).toMatchObject({ accepted: ASYNC_CALLS, distinctIds: ASYNC_CALLS, lost: 0, duplicated: 0, notSucceeded: 0 });
    expect(syncRows.length).toBe(syncOk.length);
    expect(syncRows.every((r) => r.n === 1)).toBe(true);
    // Sync calls fail only as the platform says it may (503) while Redis is away.
    expect(failedSync.every((t) => t.status === 503)).toBe(true);
    // The records are the async calls, the sync calls answered, and at most the sync calls whose 503 said they may have been queued.
    expect(records).toBeGreaterThanOrEqual(ASYNC_CALLS + syncOk.length);
    expect(records).toBeLessThanOrEqual(ASYNC_CALLS + syncOk.length + report.syncMayHaveQueued);
    // No call ran twice: the worker ran as many calls as there are records.
    expect(runs).toBe(records);
    expect(switched.from).toBe(at.port);
    expect(report.syncResumedMs).toBeLessThan(15_000);
    return { report, switched };
  };

  beforeAll(async () => {
    set = await RedisSentinelSet.start({ appendfsync: 'everysec', downAfterMs: 1000, failoverTimeoutMs: 5000 });
    platform = await startPlatform({
      // Once Sentinels are given, only the password and db of the URL count.
      redisUrl: `redis://127.0.0.1:${await set.masterPort()}`,
      redisSentinel: { sentinels: set.sentinels, name: set.name },
      concurrency: 8,
    });
    name = uniqueName('sentinel');
    const res = await deploy(platform, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20', timeoutMs: 10_000 });
    expect(res.status).toBe(201);
    // Warm before the load: the failover, not a cold start, is what is timed.
    const warm = await call({ seq: 'warm-up' });
    expect(warm.status).toBe(200);
    known.add(warm.headers.get('x-invocation-id')!);
    // Counted when it answers, recorded just after: both before the baselines are read.
    await waitFor('the warm-up counted and recorded', async () => (await runsOfFunction()) === 1 && (await recordsOfFunction()) === 1, 5000);
    recordsBefore = await recordsOfFunction();
    runsBefore = await runsOfFunction();
  }, 60_000);

  afterAll(async () => {
    // A run that failed may leave a server frozen, and the platform's clients on it: thawed first, and the
    // platform given a bounded time to stop, so the set's processes are always ended.
    set?.thawAll();
    if (platform && name) await platform.api(`/v1/functions/${name}`, { method: 'DELETE' }).catch(() => {});
    await Promise.race([platform?.stop(), sleep(20_000)]).catch(() => {});
    await set?.stop();
  }, 60_000);

  it('a master SIGKILLed mid-load: no call lost or run twice, sync calls resume after the promotion', async () => {
    const { switched } = await throughFault('killed', () => set.killMaster());
    // The killed server comes back as a replica of the new master, ready for the next failover.
    await set.restartServer(switched.from);
  }, 75_000);

  it('a master frozen mid-load (connections open, silent) and thawed once calls resumed: no call lost or run twice', async () => {
    // Only with a replica to promote (the killed server back, in sync): else this would wait for a failover that cannot come.
    const replica = await set.replicaPort();
    expect(replica).not.toBeNull();
    await set.replicaInSync(replica!, 10_000);
    let frozen: Awaited<ReturnType<RedisSentinelSet['freezeMaster']>> | null = null;
    await throughFault(
      'frozen',
      async () => (frozen = await set.freezeMaster()),
      // The partition heals with the load still going: the old master comes back believing it is the
      // master until the Sentinels demote it, and no client of the platform may still be talking to it.
      () => frozen!.thaw(),
    );
    // Nothing of the platform went back to the old master once it answered again.
    const old = set.switchesSeen.at(-1)!.from;
    expect(await set.otherClientsOn(old)).toEqual([]);
  }, 75_000);
});
