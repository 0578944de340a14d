// Log capture: `process.stdout.write` and `process.stderr.write` (hence
// `console.*`) are replaced by a capped in-memory buffer that each reply
// drains. Installed right after `hello` is written (no function code runs
// before `init`, so creating the stdio streams can wait); the real stderr
// stays available for the agent's own last words, which show up in `docker logs`.

import { safeString } from './errors.mjs';

/** Mirrors LOG_CAP_BYTES in worker/sandbox/agent-protocol.ts. */
const LOG_CAP_BYTES = 64 * 1024;
/** Room kept under the cap for the truncation marker, so logs never exceed it. */
const MARKER_RESERVE_BYTES = 96;

const captured = { chunks: [], keptBytes: 0, totalBytes: 0 };
let realStderrWrite;

/** Writes the agent's own message to the container's real stderr. */
export function agentStderr(text) {
  if (realStderrWrite) realStderrWrite(text);
  else process.stderr.write(text);
}

/** From now on, everything the process writes to stdout or stderr is captured. */
export function installCapture() {
  realStderrWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = captureWrite;
  process.stderr.write = captureWrite;
}

function captureWrite(chunk, encoding, callback) {
  if (typeof encoding === 'function') {
    callback = encoding;
    encoding = undefined;
  }
  if (typeof chunk !== 'string' && !ArrayBuffer.isView(chunk)) chunk = safeString(chunk);
  const isText = typeof chunk === 'string';
  const enc = isText && encoding && Buffer.isEncoding(encoding) ? encoding : 'utf8';
  const size = isText ? Buffer.byteLength(chunk, enc) : chunk.byteLength;
  const room = LOG_CAP_BYTES - captured.keptBytes;
  if (room > 0 && size > 0) {
    // Copy: a caller may reuse its buffer after write() returns.
    const bytes = isText ? Buffer.from(chunk, enc) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const kept = size <= room ? Buffer.from(bytes) : Buffer.from(bytes.subarray(0, room));
    captured.chunks.push(kept);
    captured.keptBytes += kept.length;
  }
  captured.totalBytes += size;
  if (typeof callback === 'function') process.nextTick(callback);
  return true;
}

/**
 * Takes everything captured since the last call as `{logs, logsTruncated}`,
 * capped at LOG_CAP_BYTES including a final truncation line.
 */
export function drainLogs() {
  const all = Buffer.concat(captured.chunks, captured.keptBytes);
  const total = captured.totalBytes;
  captured.chunks = [];
  captured.keptBytes = 0;
  captured.totalBytes = 0;
  if (total <= LOG_CAP_BYTES) return { logs: all.toString('utf8'), logsTruncated: false };
  let keep = LOG_CAP_BYTES - MARKER_RESERVE_BYTES;
  // Never cut through a UTF-8 sequence: back up to the start of a character.
  while (keep > 0 && (all[keep] & 0xc0) === 0x80) keep--;
  const head = all.toString('utf8', 0, keep);
  const newline = head.endsWith('\n') || head.length === 0 ? '' : '\n';
  return {
    logs: `${head}${newline}[hearth] log truncated: ${total - keep} bytes dropped\n`,
    logsTruncated: true,
  };
}
