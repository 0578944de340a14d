/**
 * The init CPU boost's cgroup arithmetic and book-keeping, on a cgroup file
 * system laid out in a temporary directory (the real one is exercised by
 * `test/security/idle-cpu.test.ts`).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InitCpuBoost, parseQuota, quotaDirFromProcCgroup } from '../../worker/engine/init-cpu-boost.ts';

const ID = 'c'.repeat(64);

describe('init CPU boost', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cgroup-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads both cgroup versions, and nothing the kernel would not write', () => {
    expect(parseQuota(1, ['50000\n', '100000\n'])).toEqual({ quotaUs: 50000, periodUs: 100000 });
    expect(parseQuota(1, ['-1\n', '100000\n'])).toEqual({ quotaUs: -1, periodUs: 100000 });
    expect(parseQuota(2, ['50000 100000\n'])).toEqual({ quotaUs: 50000, periodUs: 100000 });
    expect(parseQuota(2, ['max 100000\n'])).toEqual({ quotaUs: -1, periodUs: 100000 });
    for (const bad of [['x', '100000'], ['50000', '0'], ['50000']]) expect(parseQuota(1, bad)).toBeNull();
    for (const bad of ['', 'max', '50000 x', '1e5 100000']) expect(parseQuota(2, [bad])).toBeNull();
  });

  it('finds the CPU controller of a process outside the default parent, never a path that climbs out', () => {
    expect(quotaDirFromProcCgroup('12:pids:/lab/x\n4:cpu:/lab/x\n3:cpuacct:/lab/x\n', '/r')).toEqual({ version: 1, dir: '/r/cpu/lab/x' });
    expect(quotaDirFromProcCgroup('4:cpu,cpuacct:/lab/x\n', '/r')).toEqual({ version: 1, dir: '/r/cpu,cpuacct/lab/x' });
    expect(quotaDirFromProcCgroup('0::/lab/x\n', '/r')).toEqual({ version: 2, dir: '/r/lab/x' });
    expect(quotaDirFromProcCgroup('4:cpu:/../../etc\n', '/r')).toBeNull();
    expect(quotaDirFromProcCgroup('4:cpu:relative\n0::/../x\n', '/r')).toBeNull();
  });

  it('lifts a v1 quota to the boost and writes the own one back once; an unlimited container is left alone', async () => {
    const dir = join(root, 'cpu', 'docker', ID);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cpu.cfs_quota_us'), '50000\n');
    await writeFile(join(dir, 'cpu.cfs_period_us'), '100000\n');
    const boost = new InitCpuBoost({ initCpus: 2, procCgroup: async () => null, root });
    expect(await boost.boost(ID)).toBe(true);
    expect(await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8')).toBe('200000');
    expect(boost.isBoosted(ID)).toBe(true);
    await boost.settle(ID);
    expect(await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    // Idempotent: a second settle writes nothing (the file changed meanwhile stays changed).
    await writeFile(join(dir, 'cpu.cfs_quota_us'), '12345');
    await boost.settle(ID);
    expect(await readFile(join(dir, 'cpu.cfs_quota_us'), 'utf8')).toBe('12345');

    const other = 'd'.repeat(64);
    const unlimited = join(root, 'cpu', 'docker', other);
    await mkdir(unlimited, { recursive: true });
    await writeFile(join(unlimited, 'cpu.cfs_quota_us'), '-1\n');
    await writeFile(join(unlimited, 'cpu.cfs_period_us'), '100000\n');
    expect(await boost.boost(other)).toBe(false);
    expect(await readFile(join(unlimited, 'cpu.cfs_quota_us'), 'utf8')).toBe('-1\n');
  });

  it('boosts a v2 container; a container gone before settling is no error, a quota that cannot be written back is', async () => {
    const dir = join(root, 'system.slice', `docker-${ID}.scope`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cpu.max'), '50000 100000\n');
    const boost = new InitCpuBoost({ initCpus: 1.5, procCgroup: async () => null, root });
    expect(await boost.boost(ID)).toBe(true);
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('150000 100000');
    await rm(dir, { recursive: true });
    await expect(boost.settle(ID)).resolves.toBeUndefined();

    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cpu.max'), '50000 100000\n');
    expect(await boost.boost(ID)).toBe(true);
    // cpu.max turned into a directory: the write fails with EISDIR, which must not pass silently.
    await rm(join(dir, 'cpu.max'));
    await mkdir(join(dir, 'cpu.max'));
    await expect(boost.settle(ID)).rejects.toThrow();
  });

  it('finds a container under another parent through its process once, then the next under the same parent without asking', async () => {
    const asked: string[] = [];
    const boost = new InitCpuBoost({
      initCpus: 2,
      procCgroup: async (id) => {
        asked.push(id);
        return `12:pids:/lab-a/${id}\n4:cpu:/lab-a/${id}\n3:cpuacct:/lab-a/${id}\n`;
      },
      root,
    });
    const [a, b] = ['e'.repeat(64), 'f'.repeat(64)];
    for (const id of [a, b]) {
      const dir = join(root, 'cpu', 'lab-a', id);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'cpu.cfs_quota_us'), '50000');
      await writeFile(join(dir, 'cpu.cfs_period_us'), '100000');
    }
    expect(await boost.boost(a)).toBe(true);
    expect(await boost.boost(b)).toBe(true);
    expect(asked).toEqual([a]);
    expect(await readFile(join(root, 'cpu', 'lab-a', b, 'cpu.cfs_quota_us'), 'utf8')).toBe('200000');
  });

  it('does nothing when turned off or when no cgroup is found', async () => {
    expect(await new InitCpuBoost({ initCpus: 0, procCgroup: async () => null, root }).boost(ID)).toBe(false);
    expect(await new InitCpuBoost({ initCpus: 2, procCgroup: async () => null, root }).boost(ID)).toBe(false);
  });
});
