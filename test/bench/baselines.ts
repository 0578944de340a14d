/**
 * What the platform is compared with, measured in the same run:
 *
 * - a bare container start: dockerode `createContainer` + `start` of the
 *   same runtime image running a tiny Node HTTP server on a bridge network,
 *   timed to its first successful HTTP answer;
 * - the same bare start wired like a sandbox (no network, a Unix socket), for context,
 *   in each runtime's own image (`socketServerFor`): Node's one-line server, the
 *   same in Python, a static C program in provided's, a Java class in java17's;
 * - a raw HTTP call into such a container kept running (keep-alive);
 * - a bare BullMQ round trip: `queue.add` + `job.waitUntilFinished` against
 *   a no-op `Worker` in a separate process (this file, run as
 *   `node --import tsx test/bench/baselines.ts bullmq-worker <prefix> <concurrency>`).
 *
 * The containers are reached at their address on a bench-owned Docker
 * bridge network: a network namespace this run created on this machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue, QueueEvents, Worker } from 'bullmq';
import type Dockerode from 'dockerode';
import { RUNTIMES, SANDBOX_UID, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { CDS_FLAGS, CLASSPATH_IN_IMAGE, JAVA_IN_IMAGE, JVM_FLAGS } from '../../runtime-images/java17/jvm-flags.ts';
import { JDK_HOME } from '../../runtime-images/java17/jre-build.ts';
import { buildBootstrap } from '../fixtures/provided/build-bootstraps.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { stopGracefully } from '../helpers/processes.ts';
import { sleep } from '../helpers/wait.ts';
import { REDIS_URL, ROOT, httpCall } from './stack.ts';

const IMAGE = RUNTIMES.nodejs20.image;
const SERVER = "require('http').createServer((q,s)=>s.end('ok')).listen(8080)";
const NETWORK = 'hearth-bench-baseline';
/** Baseline containers carry the worker label too, so the stack's clean-up removes them. */
const LABELS = { [SANDBOX_LABELS.worker]: 'bench-baseline' };

/** A bench-owned bridge network whose addresses are handed out in turn (no inspect on the timed path). */
export class BaselineNetwork {
  private next = 10;

  private constructor(
    private readonly docker: Dockerode,
    private readonly base: string,
  ) {}

  static async open(docker: Dockerode): Promise<BaselineNetwork> {
    const existing = await docker.listNetworks({ filters: { name: [NETWORK] } });
    for (const n of existing.filter((n) => n.Name === NETWORK)) await docker.getNetwork(n.Id).remove().catch(() => {});
    // Fixed addresses need a user-configured subnet: let the engine pick a
    // free one, then create the network again with that subnet named.
    const probe = await docker.createNetwork({ Name: NETWORK, Driver: 'bridge', Labels: LABELS });
    const info = (await docker.getNetwork(probe.id).inspect()) as { IPAM?: { Config?: { Subnet?: string }[] } };
    await docker.getNetwork(probe.id).remove();
    const subnet = info.IPAM?.Config?.[0]?.Subnet;
    const m = subnet ? /^(\d+\.\d+\.\d+)\.0\/(\d+)$/.exec(subnet) : null;
    if (!subnet || !m || Number(m[2]) > 24) throw new Error(`unexpected subnet for ${NETWORK}: ${subnet}`);
    await docker.createNetwork({ Name: NETWORK, Driver: 'bridge', Labels: LABELS, IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } });
    return new BaselineNetwork(docker, m[1]!);
  }

  nextAddress(): string {
    this.next = this.next >= 250 ? 10 : this.next + 1;
    return `${this.base}.${this.next}`;
  }

  /** Creates and starts a tiny HTTP server container at a fresh address. */
  async startServer(): Promise<{ id: string; address: string }> {
    const address = this.nextAddress();
    const container = await this.docker.createContainer({
      Image: IMAGE,
      Entrypoint: ['/usr/bin/node'],
      Cmd: ['-e', SERVER],
      Labels: LABELS,
      HostConfig: { NetworkMode: NETWORK },
      NetworkingConfig: { EndpointsConfig: { [NETWORK]: { IPAMConfig: { IPv4Address: address } } } },
    });
    await container.start();
    return { id: container.id, address };
  }

  async removeContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).remove({ force: true, v: true }).catch(() => {});
  }

  async close(): Promise<void> {
    await this.docker.getNetwork(NETWORK).remove().catch(() => {});
  }
}

/** Polls `address:8080` with a new connection every ~1 ms until it answers 200. */
async function firstResponse(address: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  const agent = new http.Agent({ keepAlive: false });
  try {
    while (Date.now() < until) {
      const ok = await httpCall(agent, `http://${address}:8080/`, { timeoutMs: 500 }).then((a) => a.status === 200, () => false);
      if (ok) return;
      await sleep(1);
    }
    throw new Error(`baseline container at ${address} did not answer within ${timeoutMs} ms`);
  } finally {
    agent.destroy();
  }
}

/** One bare cold start: create + start + first HTTP answer, in ms. The container is removed afterwards (untimed). */
export async function bareColdStart(net: BaselineNetwork): Promise<number> {
  const t0 = performance.now();
  const { id, address } = await net.startServer();
  try {
    await firstResponse(address);
    return performance.now() - t0;
  } finally {
    await net.removeContainer(id);
  }
}

/**
 * What a bare container of one runtime's image runs to answer HTTP on the
 * Unix socket `/run/b/s.sock`: the least that runtime's own process does to
 * answer, as the platform's agent would after its start. `files` are copied
 * into the bind-mounted directory first (untimed).
 */
export interface SocketServer {
  runtime: RuntimeName;
  image: string;
  entrypoint: string[];
  files: { source: string; name: string; mode: number }[];
}

const SOCKET_IN_CONTAINER = '/run/b/s.sock';
const PYTHON_SERVER = [
  'import socket',
  's = socket.socket(socket.AF_UNIX)',
  `s.bind('${SOCKET_IN_CONTAINER}')`,
  's.listen(16)',
  'while True:',
  '    c, _ = s.accept()',
  '    c.recv(4096)',
  "    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok')",
  '    c.close()',
].join('\n');
const JAVA_SERVER = `
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

public class SocketAnswer {
  public static void main(String[] args) throws Exception {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(args[0]));
    byte[] answer = "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok".getBytes();
    ByteBuffer in = ByteBuffer.allocate(4096);
    for (;;) {
      try (SocketChannel c = server.accept()) {
        in.clear();
        c.read(in);
        ByteBuffer out = ByteBuffer.wrap(answer);
        while (out.hasRemaining()) c.write(out);
      }
    }
  }
}
`;

/** SocketAnswer.class, compiled once per run with this machine's JDK (the one the java17 image is made from). */
let javaServerClass: Promise<string> | undefined;
function compileJavaServer(): Promise<string> {
  javaServerClass ??= (async () => {
    const dir = join(ROOT, 'node_modules', '.cache', 'hearth-bench-java');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'SocketAnswer.java'), JAVA_SERVER);
    await new Promise<void>((resolve, reject) => {
      const javac = spawn(join(JDK_HOME, 'bin', 'javac'), ['--release', '17', '-d', dir, join(dir, 'SocketAnswer.java')], { stdio: 'inherit' });
      javac.once('error', reject);
      javac.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`javac exited ${code}`))));
    });
    return join(dir, 'SocketAnswer.class');
  })();
  return javaServerClass;
}

/** The sandbox-wired bare server of `runtime`'s image. */
export async function socketServerFor(runtime: RuntimeName): Promise<SocketServer> {
  const image = RUNTIMES[runtime].image;
  switch (runtime) {
    case 'nodejs20':
      return { runtime, image, entrypoint: ['/usr/bin/node', '-e', SERVER.replace('listen(8080)', `listen('${SOCKET_IN_CONTAINER}')`)], files: [] };
    case 'python3':
      return { runtime, image, entrypoint: ['/usr/bin/python3.11', '-I', '-c', PYTHON_SERVER], files: [] };
    case 'provided': {
      const program = await buildBootstrap('socket-answer');
      return { runtime, image, entrypoint: ['/run/b/socket-answer', SOCKET_IN_CONTAINER], files: [{ source: program.path, name: 'socket-answer', mode: 0o755 }] };
    }
    case 'java17':
      // The JVM as the image's agent starts it: same flags, the same CDS archive (its class path is a prefix of this one).
      return {
        runtime,
        image,
        entrypoint: [JAVA_IN_IMAGE, ...JVM_FLAGS, ...CDS_FLAGS, '-cp', `${CLASSPATH_IN_IMAGE}:/run/b`, 'SocketAnswer', SOCKET_IN_CONTAINER],
        files: [{ source: await compileJavaServer(), name: 'SocketAnswer.class', mode: 0o644 }],
      };
  }
}

/** Whether `runtime`'s image is on this engine (a runtime this machine could not build has none). */
export async function imageExists(docker: Dockerode, runtime: RuntimeName): Promise<boolean> {
  return docker.getImage(RUNTIMES[runtime].image).inspect().then(() => true, () => false);
}

/**
 * The same bare start the way the platform's sandboxes are wired: no
 * network (`NetworkMode: none`) and the server on a Unix socket in a
 * bind-mounted directory, polled every ~1 ms. Shows how much of the bridge
 * baseline is network set-up the platform never pays. Node's by default;
 * `server` picks another runtime's image and program. Like the bridge
 * baseline it has no memory or CPU ceiling (a sandbox has both).
 */
export class SocketBaseline {
  private n = 0;

  private constructor(
    private readonly docker: Dockerode,
    private readonly dir: string,
    private readonly server: SocketServer,
  ) {}

  private readonly removeDir = () => rmSync(this.dir, { recursive: true, force: true });

  static async open(docker: Dockerode, server?: SocketServer): Promise<SocketBaseline> {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-sock-'));
    await chmod(dir, 0o755);
    const baseline = new SocketBaseline(docker, dir, server ?? (await socketServerFor('nodejs20')));
    process.once('exit', baseline.removeDir);
    return baseline;
  }

  get runtime(): RuntimeName {
    return this.server.runtime;
  }

  /** One create + start + first HTTP answer over the socket, in ms; the container is removed afterwards. */
  async coldStart(): Promise<number> {
    const dir = join(this.dir, String(++this.n));
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, SANDBOX_UID, SANDBOX_UID);
    for (const file of this.server.files) {
      await copyFile(file.source, join(dir, file.name));
      await chmod(join(dir, file.name), file.mode);
    }
    const t0 = performance.now();
    const [entrypoint, ...cmd] = this.server.entrypoint;
    const container = await this.docker.createContainer({
      Image: this.server.image,
      Entrypoint: [entrypoint!],
      Cmd: cmd,
      Labels: LABELS,
      NetworkDisabled: true,
      HostConfig: { NetworkMode: 'none', Binds: [`${dir}:/run/b`] },
    });
    try {
      await container.start();
      const until = Date.now() + 30_000;
      while (!(await socketAnswers(join(dir, 's.sock')))) {
        if (Date.now() > until) throw new Error(`${this.server.runtime} socket baseline container did not answer within 30 s`);
        await sleep(1);
      }
      return performance.now() - t0;
    } finally {
      await container.remove({ force: true, v: true }).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    process.off('exit', this.removeDir);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.setTimeout(500, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A running server container and a keep-alive client to it. */
export async function startRawServer(net: BaselineNetwork): Promise<{ call(): Promise<number>; stop(): Promise<void> }> {
  const { id, address } = await net.startServer();
  await firstResponse(address);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    async call() {
      const answer = await httpCall(agent, `http://${address}:8080/`);
      if (answer.status !== 200) throw new Error(`raw HTTP baseline answered ${answer.status}`);
      return answer.ms;
    },
    async stop() {
      agent.destroy();
      await net.removeContainer(id);
    },
  };
}

const BULLMQ_QUEUE = 'noop';
/** Same job options as the invocation queue, so both keep the same bookkeeping. */
const JOB_OPTIONS = { attempts: 1, removeOnComplete: { age: 300, count: 10_000 }, removeOnFail: { age: 24 * 3600 } } as const;
/** Roughly the size of an invocation job and of an outcome, so both move the same bytes. */
const PAYLOAD = { event: '{}', pad: 'x'.repeat(600) };
const RESULT = { status: 'succeeded', result: 'null', pad: 'y'.repeat(500) };

/** The bench side of the BullMQ baseline: its own queue and events reader, plus the worker process. */
export interface BullmqBaseline {
  /** The no-op worker process. */
  pid: number | undefined;
  /** One `queue.add` + `job.waitUntilFinished(queueEvents)`, in ms. */
  roundTrip(): Promise<number>;
  close(): Promise<void>;
}

export async function startBullmqBaseline(concurrency: number): Promise<BullmqBaseline> {
  const prefix = 'hearth-bench-baseline';
  const connection = redisOptionsFromUrl(REDIS_URL);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'bullmq-worker', prefix, String(concurrency)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // However the bench ends (Ctrl-C included), this process does not outlive it.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the BullMQ baseline worker did not start within 30 s')), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error('the BullMQ baseline worker exited during start-up')));
  });
  const queue = new Queue(BULLMQ_QUEUE, { connection, prefix });
  const events = new QueueEvents(BULLMQ_QUEUE, { connection, prefix });
  await queue.obliterate({ force: true }); // what an interrupted run left
  // Each waiting round trip listens on both; 64 at once is expected here.
  queue.setMaxListeners(0);
  events.setMaxListeners(0);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return {
    pid: child.pid,
    async roundTrip() {
      const t0 = performance.now();
      const job = await queue.add('noop', PAYLOAD, JOB_OPTIONS);
      await job.waitUntilFinished(events, 30_000);
      return performance.now() - t0;
    },
    async close() {
      process.off('exit', killChild);
      await stopGracefully(child, exited, 10_000);
      await events.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    },
  };
}

/** Child-process mode: a BullMQ worker whose processor does nothing. */
async function runBullmqWorker(prefix: string, concurrency: number): Promise<void> {
  const worker = new Worker(BULLMQ_QUEUE, async () => RESULT, { connection: redisOptionsFromUrl(REDIS_URL), prefix, concurrency });
  worker.on('error', () => {});
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    void worker.close().finally(() => process.exit(0));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'bullmq-worker') {
  await runBullmqWorker(process.argv[3]!, Number(process.argv[4] ?? 1));
}
