/**
 * Where the bytes of an upload are read from while it is unpacked: a buffer
 * (small uploads, the Lambda API's inline `ZipFile`, and spooled uploads up
 * to `READ_WHOLE_BYTES`) or a file the request body was spooled to, read
 * piece by piece so a large upload is never held in memory whole. Both give random access (a zip's central directory sits
 * at its end) and a sequential stream (tar.gz, single files).
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import yauzl, { type Options, type ZipFile } from 'yauzl';

export interface UploadSource {
  /** Total bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; throws when they run past the end. */
  read(offset: number, length: number): Promise<Buffer>;
  /** The whole upload from its first byte, in pieces. */
  stream(): AsyncIterable<Buffer>;
  /** Opens the upload as a zip (yauzl). */
  openZip(options: Options): Promise<ZipFile>;
  /** Lets go of the file, if any (it is not deleted: it belongs to the caller). */
  close(): Promise<void>;
}

const PIECE_BYTES = 256 * 1024;

function pastEnd(offset: number, length: number, size: number): Error {
  return new Error(`asked for bytes ${offset}..${offset + length} of an upload of ${size} bytes: entry data runs past the end of the file`);
}

export function memorySource(bytes: Uint8Array): UploadSource {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: buffer.length,
    read: async (offset, length) => {
      if (offset < 0 || offset + length > buffer.length) throw pastEnd(offset, length, buffer.length);
      return buffer.subarray(offset, offset + length);
    },
    stream: async function* () {
      if (buffer.length > 0) yield buffer;
    },
    openZip: (options) => yauzl.fromBufferPromise(buffer, options),
    close: async () => {},
  };
}

/**
 * A spooled upload up to this size is read whole, in one call: unpacking a
 * zip through the file costs two thread-pool reads per entry (its local
 * header, its data), which for a node_modules zip of 3,400 small files was
 * 1.8–3.2 s against 0.5–0.6 s from memory (a 2.9 MiB AWS SDK bundle, this
 * machine). The upload's bytes are already counted against the gateway's
 * upload budget while it is packed, so holding them adds nothing the budget
 * does not know of; larger uploads are still read piece by piece.
 */
export const READ_WHOLE_BYTES = 16 * 1024 * 1024;

/** The upload spooled to `path`: in memory up to `readWholeBytes`, else read from the file as needed. */
export async function spooledSource(path: string, readWholeBytes = READ_WHOLE_BYTES): Promise<UploadSource> {
  if ((await stat(path)).size > readWholeBytes) return fileSource(path);
  return memorySource(await readFile(path));
}

/** Opens the file at `path` for reading. */
export async function fileSource(path: string): Promise<UploadSource> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw err;
  }
  const read = (offset: number, length: number) => readAt(handle, offset, length, size);
  return {
    size,
    read,
    stream: async function* () {
      for (let at = 0; at < size; at += PIECE_BYTES) yield await read(at, Math.min(PIECE_BYTES, size - at));
    },
    // The descriptor stays ours: yauzl reads through it and `close` ends it.
    openZip: (options) => yauzl.fromFdPromise(handle.fd, { ...options, autoClose: false }),
    close: () => handle.close().catch(() => undefined),
  };
}

async function readAt(handle: FileHandle, offset: number, length: number, size: number): Promise<Buffer> {
  if (offset < 0 || offset + length > size) throw pastEnd(offset, length, size);
  const buffer = Buffer.allocUnsafe(length);
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) throw new Error(`the upload file ended at ${offset + done}, expected ${offset + length}`);
    done += bytesRead;
  }
  return buffer;
}
