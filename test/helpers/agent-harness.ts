/**
 * Plays the worker's side of the agent protocol against a real runtime
 * container: writes a code directory, listens on a Unix socket, starts a
 * container through the worker's own `DockerContainerRuntime` (so with
 * exactly the isolation settings the worker uses), and exposes
 * `init` / `invoke` as promises. Every container it creates carries
 * `io.hearth.test=agent` and the id of the test file's process;
 * `removeAgentContainers` clears them, not those of a file running beside.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ensureRuntimeImages } from '../../runtime-images/build-images.ts';
import {
  encodeFrame,
  encodeInvokeFrame,
  encodeJsonFrame,
  FrameDecoder,
  type HelloMessage,
  type InitMessage,
  type InitResultMessage,
  type InvokeResultMessage,
} from '../../worker/sandbox/agent-protocol.ts';
import { DockerContainerRuntime } from '../../worker/engine/docker-container-runtime.ts';
import { RUNTIMES, SANDBOX_UID, type RuntimeName } from '../../runtime-images/runtimes.ts';

export const TEST_LABEL = 'io.hearth.test';
/** Which test process made a container: files run two at a time, and each clears only its own. */
const OWNER_LABEL = 'io.hearth.test-owner';
const OWNER = `${process.pid}-${randomBytes(4).toString('hex')}`;


/** A function's files, by path relative to the code directory. */
export type CodeFiles = Record<string, string>;

const FIXTURES = fileURLToPath(new URL('../fixtures/functions/', import.meta.url));

/** The files of `test/fixtures/functions/<name>` (e.g. `nodejs20/context`). */
export async function fixture(name: string): Promise<CodeFiles> {
  const root = join(FIXTURES, name);
  const files: CodeFiles = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(root, path)] = await readFile(path, 'utf8');
  }
  return files;
}

/**
 * Writes `files` to a fresh host directory the way the worker's code cache
 * does: root-owned, directories 0755, files 0644 (world-readable, so uid
 * 10001 can read them through the read-only bind mount).
 */
export async function writeCodeDir(files: CodeFiles): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'hearth-code-'));
  await chmod(root, 0o755);
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    for (let dir = dirname(path); dir !== root; dir = dirname(dir)) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o755);
    }
    await writeFile(path, content, { mode: 0o644 });
  }
  return root;
}

export interface StartAgentOptions {
  runtime: RuntimeName;
  codeDir: string;
  memoryMb?: number;
  /** Extra container environment (the worker sets only the two below). */
  env?: Record<string, string>;
}

/** One container with a connected agent, past `hello`. */
export interface AgentSession {
  readonly container: Dockerode.Container;
  readonly hello: HelloMessage;
  /** Wall time from the create request to the `hello` frame arriving. */
  readonly helloMs: number;
  /**
   * When, from the create request, the runtime's create + start returned (the
   * engine's share of helloMs; the runtime does both in one call, so there is
   * no separate "created" time).
   */
  readonly engineMs: { started: number };
  /** Sends `init` (defaults filled in) and waits for `initResult`. */
  init(overrides: Partial<InitMessage> & { handler: string }): Promise<InitResultMessage>;
  /** Sends `invoke` and waits for its `invokeResult`. */
  invoke(event: unknown, options?: { id?: string; deadlineMs?: number }): Promise<InvokeResultMessage>;
  /**
   * Sends `invoke` with the event as raw JSON text spliced in verbatim, as the
   * worker does (so events too deep for this process's JSON.stringify can be sent).
   */
  invokeRaw(eventJson: string, options?: { id?: string; deadlineMs?: number }): Promise<InvokeResultMessage>;
  /** Sends one frame holding `json` exactly and waits for the agent's next message. */
  request(json: string): Promise<unknown>;
  /** Resolves when the agent's connection ends. */
  readonly closed: Promise<void>;
  /** Closes the connection from the worker's side. */
  disconnect(): void;
  /** Waits for the container to stop; returns its exit code and OOM flag. */
  exit(): Promise<{ exitCode: number; oomKilled: boolean }>;
  /** Disconnects and removes the container and the socket directory. */
  stop(): Promise<void>;
}

/**
 * Starts a container for `runtime` the way the worker does (socket first,
 * then the worker's own container runtime, the one place the sandbox
 * settings live) and waits for the agent's `hello`.
 */
export async function startAgent(docker: Dockerode, options: StartAgentOptions): Promise<AgentSession> {
  const memoryMb = options.memoryMb ?? 128;
  const socketDir = await mkdtemp(join(tmpdir(), 'hearth-sock-'));
  await chown(socketDir, SANDBOX_UID, SANDBOX_UID);
  await chmod(socketDir, 0o700);
  const socketPath = join(socketDir, 'agent.sock');
  const peer = await listenOnce(socketPath);

  const started = performance.now();
  let container: Dockerode.Container | undefined;
  try {
    const id = await new DockerContainerRuntime({ docker }).start({
      name: `hearth-test-agent-${randomBytes(6).toString('hex')}`,
      image: RUNTIMES[options.runtime].image,
      memoryMb,
      network: 'none',
      socketDir,
      codeDir: options.codeDir,
      env: {
        HEARTH_AGENT_SOCKET: '/run/hearth/agent.sock',
        NODE_OPTIONS: `--max-old-space-size=${memoryMb}`,
        ...options.env,
      },
      labels: { [TEST_LABEL]: 'agent', [OWNER_LABEL]: OWNER },
    });
    container = docker.getContainer(id);
    const engineMs = { started: performance.now() - started };
    const hello = (await peer.next(5000)) as HelloMessage;
    const helloMs = performance.now() - started;
    return makeSession(container, hello, { helloMs, engineMs }, peer, socketDir);
  } catch (err) {
    peer.close();
    await container?.remove({ force: true }).catch(() => {});
    await rm(socketDir, { recursive: true, force: true });
    throw err;
  }
}

/** Force-removes every container the harness created in this process (by label). */
export async function removeAgentContainers(docker: Dockerode): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=agent`, `${OWNER_LABEL}=${OWNER}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
}

function makeSession(
  container: Dockerode.Container,
  hello: HelloMessage,
  timings: Pick<AgentSession, 'helloMs' | 'engineMs'>,
  peer: Peer,
  socketDir: string,
): AgentSession {
  return {
    container,
    hello,
    ...timings,
    closed: peer.closed,
    async init(overrides) {
      const message: InitMessage = {
        type: 'init',
        codeDir: '/var/task',
        functionName: 'test-fn',
        functionVersion: '1',
        memoryLimitInMB: 128,
        timeoutMs: 10_000,
        env: {},
        ...overrides,
      };
      peer.send(encodeFrame(message));
      return (await peer.next(15_000)) as InitResultMessage;
    },
    async invoke(event, options = {}) {
      const id = options.id ?? `inv-${Math.random().toString(36).slice(2, 10)}`;
      peer.send(encodeFrame({ type: 'invoke', id, event, deadlineMs: options.deadlineMs ?? Date.now() + 10_000 }));
      return (await peer.next(15_000)) as InvokeResultMessage;
    },
    async invokeRaw(eventJson, options = {}) {
      const id = options.id ?? `inv-${Math.random().toString(36).slice(2, 10)}`;
      peer.send(encodeInvokeFrame(id, eventJson, options.deadlineMs ?? Date.now() + 10_000));
      return (await peer.next(15_000)) as InvokeResultMessage;
    },
    async request(json) {
      peer.send(encodeJsonFrame(json));
      return peer.next(15_000);
    },
    disconnect: () => peer.close(),
    async exit() {
      const result = (await container.wait()) as { StatusCode: number };
      const info = await container.inspect();
      return { exitCode: result.StatusCode, oomKilled: info.State.OOMKilled };
    },
    async stop() {
      peer.close();
      await container.remove({ force: true }).catch(() => {});
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// The listening side of one agent connection.

interface Peer {
  send(frame: Buffer): void;
  /** The next message from the agent; rejects on timeout or if the connection ends first. */
  next(timeoutMs: number): Promise<unknown>;
  readonly closed: Promise<void>;
  close(): void;
}

async function listenOnce(socketPath: string): Promise<Peer> {
  const inbox: unknown[] = [];
  const waiters: Array<{ resolve: (m: unknown) => void; reject: (e: Error) => void }> = [];
  let socket: Socket | undefined;
  let ended = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const server: Server = createServer((connection) => {
    socket = connection;
    server.close(); // one agent per socket
    const decoder = new FrameDecoder();
    connection.on('data', (chunk) => {
      for (const message of decoder.push(chunk)) {
        const waiter = waiters.shift();
        if (waiter) waiter.resolve(message);
        else inbox.push(message);
      }
    });
    connection.on('error', () => {});
    connection.on('close', () => {
      ended = true;
      markClosed();
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('agent connection closed'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  // The agent runs as 10001; the directory (0700, owned by 10001) is the real gate.
  await chmod(socketPath, 0o666);

  return {
    send: (frame) => socket?.write(frame),
    closed,
    close() {
      server.close();
      socket?.destroy();
    },
    next(timeoutMs) {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (ended) return Promise.reject(new Error('agent connection closed'));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`no message from the agent within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = {
          resolve: (m: unknown) => (clearTimeout(timer), resolve(m)),
          reject: (e: Error) => (clearTimeout(timer), reject(e)),
        };
        waiters.push(waiter);
      });
    },
  };
}

/**
 * For a test file of agent sessions: registers its hooks (images present;
 * each test's sessions stopped after it; the file's containers and code
 * directories removed at the end) and returns how to start a function's
 * container and send it `init`.
 */
export function agentSessions(docker: Dockerode) {
  const codeDirs: string[] = [];
  const sessions: AgentSession[] = [];
  beforeAll(async () => {
    await ensureRuntimeImages(docker);
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await removeAgentContainers(docker);
    await Promise.all(codeDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async (runtime: RuntimeName, files: CodeFiles, init: Partial<InitMessage> & { handler: string }) => {
    const codeDir = await writeCodeDir(files);
    codeDirs.push(codeDir);
    const session = await startAgent(docker, { runtime, codeDir });
    sessions.push(session);
    return { session, initResult: await session.init(init) };
  };
}
