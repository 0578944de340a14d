// Framing for the agent's one socket: a 4-byte big-endian length, then that
// many bytes of UTF-8 JSON. Defined in `worker/sandbox/agent-protocol.ts`.

/** Mirrors MAX_FRAME_BYTES in worker/sandbox/agent-protocol.ts. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The frame holding an already-serialised JSON text. */
export function frameOf(json) {
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body], 4 + body.length);
}

/**
 * Returns `take(chunk)`: collects the socket's chunks and returns each
 * message they complete, in order. Throws on a frame over MAX_FRAME_BYTES or
 * one that is not JSON (the caller treats either as a protocol error).
 */
export function createFrameReader() {
  const inbox = { chunks: [], bytes: 0 };
  return function take(chunk) {
    inbox.chunks.push(chunk);
    inbox.bytes += chunk.length;
    const messages = [];
    while (inbox.bytes >= 4) {
      // Concatenate only once a whole frame is here, so a large event arriving
      // in many chunks is copied once, not once per chunk.
      const first = inbox.chunks[0].length >= 4 ? inbox.chunks[0] : Buffer.concat(inbox.chunks);
      const length = first.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (inbox.bytes < 4 + length) break;
      const all = inbox.chunks.length === 1 ? inbox.chunks[0] : Buffer.concat(inbox.chunks, inbox.bytes);
      messages.push(JSON.parse(all.toString('utf8', 4, 4 + length)));
      const rest = all.subarray(4 + length);
      inbox.chunks = rest.length > 0 ? [rest] : [];
      inbox.bytes = rest.length;
    }
    return messages;
  };
}
