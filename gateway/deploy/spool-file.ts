/**
 * A private temporary file that unpacked tar data is appended to, so entries
 * can be re-read later in a different (sorted) order without holding them in
 * memory. Tar is sequential, so this is the only way to reorder a large one.
 * An uploaded body's code part is written to one too, as it arrives.
 *
 * Writes are batched and small reads are served from a read-ahead window:
 * every file-system call is a thread-pool round trip, and a package of 20k
 * small files would otherwise spend seconds on them. Files of one directory
 * sit together in both the upload and the sorted order, so the window mostly hits.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FLUSH_BYTES = 1024 * 1024;
const WINDOW_BYTES = 64 * 1024;

export class SpoolFile {
  #size = 0;
  #flushed = 0;
  /** One write batch, reused: appended pieces are copied in, so no piece is kept and the C heap is not filled with them. */
  #batch: Buffer | undefined;
  #batched = 0;
  #window: { start: number; data: Buffer } | undefined;

  private constructor(
    private readonly dir: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates an empty spool under the OS temp dir, readable only by us. */
  static async create(): Promise<SpoolFile> {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-upload-'));
    try {
      return new SpoolFile(dir, await open(join(dir, 'spool'), 'w+', 0o600));
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Bytes appended so far; the offset the next append lands at. */
  get size(): number {
    return this.#size;
  }

  /** Appends a copy of `chunk` (the caller may reuse it). */
  async append(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      this.#batch ??= Buffer.allocUnsafeSlow(FLUSH_BYTES);
      const n = Math.min(chunk.length - at, FLUSH_BYTES - this.#batched);
      this.#batch.set(chunk.subarray(at, at + n), this.#batched);
      this.#batched += n;
      this.#size += n;
      at += n;
      if (this.#batched === FLUSH_BYTES) await this.#flush();
    }
  }

  /** Writes out what is still buffered and returns the file's path, for reading it as a whole file. */
  async finish(): Promise<string> {
    if (this.#batched > 0) await this.#flush();
    return join(this.dir, 'spool');
  }

  /** Streams back `length` bytes starting at `offset`. */
  async *read(offset: number, length: number): AsyncGenerator<Buffer> {
    const end = offset + length;
    if (end > this.#size) throw new RangeError(`spool holds ${this.#size} bytes, asked for up to ${end}`);
    if (length === 0) return;
    if (this.#batched > 0) await this.#flush();
    if (length >= WINDOW_BYTES) {
      for (let position = offset; position < end; position += WINDOW_BYTES) yield await this.#readAt(position, Math.min(WINDOW_BYTES, end - position));
      return;
    }
    let window = this.#window;
    if (!window || offset < window.start || end > window.start + window.data.length) {
      window = { start: offset, data: await this.#readAt(offset, Math.min(WINDOW_BYTES, this.#flushed - offset)) };
      this.#window = window;
    }
    yield window.data.subarray(offset - window.start, end - window.start);
  }

  /** Closes and deletes the spool; safe to call more than once. */
  async dispose(): Promise<void> {
    this.#batch = undefined;
    this.#batched = 0;
    await this.handle.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  async #flush(): Promise<void> {
    const data = this.#batch!.subarray(0, this.#batched);
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, this.#flushed + done);
      done += bytesWritten;
    }
    this.#flushed += data.length;
    this.#batched = 0;
  }

  async #readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw new Error(`spool file ended at ${position + done}, expected ${position + length}`);
      done += bytesRead;
    }
    return buffer;
  }
}
