/**
 * The worker's container lifecycle on the real engine: keep-alive expiry
 * (scale to zero), removal of containers a previous run left behind, and a
 * clean shutdown that leaves no container.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIMES } from '../../runtime-images/runtimes.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitUntil } from '../helpers/wait.ts';
import { waitForBusy } from '../helpers/worker-state.ts';

const docker = new Dockerode();
/**
 * The worker's containers (of one function, when named). The run's tests
 * share one database, so a worker also keeps containers for other files'
 * provisioned versions: counts are taken per function.
 */
const containersOf = (workerId: string, functionName?: string) =>
  docker.listContainers({
    all: true,
    filters: { label: [`io.hearth.worker=${workerId}`, ...(functionName !== undefined ? [`io.hearth.function=${functionName}`] : [])] },
  });


describe('worker container lifecycle', () => {
  const started: Platform[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop().catch(() => {})));
  });

  it('removes an idle container after the keep-alive, and the next call is cold again', async () => {
    const platform = await startPlatform({ keepAliveMs: 1500 });
    started.push(platform);
    const name = uniqueName('keepalive');
    await deploy(platform, name, { bytes: Buffer.from('exports.handler = async () => "ok";'), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect((await invoke(platform, name, {})).headers.get('x-cold-start')).toBe('true');
    expect((await invoke(platform, name, {})).headers.get('x-cold-start')).toBe('false');
    expect(await containersOf(platform.workerId, name)).toHaveLength(1);

    expect(await waitUntil(async () => (await containersOf(platform.workerId, name)).length === 0, 8000)).toBe(true);
    expect((await invoke(platform, name, {})).headers.get('x-cold-start')).toBe('true');
  });

  it('removes containers a previous run of the same worker left behind', async () => {
    const workerId = `test-leftover-${randomBytes(3).toString('hex')}`;
    const leftover = await docker.createContainer({
      Image: RUNTIMES.nodejs20.image,
      Labels: { 'io.hearth.managed': 'true', 'io.hearth.worker': workerId },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none' },
    });
    const other = await docker.createContainer({
      Image: RUNTIMES.nodejs20.image,
      Labels: { 'io.hearth.managed': 'true', 'io.hearth.worker': `${workerId}-other` },
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      expect(await containersOf(workerId)).toHaveLength(1);
      const platform = await startPlatform({ workerId });
      started.push(platform);
      expect((await containersOf(workerId)).map((c) => c.Id)).not.toContain(leftover.id);
      // Another worker's containers are not this worker's to remove.
      expect(await containersOf(`${workerId}-other`)).toHaveLength(1);
    } finally {
      await leftover.remove({ force: true }).catch(() => {});
      await other.remove({ force: true }).catch(() => {});
    }
  });

  it('a graceful stop lets the running call finish and removes every container', async () => {
    const platform = await startPlatform();
    const name = uniqueName('drain');
    await deploy(
      platform,
      name,
      { bytes: Buffer.from('exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return e.ms; };'), filename: 'index.js' },
      { runtime: 'nodejs20' },
    );
    expect((await invoke(platform, name, { ms: 1 })).status).toBe(200);
    const slow = invoke(platform, name, { ms: 1500 });
    await waitForBusy(platform.worker, 1);
    const stopAskedAt = Date.now();
    const stopping = platform.worker.stop().then(() => Date.now());
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(1500);
    const stoppedAt = await stopping;
    // It waited for the call in flight (well over a second of it remained).
    expect(stoppedAt - stopAskedAt).toBeGreaterThan(800);
    expect(await containersOf(platform.workerId)).toHaveLength(0);
    await platform.stop().catch(() => {});
  });
});
