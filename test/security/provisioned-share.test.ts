/**
 * One tenant cannot hold a worker's memory with provisioned containers.
 * A hostile tenant provisions two functions whose `minWarm` together ask for
 * the worker's whole budget; the worker starts (and protects from eviction)
 * only the namespace's share (half), so another tenant's warm container is
 * not evicted and its calls, and a third function's cold start, still get
 * memory.
 */
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';
import { call, deployFunction } from './security-harness.ts';

const docker = new Dockerode();
const ADMIN = 'admin-key-provisioned-share-0123';
const BUDGET_MB = 1024;
const HANDLER = 'exports.handler = async () => ({ pid: process.pid });\n';

describe('provisioned memory per namespace on a worker', () => {
  let platform: Platform;
  let hostileKey: string;
  const hostile = uniqueName('hoarder');
  const as = (key: string) => (path: string, init: RequestInit = {}) =>
    platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN, memoryBudgetMb: BUDGET_MB });
    expect((await as(ADMIN)('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: hostile }) })).status).toBe(201);
    const key = await as(ADMIN)(`/v1/namespaces/${hostile}/keys`, { method: 'POST', body: JSON.stringify({ name: 'k' }) });
    expect(key.status).toBe(201);
    hostileKey = (await key.json()).key;
  });
  /** Functions to delete at the end: the database is the whole run's, and every later test's worker would keep their minWarm. */
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    await platform?.stop();
  });

  const containersOf = async (name: string) =>
    (await docker.listContainers({ filters: { label: [`io.hearth.worker=${platform.workerId}`, `io.hearth.function=${name}`] } })).length;

  it('starts and protects only half the budget for one namespace, however much minWarm it asks for; other tenants still get memory and keep their warm containers', async () => {
    // Two functions, 4 × 128 MB each: together the whole 1,024 MB budget.
    const hostilePlatform = { ...platform, api: as(hostileKey) } as Platform;
    const hoards = [uniqueName('hoard'), uniqueName('hoard')];
    for (const name of hoards) {
      cleanups.push(() => hostilePlatform.api(`/v1/functions/${name}`, { method: 'DELETE' }));
      const res = await deploy(hostilePlatform, name, { bytes: Buffer.from(HANDLER), filename: 'index.js' }, { runtime: 'nodejs20', memoryMb: 128, minWarm: 4 });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const hoarded = async () => (await containersOf(hoards[0]!)) + (await containersOf(hoards[1]!));
    await platform.worker.reconcileProvisioned();
    await waitFor('both hoards provisioned', async () => (await containersOf(hoards[0]!)) >= 2 && (await containersOf(hoards[1]!)) >= 2, 30_000);
    await platform.worker.reconcileProvisioned();
    // Its share is 4 containers (2 each, cut evenly). A reconcile that ran between the two deploys, when
    // the first function was alone in the namespace, may have started 4 of it; those over the share
    // are ordinary warm containers now, evictable. Never the 8 asked for.
    const held = await hoarded();
    expect(held).toBeGreaterThanOrEqual(4);
    expect(held).toBeLessThanOrEqual(6);
    await platform.worker.reconcileProvisioned();
    expect(await hoarded()).toBe(held);
    // Every one of them up and idle before the victim's call, so the victim's container is the most recently used.
    await waitFor('the hoard idle', () => platform.worker.stats().warm >= held, 30_000);

    // Another tenant's function gets memory (unfixed: the hoard held all 1,024 MB, protected, and this call waited for a minute and failed).
    const victim = uniqueName('victim');
    await deployFunction(platform, victim, { 'index.js': HANDLER }, { runtime: 'nodejs20', memoryMb: 128 });
    const first = await call(platform, victim);
    expect(first.status, JSON.stringify(first.body)).toBe(200);

    // A third function needing room evicts the hoard's containers over its share, not the victim's warm one.
    const newcomer = uniqueName('newcomer');
    await deployFunction(platform, newcomer, { 'index.js': HANDLER }, { runtime: 'nodejs20', memoryMb: 256 });
    const cold = await call(platform, newcomer);
    expect(cold.status, JSON.stringify(cold.body)).toBe(200);
    expect(cold.startKind).toBe('cold');
    const again = await call(platform, victim);
    expect(again.status).toBe(200);
    expect(again.startKind).toBe('warm');
    expect(again.body.pid).toBe(first.body.pid);
    // The hoard keeps its share.
    expect(await containersOf(hoards[0]!)).toBeGreaterThanOrEqual(2);
    expect(await containersOf(hoards[1]!)).toBeGreaterThanOrEqual(2);
    expect(platform.worker.stats().memoryUsedMb).toBeLessThanOrEqual(BUDGET_MB);
  });
});
