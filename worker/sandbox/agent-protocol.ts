/**
 * The wire protocol between a worker and the runtime agent inside a function
 * container. It is a single Unix stream socket: the worker listens on
 * `<container dir>/agent.sock`, bind-mounted into the container at
 * `/run/hearth/agent.sock`; the agent connects as soon as its process starts.
 *
 * Framing: every message is a 4-byte unsigned big-endian length N followed by
 * N bytes of UTF-8 JSON (one object). Length-prefixing (not newlines) lets the
 * worker splice an already-validated JSON event into a frame verbatim.
 *
 * Order: agent `hello` → worker `init` → agent `initResult` → then any number
 * of worker `invoke` → agent `invokeResult`, strictly one at a time. When the
 * socket closes the agent exits, so closing it also ends the container.
 *
 * This file is imported by the worker and by tests; the agents in
 * `runtime-images/` implement the same protocol in their own language.
 * Everything an agent sends is tenant input: `agent-messages.ts` checks it.
 */

/** Largest frame either side accepts (result and event caps are lower). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Per-invocation log cap the agents apply (bytes of UTF-8). */
export const LOG_CAP_BYTES = 64 * 1024;

export interface HelloMessage {
  type: 'hello';
  runtime: string;
  agentVersion: number;
}

export interface InitMessage {
  type: 'init';
  /** Where the function's code is mounted, read-only: `/var/task`. */
  codeDir: string;
  /** `file.function`, e.g. `index.handler` or `src/app.main`. */
  handler: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: number;
  timeoutMs: number;
  /** The function's own environment (secret values already filled in), applied before its code loads. */
  env: Record<string, string>;
  /**
   * Secret files, by secret name (`[a-z0-9][a-z0-9-_.]{0,62}`): the agent writes
   * each to `/run/secrets/<name>` (a tmpfs the worker mounts), mode 0400,
   * before the code loads, and keeps the values nowhere else. Absent: none.
   */
  secrets?: Record<string, string>;
}

/** How a function failed, in Lambda's shape (`errorType` → `type`). */
export interface FunctionErrorInfo {
  type: string;
  message: string;
  stack?: string;
}

export interface InitResultMessage {
  type: 'initResult';
  ok: boolean;
  /** The agent is exiting right after this reply (a crash during init). */
  fatal?: boolean;
  /** The agent's own timing: shown in tests, never used (the worker measures time itself). */
  durationMs?: number;
  error?: FunctionErrorInfo;
  logs: string;
  logsTruncated: boolean;
}

export interface InvokeMessage {
  type: 'invoke';
  id: string;
  event: unknown;
  /** Epoch milliseconds after which the worker kills the container. */
  deadlineMs: number;
}

export interface InvokeResultMessage {
  type: 'invokeResult';
  id: string;
  ok: boolean;
  /** The agent is exiting right after this reply (unhandled rejection, `sys.exit`). */
  fatal?: boolean;
  result?: unknown;
  error?: FunctionErrorInfo;
  /** The agent's own timing: never used (the worker measures time itself). */
  durationMs?: number;
  logs: string;
  logsTruncated: boolean;
}

export type AgentMessage = HelloMessage | InitResultMessage | InvokeResultMessage;
export type WorkerMessage = InitMessage | InvokeMessage;

/** Encodes one message as a length-prefixed frame. */
export function encodeFrame(message: WorkerMessage | AgentMessage): Buffer {
  return encodeJsonFrame(JSON.stringify(message));
}

/** Frames an already-serialised JSON text. */
export function encodeJsonFrame(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/**
 * Frames an invoke message whose event is raw JSON text that the caller has
 * already validated, without parsing and re-serialising it.
 */
export function encodeInvokeFrame(id: string, rawEventJson: string, deadlineMs: number): Buffer {
  return encodeJsonFrame(
    `{"type":"invoke","id":${JSON.stringify(id)},"deadlineMs":${deadlineMs},"event":${rawEventJson}}`,
  );
}

/** Thrown when a peer sends a frame that is too large or not JSON. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * Accumulates stream chunks and yields complete frames. The worker reads
 * agents' frames with `frames` (parsing them off its event loop, see
 * `frame-reader.ts`); `push` parses them at once, for the other direction.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds a chunk; returns every message completed by it, in order. */
  push(chunk: Buffer): unknown[] {
    return this.frames(chunk).map((body) => {
      try {
        return JSON.parse(body.toString('utf8'));
      } catch {
        throw new ProtocolError('frame is not valid JSON');
      }
    });
  }

  /** Feeds a chunk; returns the body of every frame completed by it, in order. */
  frames(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
      if (this.buffered < 4 + length) break;
      frames.push(this.take(4 + length).subarray(4));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
