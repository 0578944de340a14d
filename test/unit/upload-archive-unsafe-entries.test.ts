/** `packUpload` refuses entries that would escape, alias or confuse the unpacked tree, and archives it cannot read. */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'vitest';
import { packUpload } from '../../gateway/deploy/upload-archive.ts';
import { tarGzOf, zipOf } from '../helpers/code-fixtures.ts';
import { rawTarGz } from '../helpers/raw-tar.ts';
import { rawZip } from '../helpers/raw-zip.ts';
import { expectInvalid, PACKAGE } from '../helpers/upload-checks.ts';

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
