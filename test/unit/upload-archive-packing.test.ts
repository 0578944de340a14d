/** `packUpload` re-packs a zip, a tar.gz or one source file into the one canonical tar.gz the worker unpacks. */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { packUpload } from '../../gateway/deploy/upload-archive.ts';
import { listTar, removeTempDirs, tarGzOf, zipOf } from '../helpers/code-fixtures.ts';
import { rawTarGz } from '../helpers/raw-tar.ts';
import { rawZip } from '../helpers/raw-zip.ts';
import { EXPECTED_FILES, MiB, PACKAGE, unpacked } from '../helpers/upload-checks.ts';

afterAll(removeTempDirs);

describe('packing an upload', () => {
  it('re-packs a zip so that unpacking gives the same files, modes and symlinks', async () => {
    const packed = await packUpload({ filename: 'fn.zip', bytes: await zipOf(PACKAGE) });
    expect(packed).toMatchObject({ format: 'zip', fileCount: 6, files: EXPECTED_FILES, symlinks: ['node_modules/.bin/left-pad'] });
    expect(packed.unpackedBytes).toBe(PACKAGE.reduce((n, f) => n + Buffer.byteLength(f.data ?? ''), 0));
    expect(packed.sha256).toBe(createHash('sha256').update(packed.tarGz).digest('hex'));

    const tree = await unpacked(packed);
    expect(tree['index.js']).toEqual({ type: 'file', mode: 0o644, data: PACKAGE[0]?.data });
    expect(tree['node_modules/left-pad/cli.js']).toMatchObject({ type: 'file', mode: 0o755 });
    expect(tree['node_modules/.bin/left-pad']).toEqual({ type: 'symlink', target: '../left-pad/cli.js' });
    expect(tree['node_modules']).toEqual({ type: 'dir', mode: 0o755 });
    expect(tree['lib/empty.txt']).toEqual({ type: 'file', mode: 0o644, data: '' });
    expect(Object.keys(tree)).toHaveLength(11); // 6 files, 1 symlink, 4 directories
  });

  it('re-packs a tar.gz made by tar, including long and non-ASCII names', async () => {
    const deep = `${'very-long-directory-name/'.repeat(8)}handler.js`;
    const files = [...PACKAGE, { path: deep, data: 'deep' }, { path: 'données/é.txt', data: 'ü' }];
    const packed = await packUpload({ filename: 'fn.tgz', bytes: await tarGzOf(files) });
    expect(packed.format).toBe('tar.gz');
    expect(packed.files).toEqual([...EXPECTED_FILES, deep, 'données/é.txt'].sort());

    const tree = await unpacked(packed);
    expect(tree[deep]).toEqual({ type: 'file', mode: 0o644, data: 'deep' });
    expect(tree['données/é.txt']).toEqual({ type: 'file', mode: 0o644, data: 'ü' });
    expect(tree['node_modules/left-pad/cli.js']).toMatchObject({ mode: 0o755 });
    expect(tree['node_modules/.bin/left-pad']).toEqual({ type: 'symlink', target: '../left-pad/cli.js' });
  });

  it('re-packs a tar.gz of thousands of files in any order to the same archive as the zip', async () => {
    // Several MiB, laid out like a real package (one directory's files together),
    // so the tar path's temp-file spool flushes and is re-read in windows.
    const files = Array.from({ length: 2000 }, (_, i) => ({
      path: `node_modules/pkg${String(Math.floor(i / 40)).padStart(3, '0')}/lib/file${String(i).padStart(4, '0')}.js`,
      data: i % 500 === 0 ? randomBytes(150_000).toString('hex') : randomBytes(900).toString('hex'),
    }));
    const fromTar = await packUpload({ filename: 'big.tgz', bytes: rawTarGz(files) });
    const fromZip = await packUpload({ filename: 'big.zip', bytes: await zipOf([...files].reverse()) });
    expect(fromTar.unpackedBytes).toBeGreaterThan(4 * MiB);
    expect(fromTar.sha256).toBe(fromZip.sha256);
    const tree = await unpacked(fromTar);
    for (const f of files) expect(tree[f.path], f.path).toEqual({ type: 'file', mode: 0o644, data: f.data });
  });

  it('stores a single source file under the basename of the upload', async () => {
    const source = 'def handler(event, context):\n    return event\n';
    const packed = await packUpload({ filename: 'C:\\fakepath\\main.py', bytes: Buffer.from(source) });
    expect(packed).toMatchObject({ format: 'file', fileCount: 1, files: ['main.py'], unpackedBytes: source.length });
    expect(await unpacked(packed)).toEqual({ 'main.py': { type: 'file', mode: 0o644, data: source } });
    expect((await packUpload({ filename: 'src/index.js', bytes: Buffer.from('x') })).files).toEqual(['index.js']);
  });

  it('gives the same bytes and sha256 for the same content whatever the mtimes, order or format', async () => {
    const older = PACKAGE.map((f) => ({ ...f, mtime: new Date(2001, 1, 1) }));
    const reordered = [...PACKAGE].reverse().map((f) => ({ ...f, mtime: new Date(2024, 5, 6) }));
    const a = await packUpload({ filename: 'a.zip', bytes: await zipOf(older) });
    const b = await packUpload({ filename: 'b.zip', bytes: await zipOf(reordered, { directories: ['lib/', 'node_modules/'] }) });
    const c = await packUpload({ filename: 'c.tar.gz', bytes: await tarGzOf(PACKAGE) });
    expect(b.sha256).toBe(a.sha256);
    expect(c.sha256).toBe(a.sha256);
    expect(Buffer.compare(a.tarGz, c.tarGz)).toBe(0);

    const changed = await packUpload({ filename: 'd.zip', bytes: await zipOf([...PACKAGE.slice(1), { path: 'index.js', data: 'changed' }]) });
    expect(changed.sha256).not.toBe(a.sha256);
  });

  it('writes a canonical archive: sorted, mtime 0, root-owned, fixed modes, bare gzip header', async () => {
    const packed = await packUpload({ filename: 'fn.zip', bytes: await zipOf(PACKAGE) });
    const entries = await listTar(packed.tarGz);
    const paths = entries.map((e) => e.path);
    expect(paths).toEqual([...paths].sort());
    for (const e of entries) {
      expect(e).toMatchObject({ mtime: 0, uid: 0, gid: 0, uname: '' });
      if (e.type === 'Directory') expect(e.mode).toBe(0o755);
      if (e.type === 'File') expect([0o644, 0o755]).toContain(e.mode);
    }
    expect(entries.find((e) => e.type === 'SymbolicLink')).toMatchObject({ path: 'node_modules/.bin/left-pad', linkpath: '../left-pad/cli.js' });
    // gzip: no FNAME/FEXTRA flags, zero timestamp, OS = Unix
    expect([...packed.tarGz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  });

  it('writes a tar that GNU tar reads without complaint', async () => {
    let tarVersion: string;
    try {
      tarVersion = execFileSync('tar', ['--version'], { encoding: 'utf8' });
    } catch {
      return; // no system tar here
    }
    if (!tarVersion.includes('GNU tar')) return;
    const deep = `${'d'.repeat(120)}/file.js`;
    const packed = await packUpload({ filename: 'fn.zip', bytes: await zipOf([...PACKAGE, { path: deep, data: 'x' }]) });
    const listing = execFileSync('tar', ['-tzf', '-'], { input: packed.tarGz, encoding: 'utf8' });
    expect(listing.split('\n')).toEqual(expect.arrayContaining(['index.js', deep, 'node_modules/.bin/left-pad']));
  });

  it('keeps a relative symlink that stays inside and drops a leading "./"', async () => {
    const zip = rawZip([
      { name: './app/index.js', data: 'x', unixMode: 0o100644 },
      { name: './app/current', data: '.', unixMode: 0o120777 },
      { name: './', unixMode: 0o40755 },
    ]);
    const packed = await packUpload({ filename: 'fn.zip', bytes: zip });
    expect(packed.files).toEqual(['app/index.js']);
    expect((await unpacked(packed))['app/current']).toEqual({ type: 'symlink', target: '.' });
  });
});
