/**
 * The warm pool on the real engine: pre-warmed hand-off and replenishment,
 * one function per container for life, minWarm, maxConcurrency with 429,
 * per-function keep-alive, and eviction under the worker's memory budget.
 */
import Dockerode from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName, type DeployFields } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform, type PlatformOptions } from '../helpers/platform.ts';
import { waitUntil } from '../helpers/wait.ts';

const docker = new Dockerode();
/** Each container answers with an id drawn when its process started, so tests can tell containers apart. */
const WHOAMI = `
const boot = Math.random().toString(36).slice(2);
exports.handler = async (event, context) => {
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { boot, fn: context.functionName, env: process.env.AWS_LAMBDA_FUNCTION_NAME };
};
`;


describe('warm pool', () => {
  let platform: Platform | undefined;
  const start = async (options: PlatformOptions) => {
    platform = await startPlatform(options);
    return platform;
  };
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
    await platform?.stop();
    platform = undefined;
  });
  const deployWhoami = (p: Platform, name: string, fields: Partial<DeployFields> = {}) =>
    deploy(p, name, { bytes: Buffer.from(WHOAMI), filename: 'index.js' }, { runtime: 'nodejs20', ...fields }).then(async (res) => {
      expect(res.status, await res.clone().text()).toBe(201);
    });
  const prewarmedContainers = (p: Platform) =>
    docker.listContainers({ filters: { label: [`io.hearth.worker=${p.workerId}`, 'io.hearth.prewarmed=true'] } });

  it('hands a pre-warmed container to a new function, then replenishes the pool', async () => {
    const p = await start({ prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 2 }] });
    expect(await waitUntil(() => p.worker.stats().prewarmed === 2, 10_000)).toBe(true);
    expect(await prewarmedContainers(p)).toHaveLength(2);

    const name = uniqueName('pw');
    await deployWhoami(p, name);
    const first = await invoke(p, name, {});
    expect(first.status).toBe(200);
    expect(first.headers.get('x-start-kind')).toBe('prewarmed');
    expect(first.headers.get('x-cold-start')).toBe('true');
    expect((await first.json()).fn).toBe(name);
    const record = await recordOf(p, first.headers.get('x-invocation-id'));
    expect(record.startKind).toBe('prewarmed');
    expect(record.timings.initMs).toBeGreaterThan(0);

    // A replacement starts in the background: two idle pre-warmed again, plus the claimed one.
    expect(await waitUntil(() => p.worker.stats().prewarmed === 2, 10_000)).toBe(true);
    expect(await prewarmedContainers(p)).toHaveLength(3);
    const second = await invoke(p, name, {});
    expect(second.headers.get('x-start-kind')).toBe('warm');
  });

  it('never lets two functions share a pre-warmed container', async () => {
    const p = await start({ prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] });
    expect(await waitUntil(() => p.worker.stats().prewarmed === 1, 10_000)).toBe(true);
    const [a, b] = [uniqueName('share-a'), uniqueName('share-b')];
    await deployWhoami(p, a);
    await deployWhoami(p, b);
    const fromA = await (await invoke(p, a, {})).json();
    expect(await waitUntil(() => p.worker.stats().prewarmed === 1, 10_000)).toBe(true);
    const bFirst = await invoke(p, b, {});
    expect(bFirst.headers.get('x-start-kind')).toBe('prewarmed');
    const fromB = await bFirst.json();
    expect(fromB.boot).not.toBe(fromA.boot);
    for (let i = 0; i < 3; i++) {
      const againA = await (await invoke(p, a, {})).json();
      const againB = await (await invoke(p, b, {})).json();
      expect(againA).toEqual({ boot: fromA.boot, fn: a, env: a });
      expect(againB).toEqual({ boot: fromB.boot, fn: b, env: b });
    }
  });

  it('keeps minWarm containers initialised, so even the first call is warm', async () => {
    const p = await start({ keepAliveMs: 1000 });
    const name = uniqueName('provisioned');
    // The run's database is shared: leave nothing provisioned for later tests' workers.
    cleanups.push(() => p.api(`/v1/functions/${name}`, { method: 'DELETE' }));
    await deployWhoami(p, name, { minWarm: 2 });
    const labelled = () => docker.listContainers({ filters: { label: [`io.hearth.worker=${p.workerId}`, `io.hearth.function=${name}`] } });
    expect(await waitUntil(async () => (await labelled()).length === 2 && p.worker.stats().warm === 2, 15_000)).toBe(true);
    const first = await invoke(p, name, {});
    expect(first.headers.get('x-start-kind')).toBe('warm');
    expect(first.headers.get('x-cold-start')).toBe('false');
    // Past the keep-alive, provisioned containers stay.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await labelled()).toHaveLength(2);

    // A new version moves the provisioning to it; the old version's containers expire.
    await deployWhoami(p, name, { minWarm: 1 });
    const details = await (await p.api(`/v1/functions/${name}`)).json();
    expect(details.latestVersion).toBe(2);
    expect(
      await waitUntil(async () => {
        const containers = await labelled();
        return containers.length === 1 && containers[0]!.Labels['io.hearth.version'] === '2';
      }, 15_000),
    ).toBe(true);
    expect((await invoke(p, name, {})).headers.get('x-start-kind')).toBe('warm');
  });

  it('gives up on a provisioned container whose code never finishes loading, and keeps provisioning the others', { timeout: 60_000 }, async () => {
    const p = await start({});
    const hang = uniqueName('provisioned-hang');
    const fine = uniqueName('provisioned-fine');
    cleanups.push(() => p.api(`/v1/functions/${hang}`, { method: 'DELETE' }));
    cleanups.push(() => p.api(`/v1/functions/${fine}`, { method: 'DELETE' }));
    const never = 'await new Promise(() => {});\nexport const handler = async () => "unreachable";\n';
    const res = await deploy(p, hang, { bytes: Buffer.from(never), filename: 'index.mjs' }, { runtime: 'nodejs20', minWarm: 1 });
    expect(res.status, await res.clone().text()).toBe(201);
    await deployWhoami(p, fine, { minWarm: 1 });
    // The stuck init is abandoned after the init limit (10 s); then the other function's container is provisioned.
    const labelled = (name: string) => docker.listContainers({ filters: { label: [`io.hearth.worker=${p.workerId}`, `io.hearth.function=${name}`] } });
    expect(await waitUntil(async () => (await labelled(fine)).length === 1 && p.worker.stats().warm >= 1, 40_000)).toBe(true);
    expect((await invoke(p, fine, {})).headers.get('x-start-kind')).toBe('warm');
  });

  it('honours a per-function keep-alive shorter than the worker default', async () => {
    const p = await start({ keepAliveMs: 60_000 });
    const [quick, slow] = [uniqueName('ka-quick'), uniqueName('ka-slow')];
    await deployWhoami(p, quick, { keepAliveMs: 1000 });
    await deployWhoami(p, slow);
    await invoke(p, quick, {});
    await invoke(p, slow, {});
    expect(p.worker.stats().warm).toBe(2);
    expect(await waitUntil(() => p.worker.stats().warm === 1, 5000)).toBe(true);
    expect((await invoke(p, slow, {})).headers.get('x-start-kind')).toBe('warm');
    expect((await invoke(p, quick, {})).headers.get('x-start-kind')).toBe('cold');
  });

  it('queues calls beyond maxConcurrency and answers 429 Throttled to a sync caller that waited too long', async () => {
    const p = await start({ throttleWaitMs: 400 });
    const name = uniqueName('limited');
    await deployWhoami(p, name, { maxConcurrency: 1, timeoutMs: 5000 });
    await invoke(p, name, {}); // warm it

    const busy = invoke(p, name, { sleepMs: 1500 });
    expect(await waitUntil(() => p.worker.stats().busy === 1, 5000, 10)).toBe(true);
    const throttled = await invoke(p, name, {});
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    const body = await throttled.json();
    expect(body.error.code).toBe('Throttled');
    expect(body.error.message).toContain('maxConcurrency (1)');
    expect((await busy).status).toBe(200);

    const record = await recordOf(p, throttled.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'throttled', error: { code: 'Throttled' } });

    // Async calls wait their turn instead: three of them never overlap.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await (await invoke(p, name, { sleepMs: 300 }, '?async=true')).json()).invocationId);
    expect(
      await waitUntil(async () => {
        const { rows } = await p.database.pool.query('select count(*)::int as n from invocations where id = any($1::uuid[])', [ids]);
        return rows[0].n === 3;
      }, 15_000),
    ).toBe(true);
    const { rows } = await p.database.pool.query<{ started_at: Date; finished_at: Date; status: string }>(
      'select started_at, finished_at, status from invocations where id = any($1::uuid[]) order by started_at',
      [ids],
    );
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.started_at.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.finished_at.getTime() - 5);
  });

  it('evicts the least recently used idle container of another function when the memory budget is full', async () => {
    const p = await start({ memoryBudgetMb: 256 });
    const [a, b, c] = [uniqueName('lru-a'), uniqueName('lru-b'), uniqueName('lru-c')];
    for (const name of [a, b, c]) await deployWhoami(p, name);
    const bootA = (await (await invoke(p, a, {})).json()).boot;
    const bootB = (await (await invoke(p, b, {})).json()).boot;
    await invoke(p, a, {}); // a is now more recently used than b
    expect(p.worker.stats()).toMatchObject({ warm: 2, memoryUsedMb: 256 });

    const cFirst = await invoke(p, c, {});
    expect(cFirst.status).toBe(200);
    expect(cFirst.headers.get('x-start-kind')).toBe('cold');
    expect(p.worker.stats().memoryUsedMb).toBeLessThanOrEqual(256);
    // b was the least recently used: it went; a stayed warm.
    const againA = await invoke(p, a, {});
    expect(againA.headers.get('x-start-kind')).toBe('warm');
    expect((await againA.json()).boot).toBe(bootA);
    const againB = await invoke(p, b, {});
    expect(againB.headers.get('x-start-kind')).toBe('cold');
    expect((await againB.json()).boot).not.toBe(bootB);
    const containers = await docker.listContainers({ all: true, filters: { label: [`io.hearth.worker=${p.workerId}`] } });
    expect(containers.length).toBeLessThanOrEqual(2);
  });

  it('makes a call wait, never over-committing, when every container in the budget is busy', async () => {
    const p = await start({ memoryBudgetMb: 128 });
    const [a, b] = [uniqueName('full-a'), uniqueName('full-b')];
    await deployWhoami(p, a);
    await deployWhoami(p, b);
    const slow = invoke(p, a, { sleepMs: 1000 });
    expect(await waitUntil(() => p.worker.stats().busy === 1, 5000, 10)).toBe(true);
    const t0 = Date.now();
    const waiting = await invoke(p, b, {});
    expect(waiting.status).toBe(200);
    // b could only start once a's container was idle and evicted.
    expect((await slow).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThan(300);
    expect(p.worker.stats().memoryUsedMb).toBeLessThanOrEqual(128);
  });
});
