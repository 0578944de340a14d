/**
 * The java17 image's class-data-sharing archive: the JDK classes and the
 * agent's own, pre-parsed and mapped at start (measured: `hello` ~85 ms
 * instead of ~135 ms, init ~12 ms instead of ~30 ms, on this machine's JVM).
 *
 * Recorded at build, in two steps:
 * 1. The agent runs each training function (training/) for real, against a
 *    worker played here on a Unix socket, with -XX:DumpLoadedClassList: the
 *    classes a start, an init and a few invocations load.
 * 2. Those lists and the JDK's default list are dumped into one static
 *    archive. A CDS archive only maps when the class path is exactly the
 *    one it was dumped with (path, size and mtime of each jar), so the dump
 *    runs in a private mount namespace where the cached runtime and jars sit
 *    at their image paths, /opt/java and /opt/hearth (unshare, as root).
 *
 * Where that is impossible (no unshare, not root) the image is built without
 * it and starts with the runtime's default archive; the reason is logged and
 * remembered in the cache, so it is not retried on every build.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../image-rootfs.ts';
import type { AgentBuild } from './agent-build.ts';
import { AGENT_MAIN_CLASS, CLASSPATH_IN_IMAGE, HEARTH_DIR_IN_IMAGE, JAVA_HOME_IN_IMAGE, JVM_FLAGS } from './jvm-flags.ts';

interface TrainingRun {
  handler: string;
  events: unknown[];
}

const TRAINING: TrainingRun[] = [
  { handler: 'hearth.training.Handlers$MapHandler', events: [{ a: 1, b: [1, 2.5, 'x', null, true] }, { fail: true }, { c: { d: 'e' } }] },
  {
    handler: 'hearth.training.Handlers$PojoHandler',
    events: [{ id: 'o-1', quantity: 2, price: 2.5, express: true, tags: ['x', 'y'], extra: { k: 1 }, unknown: 1 }, ''],
  },
  { handler: 'hearth.training.Handlers$StreamHandler', events: [{ x: 1 }, 'text'] },
  { handler: 'hearth.training.Handlers::greet', events: ['world', 42] },
  { handler: 'hearth.training.Missing', events: [] },
];

/** Makes build.hearthDir/agent.jsa unless it exists or was found impossible before. */
export async function ensureCdsArchive(jreDir: string, build: AgentBuild, log: (line: string) => void): Promise<boolean> {
  const archive = join(build.hearthDir, 'agent.jsa');
  const skipped = join(build.dir, '.cds-skipped');
  if (existsSync(archive)) return true;
  if (existsSync(skipped)) return false;
  const started = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), 'hearth-cds-'));
  try {
    const lists: string[] = [];
    for (const [i, training] of TRAINING.entries()) {
      const list = join(scratch, `classes-${i}.txt`);
      await trainOnce(jreDir, build, training, list, join(scratch, `agent-${i}.sock`));
      lists.push(list);
    }
    const merged = new Set<string>();
    for (const file of [join(jreDir, 'lib', 'classlist'), ...lists]) {
      for (const line of (await readFile(file, 'utf8')).split('\n')) if (line && !line.startsWith('#')) merged.add(line);
    }
    const classlist = join(scratch, 'classlist');
    await writeFile(classlist, [...merged].join('\n') + '\n');
    // Dumped beside, then moved in: a parallel build never sees half an archive.
    const dumped = join(scratch, 'agent.jsa');
    await dumpAtImagePaths(jreDir, build.hearthDir, classlist, dumped);
    await rename(dumped, archive);
    log(`java17: recorded the CDS archive (${merged.size} classes) in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    return true;
  } catch (err) {
    const reason = (err as Error).message.split('\n').slice(0, 3).join(' ');
    log(`java17: no CDS archive of the agent (the image starts with the runtime's default archive): ${reason}`);
    await rm(archive, { force: true });
    await writeFile(skipped, reason);
    return false;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** One start of the agent on the host: hello, init, the events, then the socket closes (the agent exits 0). */
async function trainOnce(jreDir: string, build: AgentBuild, training: TrainingRun, list: string, socketPath: string): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  const session = new Promise<void>((resolve, reject) => {
    server.once('connection', (socket) => void playWorker(socket, build, training).then(resolve, reject));
  });
  const java = spawn(join(jreDir, 'bin', 'java'), [...JVM_FLAGS, `-XX:DumpLoadedClassList=${list}`, '-cp',
    `${build.agentJar}:${build.lambdaCoreJar}`, AGENT_MAIN_CLASS], {
    env: { PATH: '/usr/bin:/bin', HEARTH_AGENT_SOCKET: socketPath, HOSTNAME: 'training', LANG: 'C.UTF-8' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  java.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
  const exited = new Promise<number | null>((resolve) => java.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => java.kill('SIGKILL'), 30_000);
  try {
    await Promise.race([session, exited.then((code) => Promise.reject(new Error(`the training agent exited early (${code}): ${stderr}`)))]);
    const code = await exited;
    if (code !== 0) throw new Error(`the training agent exited with ${code}: ${stderr}`);
  } finally {
    clearTimeout(timer);
    server.close();
  }
}

/** The worker's side for one training run; checks each reply is one the agent should give. */
async function playWorker(socket: Socket, build: AgentBuild, training: TrainingRun): Promise<void> {
  let buffered = Buffer.alloc(0);
  const waiting: Array<(message: { type: string; ok?: boolean }) => void> = [];
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      const length = buffered.readUInt32BE(0);
      const message = JSON.parse(buffered.subarray(4, 4 + length).toString('utf8'));
      buffered = buffered.subarray(4 + length);
      waiting.shift()?.(message);
    }
  });
  const next = () => new Promise<{ type: string; ok?: boolean }>((resolve) => waiting.push(resolve));
  const send = (message: object) => {
    const body = Buffer.from(JSON.stringify(message));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    socket.write(Buffer.concat([head, body]));
  };
  const hello = await next();
  if (hello.type !== 'hello') throw new Error(`training: expected hello, got ${hello.type}`);
  const init = next();
  send({ type: 'init', codeDir: build.trainingDir, handler: training.handler, functionName: 'training', functionVersion: '1',
    memoryLimitInMB: 128, timeoutMs: 10_000, env: { TRAINING: 'yes' } });
  const initResult = await init;
  if (initResult.ok !== (training.events.length > 0)) throw new Error(`training: init of ${training.handler} answered ${JSON.stringify(initResult)}`);
  for (const [i, event] of training.events.entries()) {
    const reply = next();
    send({ type: 'invoke', id: `training-${i}`, deadlineMs: Date.now() + 10_000, event });
    if ((await reply).type !== 'invokeResult') throw new Error('training: expected invokeResult');
  }
  socket.end();
}

/** The static dump, with the runtime and jars mounted where the image has them. */
async function dumpAtImagePaths(jreDir: string, hearthDir: string, classlist: string, output: string): Promise<void> {
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /opt',
    `mkdir -p ${JAVA_HOME_IN_IMAGE} ${HEARTH_DIR_IN_IMAGE}`,
    `mount --bind "$1" ${JAVA_HOME_IN_IMAGE}`,
    `mount --bind "$2" ${HEARTH_DIR_IN_IMAGE}`,
    // The archive may be written anywhere: only the class path must be the image's.
    `exec ${JAVA_HOME_IN_IMAGE}/bin/java -Xshare:dump -XX:SharedClassListFile="$3" -XX:SharedArchiveFile="$4" -cp ${CLASSPATH_IN_IMAGE}`,
  ].join('\n');
  await run('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'cds-dump', jreDir, hearthDir, classlist, output], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stderr?: string; stdout?: string; message?: string }) => {
    throw new Error(`the CDS dump failed: ${(err.stderr || err.stdout || err.message || '').trim().split('\n').slice(-3).join(' ')}`);
  });
}
