/**
 * Turns an uploaded function package into the canonical, content-addressed
 * archive the platform stores. The upload may be a zip, a tar.gz or a single
 * source file; whatever it was, the result is a deterministic tar.gz whose
 * SHA-256 is its address, holding only regular files, directories and
 * symlinks that stay inside the package.
 *
 * Where each rule lives:
 * - upload size, format detection by magic bytes: here
 * - names and symlink target syntax: `archive-paths.ts`
 * - entry count, collisions, symlink containment: `entry-tree.ts`
 * - unpacked size and compression ratio, declared and while inflating: `archive-limits.ts`
 * - format specifics (zip modes, sizes and CRCs, tar entry types, gzip stream cap): `read-zip.ts`, `read-tar.ts`
 * - byte-for-byte determinism: `canonical-tar.ts`
 */
import { createHash } from 'node:crypto';
import { archiveTooLarge, invalidArchive } from './archive-errors.ts';
import { formatBytes, resolveLimits, UnpackMeter, type ArchiveLimits } from './archive-limits.ts';
import { singleFileName } from './archive-paths.ts';
import { writeCanonicalTarGz } from './canonical-tar.ts';
import { EntryTree } from './entry-tree.ts';
import { readTarGz } from './read-tar.ts';
import { readZip } from './read-zip.ts';
import { SpoolFile } from './spool-file.ts';
import { memorySource, spooledSource, type UploadSource } from './upload-source.ts';

export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-limits.ts';

export interface PackedCode {
  /** Hex SHA-256 of `tarGz`: the code's content address. */
  sha256: string;
  /** The canonical archive (see `canonical-tar.ts` for what is fixed). */
  tarGz: Buffer;
  /** What the upload was, detected from its first bytes. */
  format: 'zip' | 'tar.gz' | 'file';
  /** Number of regular files. */
  fileCount: number;
  /** Total bytes of regular files. */
  unpackedBytes: number;
  /** Regular file paths, relative, `/`-separated, sorted. */
  files: string[];
  /** Symlink paths (relative, in-tree: see above), sorted: a handler's module may be one, as on Lambda. */
  symlinks?: string[];
}

/** An upload held in memory, or (for large ones) a file it was spooled to, which is read but never changed or removed. */
export type UploadInput = { filename: string; bytes: Uint8Array } | { filename: string; path: string };

/**
 * Validates `upload` and re-packs it canonically. The format is detected by
 * magic bytes, never by name: zip (`PK\x03\x04`, or `PK\x05\x06` for an empty
 * zip), gzip (`1f 8b`, read as tar.gz), otherwise a single source file stored
 * under the basename of `upload.filename` with mode 0644.
 *
 * Throws `HearthError` 400 `InvalidArchive` for anything unreadable or unsafe
 * (absolute or `..` paths, escaping or absolute symlinks, hard links, devices,
 * FIFOs, sockets, conflicting duplicates, an empty upload, no files at all)
 * and 413 `ArchiveTooLarge` when a cap in `limits` (defaults
 * `DEFAULT_ARCHIVE_LIMITS`) is crossed; size caps are enforced while data is
 * inflated, so a bomb is stopped early, and file data is streamed rather than
 * held in memory (tar uploads pass through a temp file to be reordered). An
 * upload given as a `path` is read whole when it is at most `readWholeBytes`
 * (default `READ_WHOLE_BYTES`, 16 MiB: see there), else from the file as needed.
 */
export async function packUpload(upload: UploadInput, limits?: Partial<ArchiveLimits>, readWholeBytes?: number): Promise<PackedCode> {
  const caps = resolveLimits(limits);
  const source = 'path' in upload ? await spooledSource(upload.path, readWholeBytes) : memorySource(upload.bytes);
  try {
    if (source.size === 0) throw invalidArchive('the uploaded code is empty');
    if (source.size > caps.maxUploadBytes) {
      throw archiveTooLarge(`the uploaded code is ${formatBytes(source.size)}, over the ${formatBytes(caps.maxUploadBytes)} upload limit`);
    }
    return await pack(upload.filename, source, caps);
  } finally {
    await source.close();
  }
}

async function pack(filename: string, source: UploadSource, caps: ArchiveLimits): Promise<PackedCode> {
  const format = detectFormat(await source.read(0, Math.min(source.size, HEAD_BYTES)));
  const meter = new UnpackMeter(caps, source.size);
  const tree = new EntryTree(caps, meter);
  const spool = format === 'tar.gz' ? await SpoolFile.create() : undefined;
  try {
    if (format === 'zip') await readZip(source, tree, meter);
    else if (spool) await readTarGz(source.stream(), tree, meter, caps, spool);
    else addSingleFile(filename, source, tree, meter);

    const entries = tree.finish();
    const tarGz = await writeCanonicalTarGz(entries);
    const files = entries.flatMap((e) => (e.kind === 'file' ? [e.path] : []));
    const unpackedBytes = entries.reduce((sum, e) => sum + (e.kind === 'file' ? e.size : 0), 0);
    return {
      sha256: createHash('sha256').update(tarGz).digest('hex'),
      tarGz,
      format,
      fileCount: files.length,
      unpackedBytes,
      files,
      symlinks: entries.flatMap((e) => (e.kind === 'symlink' ? [e.path] : [])),
    };
  } finally {
    await spool?.dispose();
  }
}

/** Enough of the start of an upload to recognise every format we know (tar's magic sits at 257). */
const HEAD_BYTES = 512;

/**
 * Archive formats we do not take. Without this check such an upload would be
 * stored as one oddly named "source file" and fail much later, at invoke time.
 */
const UNSUPPORTED_FORMATS: { name: string; offset: number; magic: Buffer }[] = [
  { name: 'an uncompressed tar', offset: 257, magic: Buffer.from('ustar') },
  { name: 'a bzip2 archive', offset: 0, magic: Buffer.from('BZh') },
  { name: 'an xz archive', offset: 0, magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  { name: 'a zstd archive', offset: 0, magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) },
  { name: 'a 7z archive', offset: 0, magic: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { name: 'a RAR archive', offset: 0, magic: Buffer.from('Rar!') },
];

const startsWith = (bytes: Buffer, magic: readonly number[], offset = 0): boolean => magic.every((byte, i) => bytes[offset + i] === byte);

/** A zip starts with a local file header, or (when empty) the end-of-central-directory record "PK\x05\x06". */
export function isZip(bytes: Buffer): boolean {
  return startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]);
}

function detectFormat(bytes: Buffer): PackedCode['format'] {
  if (isZip(bytes)) return 'zip';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'tar.gz';
  const unsupported = UNSUPPORTED_FORMATS.find((f) => startsWith(bytes, [...f.magic], f.offset));
  if (unsupported) throw invalidArchive(`the upload is ${unsupported.name}; upload a .zip, a .tar.gz or a single source file`);
  return 'file';
}

function addSingleFile(filename: string, source: UploadSource, tree: EntryTree, meter: UnpackMeter): void {
  tree.add(singleFileName(filename), {
    kind: 'file',
    size: source.size,
    executable: false,
    open: async function* () {
      for await (const chunk of source.stream()) {
        meter.add(chunk.length);
        yield chunk;
      }
    },
  });
}
