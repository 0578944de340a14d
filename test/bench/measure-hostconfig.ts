/**
 * Not part of the suite: what each isolation setting of a sandbox costs its
 * container's start (issue 16: a cold first call against a bare start wired
 * like a sandbox). Each variant creates and starts the nodejs20 image with
 * the sandbox's own create request (`sandboxCreateOptions`) less one group
 * of settings, runs Node's one-line HTTP server on a Unix socket in a
 * bind-mounted directory, and times create → first answer, as the bench's
 * sandbox-wired baseline does; "bare" is that baseline's request. Variants
 * are interleaved round by round, so the machine's drift hits all alike.
 *
 *   node --import tsx test/bench/measure-hostconfig.ts [rounds]
 */
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { RUNTIMES, SANDBOX_UID } from '../../runtime-images/runtimes.ts';
import { sandboxCreateOptions } from '../../worker/engine/docker-container-runtime.ts';
import { ProcFiles } from '../../worker/engine/proc-files.ts';
import { socketAnswers } from './baselines.ts';

const docker = new Docker();
const ROUNDS = Number(process.argv[2] ?? 12);
const SERVER = "require('http').createServer((q,s)=>s.end('ok')).listen('/run/b/s.sock')";
const root = await mkdtemp(join(tmpdir(), 'hearth-hostconfig-'));
await chmod(root, 0o755);
const procBinds = await new ProcFiles(join(root, 'proc'), 2).binds(128);
const emptyCode = join(root, 'code');
await mkdir(emptyCode, { mode: 0o755 });

type HostConfig = NonNullable<Docker.ContainerCreateOptions['HostConfig']>;
const full = (dir: string): Docker.ContainerCreateOptions => {
  const options = sandboxCreateOptions(
    { name: undefined as unknown as string, image: RUNTIMES.nodejs20.image, env: {}, labels: { 'io.hearth.worker': 'measure-hostconfig' }, network: 'none', memoryMb: 128, socketDir: dir, codeDir: emptyCode } as never,
    { procBinds, cpus: 0.5 },
  );
  delete options.name;
  // The socket directory is the server's /run/b, as in the baseline (the agent's socket mount is where the worker listens).
  options.HostConfig!.Binds = [`${dir}:/run/b`, ...options.HostConfig!.Binds!.slice(1)];
  return { ...options, Entrypoint: ['/usr/bin/node'], Cmd: ['-e', SERVER] };
};
const without = (...keys: (keyof HostConfig)[]) => (dir: string) => {
  const options = full(dir);
  for (const key of keys) delete options.HostConfig![key];
  return options;
};

const variants: Record<string, (dir: string) => Docker.ContainerCreateOptions> = {
  bare: (dir) => ({
    Image: RUNTIMES.nodejs20.image,
    Entrypoint: ['/usr/bin/node'],
    Cmd: ['-e', SERVER],
    Labels: { 'io.hearth.worker': 'measure-hostconfig' },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none', Binds: [`${dir}:/run/b`] },
  }),
  sandbox: full,
  'sandbox − masked paths': without('MaskedPaths'),
  'sandbox − tmpfs (/tmp, /run/secrets)': without('Tmpfs'),
  'sandbox − /proc stand-in and /var/task binds': (dir) => ({ ...full(dir), HostConfig: { ...full(dir).HostConfig, Binds: [`${dir}:/run/b`] } }),
  'sandbox − memory, CPU, pids limits': without('Memory', 'MemorySwap', 'CpuShares', 'NanoCpus', 'PidsLimit'),
  'sandbox − read-only root': without('ReadonlyRootfs'),
  'sandbox − caps, no-new-privileges, ulimits': without('CapDrop', 'SecurityOpt', 'Ulimits'),
  'sandbox − log config, IPC mode': without('LogConfig', 'IpcMode'),
};

async function startOnce(make: (dir: string) => Docker.ContainerCreateOptions, n: number): Promise<number> {
  const dir = join(root, `s${n}`);
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, SANDBOX_UID, SANDBOX_UID);
  const t0 = performance.now();
  const container = await docker.createContainer(make(dir));
  try {
    await container.start();
    const until = Date.now() + 30_000;
    while (!(await socketAnswers(join(dir, 's.sock')))) {
      if (Date.now() > until) throw new Error('no answer within 30 s');
      await new Promise((r) => setTimeout(r, 1));
    }
    return performance.now() - t0;
  } finally {
    await container.remove({ force: true, v: true }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

const times = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
let n = 0;
// One unmeasured round: first-use costs are not what is measured.
for (const make of Object.values(variants)) await startOnce(make, n++);
for (let round = 0; round < ROUNDS; round++) {
  const names = Object.keys(variants);
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length]!;
    times.get(name)!.push(await startOnce(variants[name]!, n++));
  }
}
const p50 = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const bare = p50(times.get('bare')!);
const sandbox = p50(times.get('sandbox')!);
console.log(`create → first answer over a Unix socket, nodejs20, ${ROUNDS} rounds (p50, ms)`);
for (const [name, values] of times) {
  const m = p50(values);
  const saved = name.startsWith('sandbox − ') ? `  (saves ${(sandbox - m).toFixed(1)})` : '';
  console.log(`${name.padEnd(48)} ${m.toFixed(1).padStart(7)}  ${(m / bare).toFixed(3)}× bare${saved}`);
}
await rm(root, { recursive: true, force: true });
