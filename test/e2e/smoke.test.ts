import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';

describe('smoke', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('deploys and invokes a node function', async () => {
    const name = uniqueName('smoke');
    const res = await deploy(
      platform,
      name,
      { bytes: Buffer.from('exports.handler = async (e) => ({ hi: e.who });\n'), filename: 'index.js' },
      { runtime: 'nodejs20' },
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const t0 = performance.now();
    const first = await invoke(platform, name, { who: 'a' });
    const t1 = performance.now();
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toEqual({ hi: 'a' });
    const second = await invoke(platform, name, { who: 'b' });
    const t2 = performance.now();
    console.log('cold', t1 - t0, 'warm', t2 - t1, first.headers.get('x-cold-start'), second.headers.get('x-cold-start'));
    expect(second.headers.get('x-cold-start')).toBe('false');
  });
});
