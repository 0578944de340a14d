import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packUpload } from '../../gateway/deploy/upload-archive.ts';
import { extractCode, UnsafeCodeArchiveError } from '../../worker/sandbox/extract-code.ts';
import { removeTempDirs, snapshot, tempDir, zipOf, type FixtureFile } from '../helpers/code-fixtures.ts';
import { rawTarGz, type RawTarEntry } from '../helpers/raw-tar.ts';

afterAll(removeTempDirs);

const FILES: FixtureFile[] = [
  { path: 'index.js', data: 'exports.handler = async () => 1;\n' },
  { path: 'bin/run', data: '#!/bin/sh\n', mode: 0o755 },
  { path: 'node_modules/dep/index.js', data: 'module.exports = 2;\n' },
  { path: 'node_modules/.bin/run', link: '../../bin/run' },
];

async function canonical(files: FixtureFile[] = FILES): Promise<Buffer> {
  return (await packUpload({ filename: 'fn.zip', bytes: await zipOf(files) })).tarGz;
}

/** A fresh cache directory and the (not yet existing) destination inside it. */
async function destination(): Promise<{ cache: string; dest: string }> {
  const cache = await tempDir('hearth-cache-');
  return { cache, dest: join(cache, 'a'.repeat(64)) };
}

async function expectUnsafe(archive: Buffer, message: RegExp): Promise<void> {
  const { cache, dest } = await destination();
  const error = await extractCode(archive, dest).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnsafeCodeArchiveError);
  expect((error as Error).message).toMatch(message);
  // Nothing half-written is left behind: no destination, no temp sibling.
  expect(await readdir(cache)).toEqual([]);
}

const tampered = (entries: RawTarEntry[]): Buffer => rawTarGz([{ path: 'index.js', data: 'x' }, ...entries]);

describe('extracting code on a worker', () => {
  it('unpacks files world-readable, executables 0755, directories 0755 and symlinks as links', async () => {
    const { dest } = await destination();
    const result = await extractCode(await canonical(), dest);
    expect(result).toEqual({ fileCount: 3, bytes: FILES.reduce((n, f) => n + Buffer.byteLength(f.data ?? ''), 0) });
    expect(await snapshot(dest)).toEqual({
      'bin': { type: 'dir', mode: 0o755 },
      'bin/run': { type: 'file', mode: 0o755, data: '#!/bin/sh\n' },
      'index.js': { type: 'file', mode: 0o644, data: FILES[0]?.data },
      'node_modules': { type: 'dir', mode: 0o755 },
      'node_modules/.bin': { type: 'dir', mode: 0o755 },
      'node_modules/.bin/run': { type: 'symlink', target: '../../bin/run' },
      'node_modules/dep': { type: 'dir', mode: 0o755 },
      'node_modules/dep/index.js': { type: 'file', mode: 0o644, data: FILES[2]?.data },
    });
    const info = await stat(dest);
    expect(info.mode & 0o777).toBe(0o755);
    expect(info.uid).toBe(process.getuid?.());
  });

  it('sets modes regardless of the process umask', async () => {
    const { dest } = await destination();
    const previous = process.umask(0o077);
    try {
      await extractCode(await canonical(), dest);
    } finally {
      process.umask(previous);
    }
    const tree = await snapshot(dest);
    expect(tree['index.js']).toMatchObject({ mode: 0o644 });
    expect(tree['node_modules']).toMatchObject({ mode: 0o755 });
    expect((await stat(dest)).mode & 0o777).toBe(0o755);
  });

  it('does nothing when the destination already exists', async () => {
    const { dest } = await destination();
    const archive = await canonical();
    const first = await extractCode(archive, dest);
    await writeFile(join(dest, 'index.js'), 'local change');
    const second = await extractCode(archive, dest);
    expect(second.fileCount).toBe(first.fileCount);
    expect((await snapshot(dest))['index.js']).toMatchObject({ data: 'local change' });
  });

  it('lets concurrent extractions of the same destination all succeed', async () => {
    const { cache, dest } = await destination();
    const archive = await canonical();
    const results = await Promise.all(Array.from({ length: 4 }, () => extractCode(archive, dest)));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(await readdir(cache)).toEqual(['a'.repeat(64)]); // losers cleaned up their temp dirs
    expect((await snapshot(dest))['bin/run']).toMatchObject({ mode: 0o755 });
  });

  it('creates the cache directory if needed', async () => {
    const dest = join(await tempDir(), 'deeper', 'cache', 'code');
    await expect(extractCode(await canonical(), dest)).resolves.toMatchObject({ fileCount: 3 });
  });
});

describe('re-checking archives from the store', () => {
  it('rejects absolute and ".." paths', async () => {
    await expectUnsafe(tampered([{ path: '../escape.js', data: 'x' }]), /"\.\.\/escape\.js" contains "\.\."/);
    await expectUnsafe(tampered([{ path: '/etc/cron.d/x', data: 'x' }]), /"\/etc\/cron\.d\/x" is absolute/);
  });

  it('rejects symlinks that leave the code directory', async () => {
    await expectUnsafe(tampered([{ path: 'lib/passwd', type: 'SymbolicLink', linkpath: '../../etc/passwd' }]), /points outside/);
    await expectUnsafe(tampered([{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), /is absolute/);
  });

  it('never writes through a symlink', async () => {
    const archive = tampered([
      { path: 'lib', type: 'SymbolicLink', linkpath: '.' },
      { path: 'lib/index.js', data: 'overwrite' },
    ]);
    await expectUnsafe(archive, /needs "lib" to be a directory, but it is a symlink/);
  });

  it('rejects duplicates, devices, FIFOs and hard links', async () => {
    await expectUnsafe(tampered([{ path: 'index.js', data: 'again' }]), /"index\.js" appears more than once/);
    await expectUnsafe(tampered([{ path: 'null', type: 'CharacterDevice' }]), /type CharacterDevice/);
    await expectUnsafe(tampered([{ path: 'pipe', type: 'FIFO' }]), /type FIFO/);
    await expectUnsafe(tampered([{ path: 'hard', type: 'Link', linkpath: 'index.js' }]), /type Link/);
  });

  it('rejects corrupt data and archives over the caps', async () => {
    const archive = await canonical();
    await expectUnsafe(archive.subarray(0, archive.length - 40), /corrupt/);
    const big = await canonical([{ path: 'big.bin', data: Buffer.alloc(64 * 1024, 1) }]);
    const { cache, dest } = await destination();
    await expect(extractCode(big, dest, { maxUnpackedBytes: 1024 })).rejects.toThrow(/more than 1024 bytes/);
    expect(await readdir(cache)).toEqual([]);
  });
});
