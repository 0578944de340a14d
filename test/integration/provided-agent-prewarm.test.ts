/**
 * The provided runtime on the real platform (gateway, queue, worker, Docker):
 * a pre-warmed provided container (the worker's HEARTH_PREWARM=provided:128=1)
 * says hello with no code, is handed to a function whose zip holds an
 * executable bootstrap, and inits then; a bootstrap that exits mid-call is
 * recorded as FunctionCrashed and its container is not reused; one the OOM
 * killer ends, as FunctionOutOfMemory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { zipOf } from '../helpers/code-fixtures.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { testBootstrap } from '../helpers/provided-bootstrap-kit.ts';
import { waitUntil } from '../helpers/wait.ts';

describe('provided runtime on the platform', () => {
  let platform: Platform | undefined;
  afterEach(async () => {
    await platform?.stop();
    platform = undefined;
  });

  const deployBootstrap = async (p: Platform, name: string, memoryMb = 128) => {
    const bytes = await zipOf([{ path: 'bootstrap', data: await testBootstrap(), mode: 0o755 }]);
    const res = await deploy(p, name, { bytes, filename: 'code.zip' }, { runtime: 'provided.al2023', handler: 'bootstrap', memoryMb });
    expect(res.status, await res.clone().text()).toBe(201);
  };

  it('hands a pre-warmed provided container to a function, which then inits and serves', async () => {
    platform = await startPlatform({ prewarm: [{ runtime: 'provided', memoryMb: 128, count: 1 }] });
    const p = platform;
    expect(await waitUntil(() => p.worker.stats().prewarmed === 1, 15_000)).toBe(true);
    const name = uniqueName('prov-pw');
    await deployBootstrap(p, name);
    const first = await invoke(p, name, { op: 'echo', n: 1 });
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get('x-start-kind')).toBe('prewarmed');
    const body = (await first.json()) as { event: unknown; name: string; id: string };
    expect(body).toMatchObject({ event: { op: 'echo', n: 1 }, name, id: first.headers.get('x-invocation-id') });
    const record = await recordOf(p, first.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'succeeded', startKind: 'prewarmed' });
    expect(record.logs).toContain('init stdout line');
    const second = await invoke(p, name, { op: 'echo' });
    expect(second.headers.get('x-start-kind')).toBe('warm');
  });

  it('records a bootstrap exiting mid-call as FunctionCrashed and starts a new container after it', async () => {
    platform = await startPlatform();
    const p = platform;
    const name = uniqueName('prov-crash');
    await deployBootstrap(p, name);
    expect((await invoke(p, name, { op: 'echo' })).status).toBe(200);
    const crashed = await invoke(p, name, { op: 'exit' });
    const record = await recordOf(p, crashed.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionCrashed', type: 'Runtime.ExitError' } });
    expect(record.logs).toContain('exiting mid-call');
    const after = await invoke(p, name, { op: 'echo' });
    expect(after.status).toBe(200);
    expect(after.headers.get('x-start-kind')).not.toBe('warm');
  });

  it('records a bootstrap the OOM killer ends as FunctionOutOfMemory, as for the other runtimes', async () => {
    platform = await startPlatform();
    const p = platform;
    const name = uniqueName('prov-oom');
    await deployBootstrap(p, name, 64);
    const res = await invoke(p, name, { op: 'hog' });
    const record = await recordOf(p, res.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionOutOfMemory' } });
  });
});
