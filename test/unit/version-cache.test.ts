/**
 * The gateway's version cache: a deploy's broadcast looks the new latest
 * version up at once, so the function's first call does not wait on the
 * store; a change announced while that lookup runs still wins.
 */
import { describe, expect, it } from 'vitest';
import { VersionCache } from '../../gateway/invoke/version-cache.ts';
import type { ResolvedVersion } from '../../gateway/store/functions-store.ts';

function fakeStore() {
  const calls: string[] = [];
  let version = 1;
  const pending: Array<() => void> = [];
  let hold = false;
  const resolve = async (namespace: string, name: string, v?: number): Promise<ResolvedVersion | null> => {
    calls.push(`${namespace}/${name}/${v ?? 'latest'}`);
    const answer = { functionId: 'f1', version } as unknown as ResolvedVersion;
    if (hold) await new Promise<void>((go) => pending.push(go));
    return answer;
  };
  return {
    calls,
    resolve,
    setVersion: (v: number) => (version = v),
    hold: (on: boolean) => (hold = on),
    release: () => pending.splice(0).forEach((go) => go()),
  };
}

describe('version cache', () => {
  it('looks a deployed function up at once; its first call then asks the store nothing', async () => {
    const store = fakeStore();
    const cache = new VersionCache(store.resolve, async () => null, 5000);
    cache.deployed('ns', 'f');
    expect(store.calls).toEqual(['ns/f/latest']);
    expect((await cache.get('ns', 'f'))?.version).toBe(1);
    expect(store.calls).toHaveLength(1);
  });

  it('replaces what it held before the deploy, and a change announced during the lookup drops its answer', async () => {
    const store = fakeStore();
    const cache = new VersionCache(store.resolve, async () => null, 5000);
    expect((await cache.get('ns', 'f'))?.version).toBe(1);
    store.setVersion(2);
    store.hold(true);
    cache.deployed('ns', 'f');
    // A rollback lands while the deploy's lookup is still out.
    cache.invalidate('ns', 'f');
    store.release();
    store.hold(false);
    store.setVersion(3);
    expect((await cache.get('ns', 'f'))?.version).toBe(3);
  });
});
