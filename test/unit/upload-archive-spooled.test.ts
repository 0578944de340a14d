/** `packUpload` from an upload spooled to a temp file: the same archive and the same checks as from memory. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packUpload } from '../../gateway/deploy/upload-archive.ts';
import { removeTempDirs, tarGzOf, tempDir, zipOf } from '../helpers/code-fixtures.ts';
import { rawTarGz } from '../helpers/raw-tar.ts';
import { rawZip } from '../helpers/raw-zip.ts';
import { expectInvalid, expectTooLarge, MiB, PACKAGE } from '../helpers/upload-checks.ts';

afterAll(removeTempDirs);

describe('packing an upload spooled to a file', () => {
  /** Writes `bytes` to a temp file and packs it from there: read piece by piece (as a large upload is), or whole with `whole`. */
  async function spooled(filename: string, bytes: Buffer, limits?: Parameters<typeof packUpload>[1], whole = false) {
    const path = join(await tempDir(), 'upload');
    await writeFile(path, bytes);
    return packUpload({ filename, path }, limits, whole ? undefined : 0);
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
      const b = await spooled(filename, bytes);
      expect(b.sha256, filename).toBe(a.sha256);
      expect(b.files).toEqual(a.files);
      // A spooled upload under READ_WHOLE_BYTES is read whole: the same archive again.
      expect((await spooled(filename, bytes, undefined, true)).sha256, filename).toBe(a.sha256);
    }
  });

  it('keeps every check, read piece by piece or whole: corrupt, truncated, empty, too large, bombs', async () => {
    for (const whole of [false, true]) await everyCheck(whole);
  });

  async function everyCheck(whole: boolean) {
    const fromFile = (filename: string, bytes: Buffer, limits?: Parameters<typeof packUpload>[1]) => spooled(filename, bytes, limits, whole);
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
  }
});
