/**
 * Drives node-tar's push-style parser from an async source with backpressure,
 * handing entries to an async handler strictly one at a time. Used by the
 * gateway (reading uploads) and the worker (unpacking canonical archives).
 */
import { once } from 'node:events';
import { Parser, type ReadEntry } from 'tar';

/**
 * Parses the uncompressed tar stream `tar` and calls `onEntry` for each real
 * entry (pax and GNU long-name records are already folded in), in archive
 * order. The next entry is not delivered until the previous handler's promise
 * settles, and the handler must consume the entry's data (or `resume()` it).
 * Resolves after the end-of-archive marker and the last handler; rejects with
 * the first parser or handler error, after which no more input is read.
 * Parsing is strict: a bad checksum or truncated data is an error.
 */
export async function forEachTarEntry(tar: AsyncIterable<Uint8Array>, onEntry: (entry: ReadEntry) => Promise<void>): Promise<void> {
  // Input is always plain tar: never let the parser sniff and inflate a
  // nested compressed stream behind our byte counters.
  const parser = new Parser({ strict: true, brotli: false, zstd: false });
  let failure: { error: unknown } | undefined;
  let signalFailure: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    signalFailure = reject;
  });
  failed.catch(() => undefined); // observed through the races below
  let current: ReadEntry | undefined;
  const fail = (error: unknown): void => {
    if (failure) return;
    failure = { error };
    signalFailure(error);
    // Unblocks a handler waiting on data that will now never arrive.
    current?.destroy();
  };

  let handlers = Promise.resolve();
  parser.on('error', fail);
  parser.on('entry', (entry: ReadEntry) => {
    handlers = handlers.then(async () => {
      if (failure) return;
      current = entry;
      try {
        await onEntry(entry);
      } catch (error) {
        fail(error);
      } finally {
        current = undefined;
      }
    });
  });
  const ended = new Promise<void>((resolve) => parser.once('end', resolve));
  let sawEof = false;
  parser.once('eof', () => {
    sawEof = true;
  });

  try {
    for await (const chunk of tar) {
      // Whatever follows the end-of-archive marker is ignored, not inflated.
      if (failure || sawEof) break;
      if (!parser.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        await Promise.race([once(parser, 'drain'), failed, ended]);
      }
    }
    if (!failure) {
      parser.end();
      await Promise.race([ended, failed]);
    }
  } catch (error) {
    fail(error);
  }
  await handlers;
  if (failure) throw failure.error;
}
