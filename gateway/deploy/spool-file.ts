/**
 * A private temporary file that unpacked tar data is appended to, so entries
 * can be re-read later in a different (sorted) order without holding them in
 * memory. Tar is sequential, so this is the only way to reorder a large one.
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
  #pending: Uint8Array[] = [];
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

  /** Appends `chunk`; the spool keeps a reference until it is flushed, so do not reuse it. */
  async append(chunk: Uint8Array): Promise<void> {
    this.#pending.push(chunk);
    this.#size += chunk.length;
    if (this.#size - this.#flushed >= FLUSH_BYTES) await this.#flush();
  }

  /** Streams back `length` bytes starting at `offset`. */
  async *read(offset: number, length: number): AsyncGenerator<Buffer> {
    const end = offset + length;
    if (end > this.#size) throw new RangeError(`spool holds ${this.#size} bytes, asked for up to ${end}`);
    if (length === 0) return;
    if (this.#pending.length > 0) await this.#flush();
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
    this.#pending = [];
    await this.handle.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  async #flush(): Promise<void> {
    const data = Buffer.concat(this.#pending);
    this.#pending = [];
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, this.#flushed + done);
      done += bytesWritten;
    }
    this.#flushed += data.length;
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
