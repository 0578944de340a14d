/**
 * Serializes a package listing as the canonical tar.gz: the same entries
 * always give the same bytes, so the archive's SHA-256 can be its address.
 * Everything that usually varies between machines is fixed: order (the
 * caller's, already sorted), mtime 0, uid/gid 0, empty user and group names,
 * modes 0755/0644, no atime/ctime, gzip at a fixed level with no name or
 * timestamp and a fixed OS byte.
 *
 * Caveat: the gzip stream is produced by the zlib Node was built with. A
 * different zlib could deflate the same tar differently, so identical code
 * deployed from differently-built gateways may get two addresses. That only
 * costs deduplication, never correctness.
 */
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { Header, Pax, type HeaderData } from 'tar';
import { invalidArchive, quoteName } from './archive-errors.ts';
import type { PackageEntry } from './entry-tree.ts';

const BLOCK = 512;
const WRITE_SIZE = 64 * 1024;
const EPOCH = new Date(0);
const GZIP_OPTIONS = {
  level: 6,
  memLevel: 8,
  windowBits: 15,
  strategy: constants.Z_DEFAULT_STRATEGY,
} as const;
/** Offset of the OS byte in a gzip header (RFC 1952); 3 = Unix. */
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;

/**
 * Size of zlib's output buffers. The default (16 KiB) leaves a 20 MB archive
 * in 1,300 small allocations until it is joined; many uploads at once then
 * fill the C heap with small blocks that malloc cannot hand back to the
 * system afterwards (the gateway stayed at 2 GB after 20 parallel deploys).
 * Large ones come and go whole. The bytes produced do not depend on it.
 */
const GZIP_CHUNK_BYTES = 1024 * 1024;

/** Writes `entries`, in the given order, as a deterministic tar.gz held in memory. */
export async function writeCanonicalTarGz(entries: readonly PackageEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(coalesce(tarStream(entries)), createGzip({ ...GZIP_OPTIONS, chunkSize: GZIP_CHUNK_BYTES }), async (gzipped: AsyncIterable<Buffer>) => {
    for await (const chunk of gzipped) chunks.push(chunk);
  });
  const tarGz = Buffer.concat(chunks);
  // zlib writes its build platform's OS code (macOS builds differ from Linux).
  tarGz[GZIP_OS_OFFSET] = GZIP_OS_UNIX;
  return tarGz;
}

async function* tarStream(entries: readonly PackageEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield* headerBlocks(entry);
    if (entry.kind !== 'file') continue;
    let written = 0;
    for await (const chunk of entry.open()) {
      written += chunk.length;
      if (written > entry.size) break;
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    // Both readers guarantee the declared size; a mismatch means a corrupt source.
    if (written !== entry.size) {
      const actual = written > entry.size ? 'more' : `only ${written}`;
      throw invalidArchive(`archive entry ${quoteName(entry.path)} declares ${entry.size} bytes but holds ${actual}`);
    }
    const padding = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
  }
  yield Buffer.alloc(2 * BLOCK); // end-of-archive marker
}

/**
 * Joins small pieces (headers, padding, tiny files) into larger writes: each
 * write to zlib is a round trip to the thread pool, which dominates the cost
 * of packages made of thousands of small files.
 */
async function* coalesce(pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of pieces) {
    pending.push(piece);
    pendingBytes += piece.length;
    if (pendingBytes >= WRITE_SIZE) {
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

function headerBlocks(entry: PackageEntry): Buffer[] {
  const data: HeaderData = {
    path: entry.kind === 'dir' ? `${entry.path}/` : entry.path,
    mode: entry.kind === 'file' ? (entry.executable ? 0o755 : 0o644) : entry.kind === 'dir' ? 0o755 : 0o777,
    uid: 0,
    gid: 0,
    size: entry.kind === 'file' ? entry.size : 0,
    mtime: EPOCH,
    type: entry.kind === 'file' ? 'File' : entry.kind === 'dir' ? 'Directory' : 'SymbolicLink',
    linkpath: entry.kind === 'symlink' ? entry.target : '',
    uname: '',
    gname: '',
  };
  const header = Buffer.alloc(BLOCK);
  const needsPax = new Header(data).encode(header);
  if (!needsPax) return [header];
  // Paths over 100/255 bytes or non-ASCII ones go in a pax record ahead of the entry.
  const body = Buffer.from(new Pax({ path: data.path, ...(entry.kind === 'symlink' ? { linkpath: entry.target } : {}) }).encodeBody());
  const paxHeader = Buffer.alloc(BLOCK);
  new Header({ path: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: EPOCH, type: 'ExtendedHeader', uname: '', gname: '' }).encode(paxHeader);
  const paddedBody = Buffer.alloc(Math.ceil(body.length / BLOCK) * BLOCK);
  body.copy(paddedBody);
  return [paxHeader, paddedBody, header];
}
