/**
 * What every image plan is made of: root filesystem entries, the host files
 * they copy (with exactly the shared libraries `ldd` reports) and the base
 * every image shares. Each runtime's own plan lives in
 * `runtime-images/<runtime>/image-plan.ts`; `build-images.ts` imports them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SANDBOX_UID, SECRETS_DIR, type RuntimeName } from './runtimes.ts';

/** execFile as a promise, for the plans' probes and compilers. */
export const run = promisify(execFile);
/** The runtime-images/ folder: agents are read from `<runtime>/agent` under it. */
export const RUNTIME_IMAGES_DIR = dirname(fileURLToPath(import.meta.url));
const here = RUNTIME_IMAGES_DIR;

/** One entry of an image's root filesystem. */
export type RootfsEntry =
  | { kind: 'file'; path: string; source: string; size: number; mode: number; mtime: Date }
  | { kind: 'data'; path: string; data: Buffer; mode: number }
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'symlink'; path: string; target: string };

/** Everything one image is built from. */
export interface ImagePlan {
  runtime: RuntimeName;
  tag: string;
  entries: RootfsEntry[];
  entrypoint: string[];
  /** Versions of the binaries, part of the inputs hash. */
  identity: string;
  /** Extra `KEY=value` pairs for the image's environment, besides every image's own. */
  env?: string[];
}

/**
 * A plan, or why this machine cannot build the runtime (the image is then
 * left out: the workers report the runtimes they have, and a deploy of one
 * no worker has is refused).
 */
export type PlanResult = ImagePlan | { unavailable: string };

/** Builds a runtime's plan; `log` receives what it installs or skips. */
export type ImagePlanner = (log: (line: string) => void) => Promise<PlanResult>;

/** Installs Debian packages a plan needs (the machine has Debian's archive, no other registry), saying so in the log. */
export async function aptInstall(packages: readonly string[], why: string, log: (line: string) => void): Promise<void> {
  log(`${why}: running apt-get install -y ${packages.join(' ')}`);
  await run('apt-get', ['install', '-y', ...packages], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/**
 * The agent: every file in `dir` (under runtime-images/) whose name ends in
 * one of `extensions`, read-only at /opt/hearth/<name>, by content (so the
 * inputs hash covers each). Taken by extension, not listed, so a new module
 * cannot be left out; anything else there (a __pycache__, an editor's backup)
 * stays out. Throws if `entrypoint` is given and not among them.
 */
export async function agentEntries(dir: string, extensions: readonly string[], entrypoint?: string): Promise<RootfsEntry[]> {
  const names = (await readdir(join(here, dir), { withFileTypes: true }))
    .filter((dirent) => dirent.isFile() && extensions.some((ext) => dirent.name.endsWith(ext)))
    .map((dirent) => dirent.name)
    .sort();
  const entries: RootfsEntry[] = await Promise.all(
    names.map(async (name) => ({ kind: 'data' as const, path: `/opt/hearth/${name}`, data: await readFile(join(here, dir, name)), mode: 0o444 })),
  );
  if (entrypoint && !entries.some((entry) => entry.path === entrypoint)) throw new Error(`runtime-images/${dir} has no ${entrypoint.split('/').pop()}`);
  return entries;
}

/** What every runtime image has besides its interpreter. */
export async function baseEntries(): Promise<RootfsEntry[]> {
  const passwd = `root:x:0:0:root:/root:/sbin/nologin\nsbx:x:${SANDBOX_UID}:${SANDBOX_UID}:hearth sandbox:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n`;
  const group = `root:x:0:\nsbx:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`;
  return [
    { kind: 'data', path: '/etc/passwd', data: Buffer.from(passwd), mode: 0o644 },
    { kind: 'data', path: '/etc/group', data: Buffer.from(group), mode: 0o644 },
    await hostFile('/etc/ssl/certs/ca-certificates.crt'),
    // Mount points: code (ro), the agent socket directory, and a tmpfs.
    { kind: 'dir', path: '/var/task', mode: 0o755 },
    { kind: 'dir', path: '/run/hearth', mode: 0o755 },
    // The secrets tmpfs (see SECRETS_DIR): the worker mounts it, the agent fills it at init.
    { kind: 'dir', path: SECRETS_DIR, mode: 0o755 },
    { kind: 'dir', path: '/tmp', mode: 0o1777 },
  ];
}

/** A host file placed at the same path in the image, symlinks followed. */
export async function hostFile(path: string): Promise<RootfsEntry> {
  const info = await stat(path);
  return { kind: 'file', path, source: path, size: info.size, mode: info.mode & 0o7777, mtime: info.mtime };
}

/**
 * Every file, directory and in-tree symlink under `root`, at the same paths.
 * Host mtimes are kept: Python checks each `__pycache__` entry against its
 * source's mtime, and a mismatch would silently recompile on every start.
 */
export async function walkTree(root: string, keep: (path: string, name: string) => boolean): Promise<RootfsEntry[]> {
  const entries: RootfsEntry[] = [{ kind: 'dir', path: root, mode: 0o755 }];
  for (const dirent of await readdir(root, { withFileTypes: true })) {
    const path = join(root, dirent.name);
    if (!keep(path, dirent.name)) continue;
    if (dirent.isDirectory()) entries.push(...(await walkTree(path, keep)));
    else if (dirent.isSymbolicLink()) {
      const target = await readlink(path);
      if (!target.startsWith('/') && existsSync(path)) entries.push({ kind: 'symlink', path, target });
    } else if (dirent.isFile()) entries.push(await hostFile(path));
  }
  return entries;
}

/** The union of the shared libraries (and the dynamic loader) the binaries load. */
export async function sharedLibraries(binaries: string[]): Promise<string[]> {
  // ldd exits non-zero if any argument is not dynamic; its stdout still lists the rest.
  const output = await run('ldd', binaries, { maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  const libraries = new Set<string>();
  for (const line of output.stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`ldd: missing library: ${line.trim()}`);
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (match) libraries.add(match[1]!);
  }
  if (libraries.size === 0) throw new Error(`ldd reported no libraries for ${binaries[0]}`);
  return [...libraries].sort();
}

