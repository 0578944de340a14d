/**
 * Reads an uploaded zip into an {@link EntryTree}. Only the central directory
 * (and symlink targets) are read up front; file data is inflated later, entry
 * by entry in sorted order, straight into the canonical tar, counted by the
 * meter as it comes out and checked against its declared size and CRC-32.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import type { Entry, ZipFile } from 'yauzl';
import { asInvalid, invalidArchive, quoteName } from './archive-errors.ts';
import type { UnpackMeter } from './archive-limits.ts';
import type { EntryTree } from './entry-tree.ts';
import type { UploadSource } from './upload-source.ts';
import { HearthError } from '../errors.ts';

// Unix file-type bits, found in the high 16 bits of a zip entry's external
// attributes when the archiver recorded them.
const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

/**
 * Entries up to this size (declared, both compressed and not) are inflated in
 * one synchronous call instead of through a stream: a zlib stream per entry
 * costs ~0.4 ms of set-up and thread-pool round trips, which is seconds for a
 * node_modules zip of 20k small files. The output cap still holds during
 * inflation (`maxOutputLength`), so a lying entry is cut off, not trusted.
 */
const SMALL_ENTRY_BYTES = 256 * 1024;

/** Longest symlink target we read out of a zip (Linux PATH_MAX). */
const MAX_LINK_TARGET_BYTES = 4096;

export async function readZip(upload: UploadSource, tree: EntryTree, meter: UnpackMeter): Promise<void> {
  try {
    // Backslashes are converted to "/" and then, like absolute and ".."
    // names, rejected by yauzl before we ever see the entry.
    const zip = await upload.openZip({ lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false });
    tree.expectEntries(zip.entryCount);
    for await (const entry of zip.eachEntry()) await readEntry(upload, zip, entry, tree, meter);
  } catch (error) {
    throw asInvalid(error, 'not a readable zip archive');
  }
}

async function readEntry(upload: UploadSource, zip: ZipFile, entry: Entry, tree: EntryTree, meter: UnpackMeter): Promise<void> {
  const name = quoteName(entry.fileName);
  const type = unixMode(entry) & S_IFMT;
  if (entry.fileName.endsWith('/') || type === S_IFDIR) {
    tree.add(entry.fileName, { kind: 'dir' });
    return;
  }
  switch (type) {
    case 0: // archiver recorded no Unix mode (e.g. made on Windows): a plain file
    case S_IFREG:
      break;
    case S_IFLNK:
      checkReadable(entry);
      tree.add(entry.fileName, { kind: 'symlink', target: await readLinkTarget(zip, entry) });
      return;
    case S_IFCHR:
    case S_IFBLK:
      throw invalidArchive(`zip entry ${name} is a device node; only files, directories and symlinks are allowed`);
    case S_IFIFO:
      throw invalidArchive(`zip entry ${name} is a FIFO; only files, directories and symlinks are allowed`);
    case S_IFSOCK:
      throw invalidArchive(`zip entry ${name} is a socket; only files, directories and symlinks are allowed`);
    default:
      throw invalidArchive(`zip entry ${name} has unknown file type 0o${type.toString(8)}`);
  }
  checkReadable(entry);
  tree.add(entry.fileName, {
    kind: 'file',
    size: entry.uncompressedSize,
    executable: (unixMode(entry) & 0o111) !== 0,
    open: () => (isSmall(entry) ? inflateSmall(upload, zip, entry, meter) : inflate(zip, entry, meter)),
  });
}

/** The Unix mode, or 0 when the archiver was not a Unix-like system. */
function unixMode(entry: Entry): number {
  const madeBy = entry.versionMadeBy >> 8;
  const isUnixLike = madeBy === 3 /* Unix */ || madeBy === 19; /* OS X */
  return isUnixLike ? entry.externalFileAttributes >>> 16 : 0;
}

function checkReadable(entry: Entry): void {
  const name = quoteName(entry.fileName);
  if (entry.isEncrypted()) throw invalidArchive(`zip entry ${name} is encrypted; upload an unencrypted zip`);
  if (!entry.canDecodeFileData()) {
    throw invalidArchive(`zip entry ${name} uses compression method ${entry.compressionMethod}; only stored and deflate are supported`);
  }
}

async function* inflate(zip: ZipFile, entry: Entry, meter: UnpackMeter): AsyncGenerator<Buffer> {
  let crc = 0;
  try {
    // yauzl also fails the stream as soon as it yields more bytes than declared.
    for await (const chunk of await zip.openReadStreamPromise(entry)) {
      meter.add((chunk as Buffer).length);
      crc = crc32(chunk as Buffer, crc);
      yield chunk as Buffer;
    }
  } catch (error) {
    throw asInvalid(error, `zip entry ${quoteName(entry.fileName)} is corrupt`);
  }
  checkCrc(entry, crc);
}

function isSmall(entry: Entry): boolean {
  return entry.uncompressedSize <= SMALL_ENTRY_BYTES && entry.compressedSize <= SMALL_ENTRY_BYTES;
}

async function* inflateSmall(upload: UploadSource, zip: ZipFile, entry: Entry, meter: UnpackMeter): AsyncGenerator<Buffer> {
  const name = quoteName(entry.fileName);
  const declared = entry.uncompressedSize;
  let data: Buffer;
  try {
    const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
    const raw = await upload.read(fileDataStart, entry.compressedSize);
    // One byte of headroom so an entry holding more than it declares is detected.
    data = entry.compressionMethod === 0 ? raw : inflateRawSync(raw, { maxOutputLength: declared + 1 });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw holdsMore(entry);
    throw asInvalid(error, `zip entry ${name} is corrupt`);
  }
  if (data.length > declared) throw holdsMore(entry);
  if (data.length < declared) throw invalidArchive(`zip entry ${name} is corrupt: it declares ${declared} bytes but holds only ${data.length}`);
  checkCrc(entry, crc32(data));
  meter.add(data.length);
  yield data;
}

function holdsMore(entry: Entry): HearthError {
  return invalidArchive(`zip entry ${quoteName(entry.fileName)} is corrupt: it holds more than the ${entry.uncompressedSize} bytes it declares`);
}

/** Stored entries have no other integrity check, and deflate streams only a weak one. */
function checkCrc(entry: Entry, actual: number): void {
  if (actual !== entry.crc32) throw invalidArchive(`zip entry ${quoteName(entry.fileName)} is corrupt: CRC-32 mismatch`);
}

async function readLinkTarget(zip: ZipFile, entry: Entry): Promise<string> {
  if (entry.uncompressedSize > MAX_LINK_TARGET_BYTES) {
    throw invalidArchive(`zip symlink ${quoteName(entry.fileName)} has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
  } catch (error) {
    throw asInvalid(error, `zip entry ${quoteName(entry.fileName)} is corrupt`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
