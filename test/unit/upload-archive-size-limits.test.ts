/** `packUpload` holds uploads to their size, entry-count and compression-ratio limits, bombs included. */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { UnpackMeter, DEFAULT_ARCHIVE_LIMITS as LIMITS } from '../../gateway/deploy/archive-limits.ts';
import { DEFAULT_ARCHIVE_LIMITS, packUpload } from '../../gateway/deploy/upload-archive.ts';
import { collect, tarGzOf, zeros, zipOf } from '../helpers/code-fixtures.ts';
import { rawZip } from '../helpers/raw-zip.ts';
import { tarEntry } from '../helpers/raw-tar.ts';
import { expectInvalid, expectTooLarge, MiB } from '../helpers/upload-checks.ts';

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
