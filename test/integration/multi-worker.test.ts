/**
 * Two workers on one Redis, Postgres and Docker engine: calls to a version
 * stay warm on one worker, different functions spread over both, and a worker
 * SIGKILLed mid-run loses nothing (its calls move to the other worker).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRECTORY_REFRESH_MS } from '../../gateway/invoke/worker-directory.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { DockerContainerRuntime } from '../../worker/engine/docker-container-runtime.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor, waitUntil } from '../helpers/wait.ts';

const APP = `exports.handler = async (e) => { if (e.sleepMs) await new Promise((r) => setTimeout(r, e.sleepMs)); return e.seq ?? 'ok'; };`;


describe('several workers', () => {
  let platform: Platform;
  const second = `test-second-${Math.random().toString(36).slice(2, 8)}`;
  const workersSeen = async (ids: string[]) =>
    (await platform.database.pool.query<{ worker_id: string }>('select worker_id from invocations where id = any($1::uuid[])', [ids])).rows.map(
      (r) => r.worker_id,
    );

  beforeAll(async () => {
    platform = await startPlatform();
    await platform.startExtraWorker(second);
    // Both must have reported before routing can choose between them.
    expect(await waitUntil(async () => (await (await platform.api('/v1/workers')).json()).workers.length === 2, 10_000)).toBe(true);
    // GET /v1/workers reads the registry; routing reads the gateway's copy of it, refreshed on a timer.
    await new Promise((r) => setTimeout(r, 2 * DIRECTORY_REFRESH_MS));
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('keeps repeated calls of one function warm on one worker', async () => {
    const name = uniqueName('sticky');
    await deploy(platform, name, { bytes: Buffer.from(APP), filename: 'index.js' }, { runtime: 'nodejs20' });
    const ids: string[] = [];
    const kinds: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await invoke(platform, name, {});
      ids.push(res.headers.get('x-invocation-id')!);
      kinds.push(res.headers.get('x-start-kind')!);
    }
    for (const id of ids) await recordOf(platform, id);
    expect(new Set(await workersSeen(ids)).size).toBe(1);
    expect(kinds.filter((k) => k !== 'warm')).toHaveLength(1);
    // Workers report what they hold every couple of seconds.
    type Listed = { warm: Array<{ functionName: string }> };
    let holder: Listed | undefined;
    await waitUntil(async () => {
      const workers: Listed[] = (await (await platform.api('/v1/workers')).json()).workers;
      holder = workers.find((w) => w.warm.some((e) => e.functionName === name));
      return holder !== undefined;
    }, 6000);
    expect(holder).toBeDefined();
    expect(holder).toMatchObject({ concurrency: 8, runtimes: expect.arrayContaining(['nodejs20', 'python3']) });
  });

  it('spreads different functions over both workers', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const name = uniqueName(`spread${i}`);
      await deploy(platform, name, { bytes: Buffer.from(`${APP}\n// ${i}`), filename: 'index.js' }, { runtime: 'nodejs20' });
      ids.push((await invoke(platform, name, {})).headers.get('x-invocation-id')!);
    }
    for (const id of ids) await recordOf(platform, id);
    expect(new Set(await workersSeen(ids))).toEqual(new Set([platform.workerId, second]));
  });

  describe('a worker killed mid-run', () => {
    let child: ChildProcess;
    let stateDir: string;
    const victim = `test-victim-${Math.random().toString(36).slice(2, 8)}`;
    beforeAll(async () => {
      stateDir = await mkdtemp(join(tmpdir(), 'hearth-victim-'));
      child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: platform.databaseUrl,
          REDIS_URL: platform.redisUrl,
          HEARTH_QUEUE_PREFIX: platform.prefix,
          HEARTH_WORKER_ID: victim,
          HEARTH_STATE_DIR: stateDir,
          // The platform's key ring: the functions' environments are sealed with it.
          HEARTH_SECRETS_KEY_FILE: platform.secretsKey.source.file!,
          HEARTH_PREWARM: '',
          HEARTH_METRICS_PORT: '0',
          HEARTH_WORKER_CONCURRENCY: '8',
        },
        stdio: 'ignore',
      });
      expect(
        await waitUntil(async () => (await (await platform.api('/v1/workers')).json()).workers.some((w: { workerId: string }) => w.workerId === victim), 20_000),
      ).toBe(true);
    });
    afterAll(async () => {
      child?.kill('SIGKILL');
      // A killed worker cannot remove its containers; its next start would (removeLeftovers). Do that here.
      const runtime = new DockerContainerRuntime();
      const left = await runtime.list({ [SANDBOX_LABELS.managed]: 'true', [SANDBOX_LABELS.worker]: victim });
      await Promise.all(left.map((id) => runtime.remove(id)));
      await rm(stateDir, { recursive: true, force: true });
    });

    it('loses nothing: its calls are recovered by the others, each recorded once', async () => {
      // Functions whose home is the victim, found by asking where their first call ran.
      const names: string[] = [];
      for (let i = 0; names.length < 3 && i < 30; i++) {
        const name = uniqueName(`victim${i}`);
        await deploy(platform, name, { bytes: Buffer.from(`${APP}\n// v${i}`), filename: 'index.js' }, { runtime: 'nodejs20', timeoutMs: 10_000 });
        const id = (await invoke(platform, name, {})).headers.get('x-invocation-id')!;
        await recordOf(platform, id);
        if ((await workersSeen([id]))[0] === victim) names.push(name);
      }
      expect(names.length).toBe(3);

      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await invoke(platform, names[i % names.length]!, { seq: i, sleepMs: 300 }, '?async=true');
        expect(res.status).toBe(202);
        ids.push((await res.json()).invocationId);
      }
      // Killed mid-run: once it is running some of them, with the rest still queued.
      const running = async (id: string) => (await (await platform.api(`/v1/invocations/${id}`)).json()).status === 'running';
      await waitFor('the victim to be running a call', async () => (await Promise.all(ids.slice(0, 8).map(running))).some(Boolean), 20_000, 20);
      child.kill('SIGKILL');

      // Reports stop; once it is stale the reaper moves its calls (queued, and running ones whose locks expire).
      expect(
        await waitUntil(async () => {
          await platform.reapDeadWorkers();
          const { rows } = await platform.database.pool.query('select count(*)::int as n from invocations where id = any($1::uuid[])', [ids]);
          return rows[0].n === ids.length;
        }, 60_000),
      ).toBe(true);
      const { rows } = await platform.database.pool.query<{ id: string; n: number; status: string }>(
        'select id, count(*)::int as n, min(status) as status from invocations where id = any($1::uuid[]) group by id',
        [ids],
      );
      expect(rows).toHaveLength(ids.length);
      for (const row of rows) expect(row).toMatchObject({ n: 1, status: 'succeeded' });
      const after = await workersSeen(ids);
      expect(after.some((w) => w !== victim)).toBe(true);
      // Later calls to the same functions go to a live worker.
      const res = await invoke(platform, names[0]!, { seq: 'after' });
      expect(res.status).toBe(200);
      expect(await res.json()).toBe('after');
    }, 90_000);
  });
});
