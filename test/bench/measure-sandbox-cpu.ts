/**
 * Not part of the suite: numbers behind two sandbox settings, measured on
 * this engine through the worker's own `SandboxFactory` and
 * `DockerContainerRuntime`.
 *
 *   node --import tsx test/bench/measure-sandbox-cpu.ts [floors...]
 *
 * 1. Engine API pause / unpause latency of a running sandbox (the cost a
 *    warm call pays when its container was frozen while idle).
 * 2. Cold start of a 128 MB nodejs20 sandbox (create → hello → init → first
 *    invoke of a trivial handler) under CPU floors, e.g. 0.25 0.5 1 and
 *    unlimited (the host's cores).
 */
import { availableParallelism } from 'node:os';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { CodeLinker } from '../../worker/sandbox/code-linker.ts';
import { DockerContainerRuntime } from '../../worker/engine/docker-container-runtime.ts';
import { SandboxFactory } from '../../worker/sandbox/sandbox.ts';

const docker = new Docker();
const SAMPLES = Number(process.env.SAMPLES ?? 8);
const floors = process.argv.slice(2).map(Number);
if (floors.length === 0) floors.push(0.25, 0.5, 1, availableParallelism());

const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const summary = (values: number[]) => `p50 ${pct(values, 0.5).toFixed(1)} ms  p90 ${pct(values, 0.9).toFixed(1)} ms  max ${Math.max(...values).toFixed(1)} ms`;

const root = await mkdtemp(join(tmpdir(), 'hearth-measure-'));
await chmod(root, 0o755);
const code = join(root, 'code');
await mkdir(code, { mode: 0o755 });
await writeFile(join(code, 'index.js'), 'exports.handler = async () => ({ ok: true });\n', { mode: 0o644 });
const linker = new CodeLinker();

function factory(runtime: DockerContainerRuntime): SandboxFactory {
  return new SandboxFactory({ runtime, sandboxesDir: join(root, 'sandboxes'), workerId: 'measure', startTimeoutMs: 30_000 });
}

async function coldStart(runtime: DockerContainerRuntime): Promise<number> {
  const t = performance.now();
  const sandbox = await factory(runtime).start({ runtime: 'nodejs20', memoryMb: 128 });
  sandbox.assign({ functionId: 'f', namespace: 'n', functionName: 'f', version: 1, runtime: 'nodejs20', handler: 'index.handler', memoryMb: 128, timeoutMs: 3000, env: {}, network: 'none' });
  sandbox.placeCode(code, linker);
  const init = await sandbox.init();
  if (!init.ok) throw new Error(`init failed: ${JSON.stringify(init)}`);
  await sandbox.invoke('i1', '{}', Date.now() + 3000);
  const ms = performance.now() - t;
  await sandbox.destroy();
  return ms;
}

try {
  await mkdir(join(root, 'sandboxes'), { recursive: true });
  const runtime = new DockerContainerRuntime({ docker });
  const sandbox = await factory(runtime).start({ runtime: 'nodejs20', memoryMb: 128 });
  const pause: number[] = [];
  const unpause: number[] = [];
  for (let i = 0; i < SAMPLES * 4; i++) {
    let t = performance.now();
    await runtime.pause(sandbox.containerId);
    pause.push(performance.now() - t);
    t = performance.now();
    await runtime.unpause(sandbox.containerId);
    unpause.push(performance.now() - t);
  }
  await runtime.pause(sandbox.containerId);
  const t = performance.now();
  await sandbox.destroy();
  console.log(`pause    ${summary(pause)}`);
  console.log(`unpause  ${summary(unpause)}`);
  console.log(`remove of a paused container: ${(performance.now() - t).toFixed(1)} ms`);

  // Interleaved, so drift on a shared machine hits every floor alike.
  const byFloor = new Map<number, number[]>(floors.map((f) => [f, []]));
  const runtimes = new Map(floors.map((f) => [f, new DockerContainerRuntime({ docker, cpuFloor: f })]));
  await coldStart(runtimes.get(floors[0]!)!); // untimed: page cache
  for (let i = 0; i < SAMPLES; i++) {
    for (const f of floors) byFloor.get(f)!.push(await coldStart(runtimes.get(f)!));
  }
  for (const [f, values] of byFloor) console.log(`cold start 128 MB nodejs20, floor ${f} cpu: ${summary(values)}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
