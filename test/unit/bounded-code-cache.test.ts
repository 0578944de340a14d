import { createHash } from 'node:crypto';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packUpload } from '../../gateway/deploy/upload-archive.ts';
import { BoundedCodeCache } from '../../worker/sandbox/bounded-code-cache.ts';
import { removeTempDirs, tempDir, zipOf } from '../helpers/code-fixtures.ts';

afterAll(removeTempDirs);

/** Three archives of 1000 bytes of file data each, by content hash. */
async function archives(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const tag of ['a', 'b', 'c']) {
    const tarGz = (await packUpload({ filename: 'fn.zip', bytes: await zipOf([{ path: 'index.js', data: tag.repeat(1000) }]) })).tarGz;
    out.set(createHash('sha256').update(tarGz).digest('hex'), tarGz);
  }
  return out;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('bounded code cache', () => {
  it('removes the least recently used code past its byte bound, never code handed out within the grace period', async () => {
    const store = await archives();
    const [a, b, c] = [...store.keys()] as [string, string, string];
    const dir = await tempDir('hearth-code-');
    let now = 0;
    const fetched: string[] = [];
    const cache = new BoundedCodeCache({
      dir,
      maxBytes: 2500,
      graceMs: 1000,
      now: () => now,
      source: { fetch: async (sha) => (fetched.push(sha), store.get(sha)!) },
    });
    await cache.ensure(a);
    now = 10;
    await cache.ensure(b);
    now = 20;
    // Over the bound, but a and b were handed out moments ago: nothing is removed yet.
    await cache.ensure(c);
    expect(cache.heldBytes).toBe(3000);
    expect(cache.held()).toEqual([a, b, c]);

    now = 5000;
    await cache.ensure(a); // a is used again: b is now the least recently used.
    now = 5001;
    await cache.ensure(c);
    // Deleted code is dropped at once (past its grace period).
    expect(await cache.forget(b)).toBe(true);
    expect(await exists(join(dir, b))).toBe(false);
    expect(cache.held()).toEqual([a, c]);
    expect(cache.heldBytes).toBe(2000);
    // Renamed away, then removed: no leftovers.
    expect((await readdir(dir)).sort()).toEqual([a, c].sort());

    // Loading b again unpacks it afresh and pushes the total over: a, then c are past grace, a goes (least recent).
    now = 10_000;
    await cache.ensure(b);
    expect(fetched.filter((s) => s === b)).toHaveLength(2);
    expect(cache.held()).toEqual([c, b]);
    expect(await exists(join(dir, a))).toBe(false);
    expect(cache.heldBytes).toBe(2000);
  });

  it('does not forget code handed out within the grace period', async () => {
    const store = await archives();
    const [a] = [...store.keys()] as [string];
    const cache = new BoundedCodeCache({ dir: await tempDir('hearth-code-'), maxBytes: 1, graceMs: 60_000, source: { fetch: async (sha) => store.get(sha)! } });
    const dir = await cache.ensure(a);
    expect(await cache.forget(a)).toBe(false);
    expect(await exists(join(dir, 'index.js'))).toBe(true);
  });

  it('prefetches without a grace period: a prefetch nobody asked for goes first, one a call joined keeps its grace', async () => {
    const store = await archives();
    const [a, b, c] = [...store.keys()] as [string, string, string];
    const dir = await tempDir('hearth-code-');
    const fetched: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cache = new BoundedCodeCache({
      dir,
      maxBytes: 2500,
      graceMs: 60_000,
      now: () => 1000,
      source: { fetch: async (sha) => (fetched.push(sha), sha === c ? (await gate, store.get(sha)!) : store.get(sha)!) },
    });
    expect(await cache.prefetch(a)).toBe(true);
    expect(await cache.prefetch(a)).toBe(false); // held already: nothing fetched again
    expect(await exists(join(dir, a, 'index.js'))).toBe(true);
    // Prefetched and never asked for: forgettable at once, grace or not.
    expect(await cache.forget(a)).toBe(true);

    await cache.ensure(b);
    // A call asks for c while its prefetch is still loading: one fetch, and c keeps the call's grace.
    const prefetching = cache.prefetch(c);
    const asked = cache.ensure(c);
    release();
    await Promise.all([prefetching, asked]);
    expect(fetched.filter((s) => s === c)).toHaveLength(1);
    expect(await cache.forget(c)).toBe(false);

    // Once a call asks for prefetched code, it has the grace period like any other.
    await cache.prefetch(a);
    await cache.ensure(a);
    expect(await cache.forget(a)).toBe(false);
    await expect(cache.prefetch('not-a-sha')).rejects.toThrow(/not a sha256/);
  });
});
