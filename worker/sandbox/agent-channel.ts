/**
 * The worker's end of one sandbox's agent socket (see `agent-protocol.ts`).
 * The worker listens before the container starts, so "ready" is simply the
 * agent's `hello` arriving: no polling and no sleeps on the cold path.
 *
 * The channel enforces the protocol's order against a hostile peer: one
 * hello, then exactly one answer per request, of the type asked for and (for
 * an invocation) with the id in flight. Anything else — an unasked-for
 * frame, a second answer, another call's id, a malformed or oversized frame —
 * is a `ProtocolViolation`: the channel closes, and the request in flight
 * fails with it.
 */
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { ProtocolViolation, checkAgentMessage, type CheckedAgentMessage, type CheckedInvokeResult } from './agent-messages.ts';
import {
  FrameDecoder,
  ProtocolError,
  type HelloMessage,
  type InitMessage,
  type InitResultMessage,
  encodeFrame,
  encodeInvokeFrame,
} from './agent-protocol.ts';
import { readFrame } from './frame-reader.ts';

/** Raised when the agent's connection ends before it answered. */
export class AgentClosedError extends Error {
  override name = 'AgentClosedError';
}

/** Raised when the agent does not say hello in time. */
export class AgentStartTimeoutError extends Error {
  override name = 'AgentStartTimeoutError';
}

interface Pending {
  expect: CheckedAgentMessage['type'];
  /** The invocation id an `invokeResult` must carry. */
  id?: string;
  resolve(message: CheckedAgentMessage): void;
  reject(err: Error): void;
}

export class AgentChannel {
  private socket: net.Socket | null = null;
  private readonly decoder = new FrameDecoder();
  private pending: Pending | null = null;
  /** The frames being read, in order (see `frame-reader.ts`). */
  private reading: Promise<void> = Promise.resolve();
  /** Frames taken off the socket and not yet read; the socket is paused while there are any. */
  private unread = 0;
  private closed = false;
  private helloWaiter: Pending | null = null;
  private hello: HelloMessage | null = null;
  private readonly closeListeners: Array<() => void> = [];

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', () => this.shutdown(new AgentClosedError('agent socket server failed')));
  }

  /** Starts listening on `socketPath` (any stale file there is replaced). */
  static async listen(socketPath: string): Promise<AgentChannel> {
    await rm(socketPath, { force: true });
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The agent runs as an unprivileged uid and needs write permission on the
    // socket to connect; the directory around it is root's and read-only to
    // that uid, and the sandbox directory above it is the worker's alone.
    await chmod(socketPath, 0o666);
    return new AgentChannel(server, socketPath);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Calls `listener` once when the connection ends, for whatever reason. */
  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Resolves with the agent's hello, or rejects after `timeoutMs`. */
  waitForHello(timeoutMs: number): Promise<HelloMessage> {
    if (this.hello) return Promise.resolve(this.hello);
    if (this.closed) return Promise.reject(new AgentClosedError('agent connection closed before hello'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.helloWaiter = null;
        reject(new AgentStartTimeoutError(`runtime agent did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      this.helloWaiter = {
        expect: 'hello',
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as HelloMessage);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  /** Sends `init` and resolves with the agent's `initResult`. */
  init(message: InitMessage): Promise<InitResultMessage> {
    return this.request(encodeFrame(message), { expect: 'initResult' }) as Promise<InitResultMessage>;
  }

  /** Sends one invocation (event as validated JSON text) and resolves with its result. */
  invoke(id: string, eventJson: string, deadlineMs: number): Promise<CheckedInvokeResult> {
    return this.request(encodeInvokeFrame(id, eventJson, deadlineMs), { expect: 'invokeResult', id }) as Promise<CheckedInvokeResult>;
  }

  /** Closes the connection and the listener; the agent exits when it sees this. */
  async close(): Promise<void> {
    this.shutdown(new AgentClosedError('agent channel closed by the worker'));
    await rm(this.socketPath, { force: true });
  }

  private request(frame: Buffer, what: Pick<Pending, 'expect' | 'id'>): Promise<CheckedAgentMessage> {
    if (this.closed || !this.socket) return Promise.reject(new AgentClosedError('agent is not connected'));
    if (this.pending) return Promise.reject(new Error('agent channel already has a request in flight'));
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      this.pending = { ...what, resolve, reject };
      socket.write(frame);
    });
  }

  private accept(socket: net.Socket): void {
    if (this.socket || this.closed) {
      // One agent per sandbox; anything else connecting is refused.
      socket.destroy();
      return;
    }
    this.socket = socket;
    // No further connections are needed; stop listening but keep this one.
    this.server.close();
    const violated = (err: unknown) => {
      this.shutdown(err instanceof ProtocolViolation ? err : new ProtocolViolation(err instanceof ProtocolError ? err.message : String(err)));
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.decoder.frames(chunk);
      } catch (err) {
        violated(err);
        return;
      }
      if (frames.length === 0) return;
      // No more is read from the agent while its frames are being read: a
      // sandbox cannot pile up frames in the worker's memory, or in the
      // parsing thread ahead of other sandboxes' results.
      socket.pause();
      this.unread += frames.length;
      for (const frame of frames) {
        this.reading = this.reading
          .then(async () => {
            if (this.closed) return;
            // Only a hello or the answer someone waits for may come: anything else is refused unread.
            if (this.hello && !this.pending) throw new ProtocolViolation('the agent sent a frame nobody asked for');
            const read = await readFrame(frame);
            if (!this.closed) this.dispatch(checkAgentMessage(read.message, read.result));
          })
          .catch(violated)
          .finally(() => {
            if (--this.unread === 0 && !this.closed) socket.resume();
          });
      }
    });
    socket.on('error', () => this.shutdown(new AgentClosedError('agent connection failed')));
    socket.on('close', () => this.shutdown(new AgentClosedError('agent connection closed')));
  }

  /** Hands a checked message to whoever asked for it; throws ProtocolViolation when nobody did. */
  private dispatch(message: CheckedAgentMessage): void {
    if (message.type === 'hello') {
      if (this.hello) throw new ProtocolViolation('the agent said hello twice');
      this.hello = message;
      const waiter = this.helloWaiter;
      this.helloWaiter = null;
      waiter?.resolve(message);
      return;
    }
    const pending = this.pending;
    if (!pending) throw new ProtocolViolation(`the agent sent an unasked-for ${message.type}`);
    if (pending.expect !== message.type) throw new ProtocolViolation(`the agent sent ${message.type} where ${pending.expect} was due`);
    if (message.type === 'invokeResult' && message.id !== pending.id) {
      throw new ProtocolViolation('the agent answered for another invocation id');
    }
    this.pending = null;
    pending.resolve(message);
  }

  private shutdown(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.server.close();
    const pending = this.pending;
    this.pending = null;
    pending?.reject(reason);
    const hello = this.helloWaiter;
    this.helloWaiter = null;
    hello?.reject(reason);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
