/**
 * A deploy's broadcast names its code, and every worker serving the runtime
 * unpacks it before any call asks (`worker/sandbox/code-prefetch.ts`): on the
 * real stack, the code is in the worker's cache with no call made, and the
 * first call, on a pre-warmed container, runs it. The broadcast travels over
 * Redis, so one forged there is tried too: a malformed address is dropped by
 * the message schema, an address the store does not hold costs a failed
 * fetch and nothing else, and deploys after both are still prefetched.
 */
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName, zipOf } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor, waitUntil } from '../helpers/wait.ts';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('code prefetched on deploy', () => {
  let platform: Platform;
  let redis: Redis;
  beforeAll(async () => {
    platform = await startPlatform({ prewarm: [{ runtime: 'nodejs20', memoryMb: 128, count: 1 }] });
    redis = new Redis(platform.redisUrl);
  });
  afterAll(async () => {
    redis?.disconnect();
    await platform?.stop();
  });

  const codeDir = () => join(platform.stateDir, 'code');

  /** Deploys a two-file function and answers its code's address once the worker holds it unpacked (no call made). */
  async function deployAndWaitForCode(value: string): Promise<{ name: string; sha256: string }> {
    const name = uniqueName('prefetch');
    const files = { 'index.js': `const { value } = require('./lib/value.js');\nexports.handler = async () => value;\n`, 'lib/value.js': `exports.value = ${JSON.stringify(value)};\n` };
    const res = await deploy(platform, name, { bytes: await zipOf(files), filename: 'code.zip' }, { runtime: 'nodejs20', handler: 'index.handler' });
    expect(res.status).toBe(201);
    const sha256 = (await res.json()).latest.codeSha256 as string;
    expect(await waitUntil(() => exists(join(codeDir(), sha256, 'lib', 'value.js')), 15_000, 20), `code ${sha256} unpacked before any call`).toBe(true);
    return { name, sha256 };
  }

  it('unpacks a deployed version before any call, and its first call runs from it', async () => {
    // The pre-warmed container starts with the worker: the first call must find it, not race it.
    await waitFor('a pre-warmed nodejs20 container', () => (platform.worker.stats().byRuntime.nodejs20?.prewarmed ?? 0) >= 1, 30_000, 20);
    const { name } = await deployAndWaitForCode('prefetched');
    const res = await invoke(platform, name, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toBe('prefetched');
    expect(res.headers.get('x-start-kind')).toBe('prewarmed');
  }, 60_000);

  it('shrugs off forged broadcasts: a malformed address is dropped, an unknown one costs a failed fetch, later deploys are still prefetched', async () => {
    const channel = `${platform.prefix}:control`;
    const forged = [
      { type: 'function-changed', namespace: 'default', name: 'x', code: { sha256: '../../../../etc', runtime: 'nodejs20' } },
      { type: 'function-changed', namespace: 'default', name: 'x', code: { sha256: 'A'.repeat(64), runtime: 'nodejs20' } },
      { type: 'function-changed', namespace: 'default', name: 'x', code: { sha256: 'a'.repeat(64), runtime: 'nodejs20' } },
      { type: 'function-changed', namespace: 'default', name: 'x', code: { sha256: 'b'.repeat(64), runtime: 'x'.repeat(10_000) } },
    ];
    for (const message of forged) expect(await redis.publish(channel, JSON.stringify(message))).toBeGreaterThan(0);
    const { name } = await deployAndWaitForCode('after-forgery');
    const res = await invoke(platform, name, {});
    expect(res.status).toBe(200);
    expect(await res.json()).toBe('after-forgery');
    // Nothing was made for the forged addresses: the cache holds content addresses only (and no leftovers).
    for (const entry of await readdir(codeDir())) expect(entry).toMatch(/^[0-9a-f]{64}$/);
    expect(await exists(join(codeDir(), 'a'.repeat(64)))).toBe(false);
  }, 60_000);
});
