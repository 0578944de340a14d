/**
 * Reading an agent's frames without letting a tenant hold the worker's
 * event loop. A frame is up to 16 MiB of tenant JSON: `JSON.parse` of 12 MB
 * of empty arrays takes ~0.8 s, and everything else on this worker — every
 * other tenant's calls — would wait for it. So a frame larger than
 * `INLINE_FRAME_BYTES` is parsed on a thread of its own, and comes back
 * with its `result` already serialised again by the worker (the record
 * stores that text; the tenant's value is never rebuilt on the main
 * thread). Small frames, whose parse costs next to nothing, are read inline
 * the same way. Frames are handed on in the order they arrived.
 */
import { Worker } from 'node:worker_threads';
import { ProtocolError } from './agent-protocol.ts';

/**
 * Frames up to this size are parsed on the event loop: ~20 ms at worst
 * whatever they hold, and an ordinary result never waits behind another
 * sandbox's large frames in the one parsing thread.
 */
export const INLINE_FRAME_BYTES = 256 * 1024;

/** A frame as read: the message without its `result`, and the result as the worker serialised it. */
export interface ReadFrame {
  /** The decoded message, `result` removed; null when the frame was not JSON. */
  message: unknown;
  /** An `invokeResult`'s `result`: its JSON text, or why it cannot be serialised (too deep, …). */
  result?: { json: string } | { unserialisable: string };
}

/**
 * Parses one frame's text and takes an `invokeResult`'s result out of it as
 * JSON text. Self-contained (it is also the thread's code): it may use only
 * its argument and JavaScript's globals.
 */
export function splitFrame(text: string): ReadFrame {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { message: null };
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return { message };
  const record = message as Record<string, unknown>;
  if (record.type !== 'invokeResult' || !Object.prototype.hasOwnProperty.call(record, 'result')) return { message };
  const value = record.result;
  delete record.result;
  try {
    return { message, result: { json: JSON.stringify(value ?? null) } };
  } catch (err) {
    return { message, result: { unserialisable: err instanceof Error ? err.message : String(err) } };
  }
}

const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const splitFrame = ${splitFrame.toString()};
parentPort.on('message', ({ id, bytes }) => {
  let read;
  try {
    read = splitFrame(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    read = { message: null };
  }
  parentPort.postMessage({ id, read });
});
`;

interface Waiting {
  resolve(read: ReadFrame): void;
  reject(err: Error): void;
}

/** The one parsing thread of this process, started on first use; it never keeps the process alive. */
class ParseThread {
  private thread: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  parse(body: Buffer): Promise<ReadFrame> {
    const thread = this.start();
    const id = this.nextId++;
    // A copy of its own, moved to the thread: the socket's buffers stay the worker's.
    const bytes = new Uint8Array(body.length);
    bytes.set(body);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      thread.postMessage({ id, bytes }, [bytes.buffer]);
    });
  }

  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(THREAD_SOURCE, { eval: true });
    thread.unref();
    thread.on('message', ({ id, read }: { id: number; read: ReadFrame }) => {
      const waiting = this.waiting.get(id);
      this.waiting.delete(id);
      waiting?.resolve(read);
    });
    const fail = (err: Error) => {
      if (this.thread === thread) this.thread = null;
      for (const waiting of this.waiting.values()) waiting.reject(err);
      this.waiting.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the frame parsing thread exited (${code})`)));
    this.thread = thread;
    return thread;
  }
}

const parser = new ParseThread();

/**
 * Reads one frame body (the bytes after its length): inline when small, on
 * the parsing thread otherwise. Throws ProtocolError when it is not JSON.
 */
export async function readFrame(body: Buffer): Promise<ReadFrame> {
  const read = body.length <= INLINE_FRAME_BYTES ? splitFrame(body.toString('utf8')) : await parser.parse(body);
  if (read.message === null) throw new ProtocolError('frame is not valid JSON');
  return read;
}
