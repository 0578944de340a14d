/**
 * Reads an uploaded tar.gz into an {@link EntryTree}. Tar is sequential while
 * the canonical output is sorted, so file data is spooled to a temp file on
 * the way through and re-read in order by the writer; memory stays bounded.
 */
import type { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ReadEntry } from 'tar';
import { archiveTooLarge, asInvalid, invalidArchive, quoteName } from './archive-errors.ts';
import { formatBytes, type ArchiveLimits, type UnpackMeter } from './archive-limits.ts';
import type { EntryTree } from './entry-tree.ts';
import type { SpoolFile } from './spool-file.ts';
import { forEachTarEntry } from '../../worker/common/tar-entries.ts';

/**
 * Room per entry for tar framing (header, pax record, padding) on top of file
 * data. The total inflated stream is capped at maxUnpackedBytes plus this per
 * allowed entry, so padding or junk between entries cannot be a bomb either.
 */
const FRAMING_ALLOWANCE_PER_ENTRY = 8 * 1024;

/** Reads the gzip stream `upload` (pieces of the uploaded file, from its start). */
export async function readTarGz(upload: AsyncIterable<Buffer>, tree: EntryTree, meter: UnpackMeter, limits: ArchiveLimits, spool: SpoolFile): Promise<void> {
  const gunzip = createGunzip();
  // Fed by hand with backpressure; a failure here also fails gunzip, and so the read below.
  const feeding = (async () => {
    for await (const piece of upload) {
      if (gunzip.destroyed) return;
      if (!gunzip.write(piece)) await drained(gunzip);
    }
    gunzip.end();
  })().catch((err: unknown) => gunzip.destroy(err as Error));
  try {
    await forEachTarEntry(countInflated(gunzip, limits), (entry) => readEntry(entry, tree, meter, spool));
  } catch (error) {
    throw asInvalid(error, 'not a readable tar.gz archive');
  } finally {
    gunzip.destroy();
    await feeding;
  }
}

/** Resolves once `stream` takes more writes, or is gone. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

async function* countInflated(gunzip: AsyncIterable<Buffer>, limits: ArchiveLimits): AsyncGenerator<Buffer> {
  const cap = limits.maxUnpackedBytes + (limits.maxEntries + 1) * FRAMING_ALLOWANCE_PER_ENTRY;
  let inflated = 0;
  for await (const chunk of gunzip) {
    inflated += chunk.length;
    if (inflated > cap) throw archiveTooLarge(`tar.gz inflates to more than ${formatBytes(cap)}; this looks like a gzip bomb`);
    yield chunk;
  }
}

async function readEntry(entry: ReadEntry, tree: EntryTree, meter: UnpackMeter, spool: SpoolFile): Promise<void> {
  const name = quoteName(entry.path);
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile': {
      const offset = spool.size;
      const size = entry.size;
      tree.add(entry.path, {
        kind: 'file',
        size,
        executable: ((entry.mode ?? 0) & 0o111) !== 0,
        open: () => spool.read(offset, size),
      });
      for await (const chunk of entry) {
        meter.add(chunk.length);
        await spool.append(chunk);
      }
      if (spool.size - offset !== size) throw invalidArchive(`tar entry ${name} is truncated`);
      return;
    }
    case 'Directory':
      tree.add(entry.path, { kind: 'dir' });
      break;
    case 'SymbolicLink':
      tree.add(entry.path, { kind: 'symlink', target: entry.linkpath ?? '' });
      break;
    case 'Link':
      throw invalidArchive(`tar entry ${name} is a hard link; hard links are not allowed (archive the file itself)`);
    case 'CharacterDevice':
    case 'BlockDevice':
      throw invalidArchive(`tar entry ${name} is a device node; only files, directories and symlinks are allowed`);
    case 'FIFO':
      throw invalidArchive(`tar entry ${name} is a FIFO; only files, directories and symlinks are allowed`);
    default:
      throw invalidArchive(`tar entry ${name} has unsupported type ${entry.type}; only files, directories and symlinks are allowed`);
  }
  entry.resume();
}
