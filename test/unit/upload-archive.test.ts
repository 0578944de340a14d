import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { HearthError } from '../../gateway/errors.ts';
import { UnpackMeter, DEFAULT_ARCHIVE_LIMITS as LIMITS } from '../../gateway/deploy/archive-limits.ts';
import { DEFAULT_ARCHIVE_LIMITS, packUpload, type PackedCode } from '../../gateway/deploy/upload-archive.ts';
import { extractCode } from '../../worker/sandbox/extract-code.ts';
import { collect, listTar, removeTempDirs, snapshot, tarGzOf, tempDir, zeros, zipOf, type FixtureFile } from '../helpers/code-fixtures.ts';
import { rawTarGz, tarEntry } from '../helpers/raw-tar.ts';
import { rawZip } from '../helpers/raw-zip.ts';

const MiB = 1024 * 1024;

afterAll(removeTempDirs);

/** A small but realistic Node.js package: nesting, an executable, a symlink. */
const PACKAGE: FixtureFile[] = [
  { path: 'index.js', data: 'export const handler = async () => "hi";\n' },
  { path: 'lib/util.js', data: 'module.exports = 1;\n' },
  { path: 'lib/empty.txt', data: '' },
  { path: 'node_modules/left-pad/package.json', data: '{"name":"left-pad","bin":"cli.js"}\n' },
  { path: 'node_modules/left-pad/index.js', data: 'module.exports = (s) => s;\n' },
  { path: 'node_modules/left-pad/cli.js', data: '#!/usr/bin/env node\n', mode: 0o755 },
  { path: 'node_modules/.bin/left-pad', link: '../left-pad/cli.js' },
];

const EXPECTED_FILES = [
  'index.js',
  'lib/empty.txt',
  'lib/util.js',
  'node_modules/left-pad/cli.js',
  'node_modules/left-pad/index.js',
  'node_modules/left-pad/package.json',
];

async function unpacked(packed: PackedCode): Promise<Awaited<ReturnType<typeof snapshot>>> {
  const dest = join(await tempDir(), 'code');
  await extractCode(packed.tarGz, dest);
  return snapshot(dest);
}

async function rejection(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected packUpload to reject').toBeInstanceOf(HearthError);
  return error as HearthError;
}

async function expectInvalid(promise: Promise<unknown>, message: RegExp | string): Promise<void> {
  const error = await rejection(promise);
  expect({ status: error.status, code: error.code }).toEqual({ status: 400, code: 'InvalidArchive' });
  expect(error.message).toMatch(message);
}

async function expectTooLarge(promise: Promise<unknown>, message: RegExp | string): Promise<void> {
  const error = await rejection(promise);
  expect({ status: error.status, code: error.code }).toEqual({ status: 413, code: 'ArchiveTooLarge' });
  expect(error.message).toMatch(message);
}

describe('packing an upload', () => {
  it('re-packs a zip so that unpacking gives the same files, modes and symlinks', async () => {
    const packed = await packUpload({ filename: 'fn.zip', bytes: await zipOf(PACKAGE) });
    expect(packed).toMatchObject({ format: 'zip', fileCount: 6, files: EXPECTED_FILES });
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

describe('rejecting unsafe entries', () => {
  it('rejects zip-slip names with ".."', async () => {
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: '../x', data: 'pwned' }]) }), '../x');
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: 'a/../../x', data: 'pwned' }]) }), 'a/../../x');
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: rawTarGz([{ path: '../x', data: 'pwned' }]) }), /"\.\.\/x" contains a "\.\." path segment/);
  });

  it('rejects absolute paths, drive letters and backslash tricks', async () => {
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: '/etc/x', data: 'pwned' }]) }), '/etc/x');
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: 'C:/Windows/x', data: 'pwned' }]) }), 'C:/Windows/x');
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: '..\\..\\x', data: 'pwned' }]) }), '../../x');
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: rawTarGz([{ path: '/etc/x', data: 'pwned' }]) }), /"\/etc\/x" has an absolute path/);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: rawTarGz([{ path: '..\\x', data: 'pwned' }]) }), /backslash/);
  });

  it('rejects a NUL byte in a name', async () => {
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: 'index.js\0.png', data: 'x' }]) }), /"index\.js\\u0000\.png" contains a NUL byte/);
  });

  it('rejects symlinks that point outside the package or are absolute', async () => {
    const escape = await zipOf([{ path: 'index.js', data: 'x' }, { path: 'lib/passwd', link: '../../etc/passwd' }]);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: escape }), /symlink "lib\/passwd" -> "\.\.\/\.\.\/etc\/passwd".*outside/);
    const absolute = await zipOf([{ path: 'index.js', data: 'x' }, { path: 'passwd', link: '/etc/passwd' }]);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: absolute }), /absolute targets are not allowed/);
    const tar = rawTarGz([{ path: 'index.js', data: 'x' }, { path: 'up', type: 'SymbolicLink', linkpath: '..' }]);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: tar }), /symlink "up" -> "\.\."/);
  });

  it('rejects a chain of symlinks that escapes even though each looks harmless', async () => {
    const zip = await zipOf([
      { path: 'index.js', data: 'x' },
      { path: 'here', link: '.' },
      { path: 'parent', link: 'here/..' },
    ]);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: zip }), /symlink "parent" -> "here\/\.\."/);
  });

  it('rejects entries written beneath a symlink', async () => {
    const tar = rawTarGz([
      { path: 'lib', type: 'SymbolicLink', linkpath: 'src' },
      { path: 'lib/index.js', data: 'x' },
    ]);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: tar }), /"lib\/index\.js" lies beneath the symlink "lib"/);
  });

  it('rejects device nodes, FIFOs and hard links', async () => {
    const withEntry = (entry: Parameters<typeof rawTarGz>[0][number]): Buffer => rawTarGz([{ path: 'index.js', data: 'x' }, entry]);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: withEntry({ path: 'null', type: 'CharacterDevice' }) }), /"null" is a device node/);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: withEntry({ path: 'sda', type: 'BlockDevice' }) }), /"sda" is a device node/);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: withEntry({ path: 'pipe', type: 'FIFO' }) }), /"pipe" is a FIFO/);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: withEntry({ path: 'shadow', type: 'Link', linkpath: 'index.js' }) }), /"shadow" is a hard link/);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: 'null', unixMode: 0o020666 }]) }), /"null" is a device node/);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([{ name: 'sock', unixMode: 0o140755 }]) }), /"sock" is a socket/);
  });

  it('rejects duplicate paths and a file where a directory must be', async () => {
    const twice = rawZip([
      { name: 'index.js', data: 'a' },
      { name: 'index.js', data: 'b' },
    ]);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: twice }), /"index\.js" more than once/);
    const fileThenDir = rawZip([
      { name: 'lib', data: 'a' },
      { name: 'lib/x.js', data: 'b' },
    ]);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: fileThenDir }), /"lib\/x\.js" needs "lib" to be a directory/);
    const dirThenFile = rawZip([{ name: 'lib/x.js', data: 'b' }, { name: 'lib', data: 'a' }]);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: dirThenFile }), /"lib" is both a dir and a file/);
  });

  it('rejects corrupt archives', async () => {
    const good = await zipOf(PACKAGE);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: good.subarray(0, good.length - 30) }), /not a readable zip archive/);
    const flipped = rawZip([{ name: 'index.js', data: 'x'.repeat(5000), deflate: true }]);
    flipped[40] = (flipped[40] ?? 0) ^ 0xff; // inside the deflate stream
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: flipped }), /"index\.js" is corrupt/);
    const stored = rawZip([{ name: 'index.js', data: 'exports.handler = 1;' }]);
    stored[stored.indexOf('handler')] = 0x58; // a byte of the stored data: only the CRC notices
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: stored }), /"index\.js" is corrupt: CRC-32 mismatch/);
    const big = rawZip([{ name: 'big.bin', data: randomBytes(300 * 1024) }]);
    big[1000] = (big[1000] ?? 0) ^ 1; // stored and over the small-entry size: the streamed path checks the CRC too
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: big }), /"big\.bin" is corrupt: CRC-32 mismatch/);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: gzipSync(Buffer.from('not a tar archive at all')) }), /not a readable tar\.gz/);
    const tgz = await tarGzOf(PACKAGE);
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: tgz.subarray(0, tgz.length / 2) }), /not a readable tar\.gz/);
    const badChecksum = gunzipSync(rawTarGz([{ path: 'index.js', data: 'x' }]));
    badChecksum[0] = 0x41;
    await expectInvalid(packUpload({ filename: 'x.tgz', bytes: gzipSync(badChecksum) }), /not a readable tar\.gz.*checksum/);
  });

  it('rejects archive formats it does not take instead of storing them as a source file', async () => {
    await expectInvalid(packUpload({ filename: 'code.tar', bytes: gunzipSync(await tarGzOf(PACKAGE)) }), /an uncompressed tar; upload a \.zip, a \.tar\.gz/);
    await expectInvalid(packUpload({ filename: 'code.tar.xz', bytes: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]) }), /an xz archive/);
  });

  it('rejects an empty upload, an archive with no files and unusable single-file names', async () => {
    await expectInvalid(packUpload({ filename: 'index.js', bytes: new Uint8Array(0) }), /empty/);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: rawZip([]) }), /no files/);
    await expectInvalid(packUpload({ filename: 'x.zip', bytes: await zipOf([], { directories: ['lib/'] }) }), /no files/);
    for (const filename of ['', '..', 'dir/', 'bad\nname.js', 'nul\0.js', `${'a'.repeat(256)}.js`]) {
      await expectInvalid(packUpload({ filename, bytes: Buffer.from('x') }), /upload filename/);
    }
  });
});

describe('enforcing size limits', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_ARCHIVE_LIMITS).toEqual({ maxUploadBytes: 50 * MiB, maxUnpackedBytes: 250 * MiB, maxEntries: 20_000, maxCompressionRatio: 100 });
  });

  it('rejects an upload over the upload limit before reading it', async () => {
    await expectTooLarge(packUpload({ filename: 'index.js', bytes: Buffer.alloc(2048, 'a') }, { maxUploadBytes: 1024 }), /2 KiB, over the 1 KiB upload limit/);
  });

  it('rejects too many entries', async () => {
    const files = Array.from({ length: 11 }, (_, i) => ({ path: `f${i}.js`, data: 'x' }));
    await expectTooLarge(packUpload({ filename: 'x.zip', bytes: await zipOf(files) }, { maxEntries: 10 }), /more than 10 entries/);
    await expectTooLarge(packUpload({ filename: 'x.tgz', bytes: await tarGzOf(files) }, { maxEntries: 10 }), /more than 10 entries/);
    await expect(packUpload({ filename: 'x.zip', bytes: await zipOf(files.slice(1)) }, { maxEntries: 10 })).resolves.toMatchObject({ fileCount: 10 });
  });

  it('rejects a zip bomb of 300 MiB of zeros', async () => {
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('x'), 'index.js');
    zip.addReadStream(zeros(300), 'bomb.bin');
    zip.end();
    const bomb = await collect(zip.outputStream);
    expect(bomb.length).toBeLessThan(MiB);
    const started = Date.now();
    await expectTooLarge(packUpload({ filename: 'bomb.zip', bytes: bomb }), /more than 250 MiB/);
    expect(Date.now() - started).toBeLessThan(2000); // refused on declared sizes, nothing inflated
  });

  it('stops inflating a zip entry that holds more than it declares', async () => {
    // Small entries are inflated in one call with a hard output cap...
    const small = rawZip([{ name: 'small.txt', data: Buffer.alloc(50 * MiB), deflate: true, declaredSize: 1024 }]);
    await expectInvalid(packUpload({ filename: 'liar.zip', bytes: small }), /"small\.txt" is corrupt: it holds more than the 1024 bytes it declares/);
    // ...larger ones are streamed, and yauzl counts the bytes as they come out.
    const large = rawZip([{ name: 'large.txt', data: Buffer.alloc(50 * MiB), deflate: true, declaredSize: MiB }]);
    await expectInvalid(packUpload({ filename: 'liar.zip', bytes: large }), /"large\.txt" is corrupt.*too many bytes/);
  });

  it('rejects a tar.gz bomb on its declared size', async () => {
    const tgz = await collect(
      Readable.from(
        (async function* () {
          yield tarEntry({ path: 'bomb.bin' }, 300 * MiB);
          for await (const chunk of zeros(300)) yield chunk as Buffer;
          yield Buffer.alloc(1024);
        })(),
      ).pipe(createGzip({ level: 1 })),
    );
    await expectTooLarge(packUpload({ filename: 'bomb.tgz', bytes: tgz }), /more than 250 MiB/);
  });

  it('cuts off a tar.gz whose inflated stream is mostly skipped metadata', async () => {
    // A pax record too large for node-tar to parse is skipped, not counted as file data.
    const tgz = await collect(
      Readable.from(
        (async function* () {
          yield tarEntry({ path: 'PaxHeader', type: 'ExtendedHeader' }, 100 * MiB);
          for await (const chunk of zeros(100)) yield chunk as Buffer;
          yield tarEntry({ path: 'index.js', data: 'x' });
          yield Buffer.alloc(1024);
        })(),
      ).pipe(createGzip({ level: 1 })),
    );
    await expectTooLarge(packUpload({ filename: 'pad.tgz', bytes: tgz }, { maxUnpackedBytes: 20 * MiB, maxEntries: 100 }), /gzip bomb/);
  });

  it('rejects a compression ratio over the limit once past 10 MiB', async () => {
    const zip = await zipOf([{ path: 'zeros.bin', data: Buffer.alloc(20 * MiB) }]);
    await expectTooLarge(packUpload({ filename: 'x.zip', bytes: zip }), /compression ratio of \d+:1 \(limit 100:1\)/);
    // Under the floor, tiny uploads may compress as much as they like.
    const small = await zipOf([{ path: 'zeros.bin', data: Buffer.alloc(5 * MiB) }]);
    await expect(packUpload({ filename: 'x.zip', bytes: small })).resolves.toMatchObject({ unpackedBytes: 5 * MiB });
  });

  it('meters inflated bytes and throws the moment a cap is crossed', () => {
    const meter = new UnpackMeter({ ...LIMITS, maxUnpackedBytes: 100 }, 1_000_000);
    meter.add(60);
    meter.add(40);
    expect(() => meter.add(1)).toThrow(/more than 100 bytes/);
  });
});

describe('packing an upload spooled to a file', () => {
  /** Writes `bytes` to a temp file and packs it from there. */
  async function fromFile(filename: string, bytes: Buffer, limits?: Parameters<typeof packUpload>[1]) {
    const path = join(await tempDir(), 'upload');
    await writeFile(path, bytes);
    return packUpload({ filename, path }, limits);
  }

  it('gives the same canonical archive as the same bytes in memory, for every format', async () => {
    const big = { path: 'blob.bin', data: randomBytes(600 * 1024).toString('latin1') };
    const uploads: [string, Buffer][] = [
      ['fn.zip', await zipOf([...PACKAGE, big])],
      ['fn.tgz', await tarGzOf([...PACKAGE, big])],
      ['main.py', Buffer.from('def handler(event, context):\n    return 1\n')],
    ];
    for (const [filename, bytes] of uploads) {
      const a = await packUpload({ filename, bytes });
      const b = await fromFile(filename, bytes);
      expect(b.sha256, filename).toBe(a.sha256);
      expect(b.files).toEqual(a.files);
    }
  });

  it('keeps every check: corrupt, truncated, empty, too large, bombs', async () => {
    const good = await zipOf(PACKAGE);
    await expectInvalid(fromFile('x.zip', good.subarray(0, good.length - 30)), /not a readable zip archive/);
    const stored = rawZip([{ name: 'index.js', data: 'hello' }]);
    const at = stored.indexOf('hello');
    stored[at] = stored[at]! ^ 1;
    await expectInvalid(fromFile('x.zip', stored), /CRC-32 mismatch/);
    await expectInvalid(fromFile('x.zip', rawZip([{ name: '../x', data: 'pwned' }])), '../x');
    const tgz = await tarGzOf(PACKAGE);
    await expectInvalid(fromFile('x.tgz', tgz.subarray(0, tgz.length / 2)), /not a readable tar\.gz/);
    await expectInvalid(fromFile('index.js', Buffer.alloc(0)), /empty/);
    await expectTooLarge(fromFile('index.js', Buffer.alloc(2048, 'a'), { maxUploadBytes: 1024 }), /over the 1 KiB upload limit/);
    await expectTooLarge(fromFile('bomb.tgz', rawTarGz([{ path: 'zeros', data: Buffer.alloc(21 * MiB) }]), { maxUnpackedBytes: 20 * MiB }), /more than 20 MiB/);
    await expectTooLarge(fromFile('bomb.zip', rawZip([{ name: 'zeros', data: Buffer.alloc(21 * MiB), deflate: true }]), { maxUnpackedBytes: 20 * MiB }), /more than 20 MiB/);
  });
});
