/**
 * What the provided agent's tests share: the C test bootstrap
 * (test/fixtures/provided-test-bootstrap.c) compiled with `gcc -static` once
 * per test process, code directories whose files keep their exec bits (as
 * the worker's unpacked archives do), and agent sessions on the real
 * `hearth/runtime-provided` image started through the worker's own
 * container runtime (test/helpers/agent-harness.ts), with or without the
 * /run/secrets tmpfs.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ensureRuntimeImages } from '../../runtime-images/build-images.ts';
import { SANDBOX_UID, SECRETS_DIR } from '../../runtime-images/runtimes.ts';
import { removeAgentContainers, startAgent, type AgentSession } from './agent-harness.ts';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../fixtures/provided-test-bootstrap.c', import.meta.url));

const compiled = new Map<string, Promise<Buffer>>();

/**
 * The test bootstrap's executable bytes (compiled on first use): static by
 * default, or `dynamic`, linked against this machine's glibc, which the
 * image carries.
 */
export function testBootstrap(linking: 'static' | 'dynamic' = 'static'): Promise<Buffer> {
  const cached = compiled.get(linking);
  if (cached) return cached;
  const build = (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-provided-cc-'));
    try {
      await run('gcc', [...(linking === 'static' ? ['-static'] : []), '-O1', '-Wall', '-o', join(dir, 'bootstrap'), SOURCE]);
      return await readFile(join(dir, 'bootstrap'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  compiled.set(linking, build);
  return build;
}

/** A file of a function's code, with its mode (0755 for an executable). */
export type CodeFile = { data: Buffer | string; mode: number };

/** Writes `files` to a fresh root-owned directory (dirs 0755), each file with its own mode. */
export async function writeCode(files: Record<string, CodeFile>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'hearth-code-'));
  await chmod(root, 0o755);
  for (const [relative, file] of Object.entries(files)) {
    const path = join(root, relative);
    for (let dir = dirname(path); dir !== root; dir = dirname(dir)) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o755);
    }
    await writeFile(path, file.data);
    await chmod(path, file.mode);
  }
  return root;
}

/**
 * The engine client as the worker's runtime uses it, with the /run/secrets
 * tmpfs (the sandbox user's, as the agent protocol says the worker mounts it)
 * made sure of (`present`: added if the worker's runtime does not add it) or
 * taken away (`absent`: a sandbox where the agent cannot write secrets).
 */
export function withSecretsMount(docker: Dockerode, mount: 'present' | 'absent'): Dockerode {
  return new Proxy(docker, {
    get(target, property, receiver) {
      if (property !== 'createContainer') return Reflect.get(target, property, receiver);
      return (options: Dockerode.ContainerCreateOptions) => {
        const { [SECRETS_DIR]: worker, ...others } = options.HostConfig?.Tmpfs ?? {};
        const secrets: Record<string, string> = mount === 'absent' ? {} : { [SECRETS_DIR]: worker ?? `rw,nosuid,nodev,noexec,size=1m,mode=0700,uid=${SANDBOX_UID},gid=${SANDBOX_UID}` };
        return target.createContainer({ ...options, HostConfig: { ...options.HostConfig, Tmpfs: { ...others, ...secrets } } });
      };
    },
  });
}

/**
 * Registers the file's hooks (image present; sessions stopped after each
 * test; containers and code directories removed at the end) and returns
 * `start(files, options)`: a provided container past `hello`.
 */
export function providedSessions(docker = new Dockerode()) {
  const sessions: AgentSession[] = [];
  const codeDirs: string[] = [];
  beforeAll(async () => {
    const outcomes = await ensureRuntimeImages(docker, { only: ['provided'] });
    const outcome = outcomes[0];
    if (outcome && 'unavailable' in outcome) throw new Error(`the provided image cannot be built here: ${outcome.unavailable}`);
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await removeAgentContainers(docker);
    await Promise.all(codeDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async (files: Record<string, CodeFile> | { codeDir: string }, options: { secretsMount?: 'present' | 'absent'; memoryMb?: number } = {}) => {
    // A directory of the test's own (a pre-warmed container gets its code after it started).
    const codeDir = typeof files.codeDir === 'string' ? files.codeDir : await writeCode(files as Record<string, CodeFile>);
    codeDirs.push(codeDir);
    const session = await startAgent(options.secretsMount ? withSecretsMount(docker, options.secretsMount) : docker, {
      runtime: 'provided',
      codeDir,
      ...(options.memoryMb ? { memoryMb: options.memoryMb } : {}),
    });
    sessions.push(session);
    return session;
  };
}

/** The C test bootstrap as `/var/task/bootstrap`, executable. */
export async function bootstrapCode(): Promise<Record<string, CodeFile>> {
  return { bootstrap: { data: await testBootstrap(), mode: 0o755 } };
}
