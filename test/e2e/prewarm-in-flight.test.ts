/**
 * A call that arrives while a pre-warmed container of its class is still
 * starting waits for that container instead of starting a cold one
 * (`worker/pool/prewarm-top-up.ts`, `claimStarting`): on the real stack,
 * after a claim the worker tops the class up, and a new function's first
 * call sent while that start is in flight (the pool's own count says so)
 * runs on it, pre-warmed, and its record says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName, zipOf } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

describe('a call while a pre-warmed container is starting', () => {
  let platform: Platform;
  const names = [uniqueName('inflight-a'), uniqueName('inflight-b')];
  beforeAll(async () => {
    platform = await startPlatform({ prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] });
    for (const name of names) {
      const code = { bytes: await zipOf({ 'index.js': `exports.handler = async () => ${JSON.stringify(name)};\n` }), filename: 'code.zip' };
      expect((await deploy(platform, name, code, { runtime: 'nodejs20', handler: 'index.handler' })).status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
  });

  const pool = () => platform.worker.stats();

  it('waits for the container being started rather than starting cold', async () => {
    await waitFor('a pre-warmed nodejs20 container', () => (pool().byRuntime.nodejs20?.prewarmed ?? 0) >= 1, 30_000, 10);
    const first = await invoke(platform, names[0]!, {});
    expect(first.headers.get('x-start-kind')).toBe('prewarmed');
    // The claim starts a replacement shortly after: send the next first call while it is on its way.
    await waitFor('the replacement starting', () => (pool().prewarmStarting ?? 0) >= 1 && (pool().byRuntime.nodejs20?.prewarmed ?? 0) === 0, 10_000, 2);
    const second = await invoke(platform, names[1]!, {});
    expect(second.status).toBe(200);
    expect(await second.json()).toBe(names[1]);
    expect(second.headers.get('x-start-kind')).toBe('prewarmed');
    expect(await recordOf(platform, second.headers.get('x-invocation-id'))).toMatchObject({ status: 'succeeded', startKind: 'prewarmed' });
    // It was handed over, never put idle: the class is topped up once more, and nothing else started.
    await waitFor('the class topped up again', () => (pool().byRuntime.nodejs20?.prewarmed ?? 0) >= 1, 30_000, 10);
    expect(pool()).toMatchObject({ busy: 0, warm: 2, prewarmed: 1 });
  }, 60_000);
});
