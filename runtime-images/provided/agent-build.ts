/**
 * Compiles the provided runtime's agent (Rust, standard library only, so
 * `cargo build --offline` needs no registry) into one static executable, and
 * keeps it under `node_modules/.cache/hearth-provided-agent/<key>/` where the
 * key hashes the agent's sources, the compiler's version and the flags: an
 * unchanged agent is never compiled again (`ensureRuntimeImages` runs at every
 * test start), a fresh clone compiles once (~15 s on two cores).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { run, RUNTIME_IMAGES_DIR } from '../image-rootfs.ts';

const AGENT_DIR = join(RUNTIME_IMAGES_DIR, 'provided/agent');
const CACHE_DIR = join(RUNTIME_IMAGES_DIR, '..', 'node_modules/.cache/hearth-provided-agent');
const TARGET = 'x86_64-unknown-linux-gnu';
/** Static (glibc's own static libraries): the agent needs nothing from the image's loader. */
const RUSTFLAGS = '-C target-feature=+crt-static';

/** The compiled agent: where it is on this machine, and the key it was built under. */
export interface BuiltAgent {
  path: string;
  key: string;
}

/** The cargo to use: on PATH, else rustup's default place; undefined when there is none. */
export async function findCargo(): Promise<string | undefined> {
  const candidates = ['cargo', join(homedir(), '.cargo/bin/cargo'), '/root/.cargo/bin/cargo'];
  for (const cargo of candidates) {
    const works = await run(cargo, ['--version']).then(() => true, () => false);
    if (works) return cargo;
  }
  return undefined;
}

/** Builds the agent unless a build of exactly these sources is cached; logs when it compiles. */
export async function buildAgent(cargo: string, log: (line: string) => void): Promise<BuiltAgent> {
  const rustc = cargo.endsWith('/cargo') ? cargo.replace(/cargo$/, 'rustc') : 'rustc';
  const { stdout: compiler } = await run(rustc, ['-V']);
  const hash = createHash('sha256').update(`${compiler.trim()}\0${TARGET}\0${RUSTFLAGS}\0`);
  for (const file of await sourceFiles(AGENT_DIR)) {
    hash.update(`${relative(AGENT_DIR, file)}\0`).update(await readFile(file)).update('\0');
  }
  const key = hash.digest('hex').slice(0, 24);
  const path = join(CACHE_DIR, key, 'hearth-agent');
  if (existsSync(path)) return { path, key };

  const started = performance.now();
  log(`provided: compiling the agent (cargo build --release --offline, key ${key})`);
  const targetDir = join(CACHE_DIR, 'target');
  await run(cargo, ['build', '--release', '--offline', '--locked', '--target', TARGET], {
    cwd: AGENT_DIR,
    env: { ...process.env, RUSTFLAGS, CARGO_TARGET_DIR: targetDir },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stderr?: string }) => {
    throw new Error(`compiling the provided agent failed:\n${err.stderr ?? String(err)}`);
  });
  await mkdir(join(CACHE_DIR, key), { recursive: true });
  // Copied then renamed, so a concurrent build never sees half a binary.
  const partial = `${path}.${process.pid}.partial`;
  await copyFile(join(targetDir, TARGET, 'release/hearth-agent'), partial);
  await rename(partial, path);
  // Builds of older sources are never used again: keep only this one (and cargo's own target dir).
  for (const old of await readdir(CACHE_DIR)) {
    if (old !== key && old !== 'target') await rm(join(CACHE_DIR, old), { recursive: true, force: true });
  }
  log(`provided: agent compiled in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  return { path, key };
}

/** Cargo.toml, Cargo.lock and every source file; never target/ or editor leftovers. */
async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const name of ['Cargo.toml', 'Cargo.lock']) if (existsSync(join(dir, name))) files.push(join(dir, name));
  const src = join(dir, 'src');
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.rs')) files.push(join(entry.parentPath, entry.name));
  }
  return files.sort();
}
