/**
 * Builds the prebuilt runtime images (`RUNTIMES` in `runtimes.ts`) with no
 * registry and no base image: each root filesystem is assembled from this
 * machine's own binaries (the interpreter, exactly the shared libraries `ldd`
 * reports, the agent, a few /etc files) and streamed as a tar straight into
 * the Engine API's image import, which applies the image config in the same
 * step. Nothing is copied to disk first, so a build takes seconds.
 *
 * Usable as a module (`ensureRuntimeImages`, called by the worker and tests)
 * and as a CLI: `npx tsx runtime-images/build-images.ts [--force]`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { Header, Pax, type HeaderData } from 'tar';
import { joinEsModules } from './join-es-modules.ts';
import { RUNTIMES, SANDBOX_UID, type RuntimeName } from './runtimes.ts';

/** Bump when this script changes what goes into an image. */
const BUILD_SCRIPT_VERSION = 2;
/** Label holding the hash of everything an image was built from. */
const INPUTS_LABEL = 'io.hearth.inputs';
/** Label naming the runtime an image serves. */
const RUNTIME_LABEL = 'io.hearth.runtime';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
/** Fixed mtime for generated entries, so identical inputs give identical layers. */
const EPOCH = new Date('2000-01-01T00:00:00Z');

type RootfsEntry =
  | { kind: 'file'; path: string; source: string; size: number; mode: number; mtime: Date }
  | { kind: 'data'; path: string; data: Buffer; mode: number }
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'symlink'; path: string; target: string };

interface ImagePlan {
  runtime: RuntimeName;
  tag: string;
  entries: RootfsEntry[];
  entrypoint: string[];
  /** Versions of the binaries, part of the inputs hash. */
  identity: string;
}

export interface EnsureRuntimeImagesOptions {
  /** Rebuild even when an image with matching inputs exists. */
  force?: boolean;
  /** Receives one line per step (what was built or skipped, and how long it took). */
  log?: (line: string) => void;
}

/**
 * Makes sure every runtime image exists and was built from the current
 * inputs (agent source, this script's version, the identity of every host
 * file copied in). An image whose `io.hearth.inputs` label matches is left
 * alone; otherwise it is rebuilt and the image it replaces is removed if no
 * container uses it. Needs root or read access to the host's binaries, and
 * `apt-get` if python3.11 is missing.
 */
export async function ensureRuntimeImages(docker: Dockerode, options: EnsureRuntimeImagesOptions = {}): Promise<void> {
  const log = options.log ?? (() => {});
  for (const plan of [await planNode(), await planPython(log)]) {
    const started = performance.now();
    const inputs = await inputsHash(plan);
    const existing = await docker.getImage(plan.tag).inspect().catch(() => undefined);
    if (!options.force && existing?.Config?.Labels?.[INPUTS_LABEL] === inputs) {
      log(`${plan.tag}: up to date (${inputs.slice(0, 19)})`);
      continue;
    }
    await importImage(docker, plan, inputs);
    const built = await docker.getImage(plan.tag).inspect();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    log(`${plan.tag}: built in ${seconds}s, ${(built.Size / 1e6).toFixed(1)} MB, ${plan.entries.length} entries`);
    if (existing && existing.Id !== built.Id) {
      // The old image is now untagged; drop it unless a container still uses it.
      await docker.getImage(existing.Id).remove().catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------
// Root filesystem plans.

async function planNode(): Promise<ImagePlan> {
  const node = '/usr/bin/node';
  const { stdout: version } = await run(node, ['--version']);
  if (!version.startsWith('v20.')) throw new Error(`${node} is ${version.trim()}, the nodejs20 runtime needs Node 20`);
  const entries: RootfsEntry[] = [
    await hostFile(node),
    ...(await Promise.all((await sharedLibraries([node])).map((lib) => hostFile(lib)))),
    await joinedNodeAgent(node),
    ...(await agentEntries('nodejs20/agent', ['.cjs'])),
    ...(await baseEntries()),
  ];
  return {
    runtime: 'nodejs20',
    tag: RUNTIMES.nodejs20.image,
    entries,
    entrypoint: [node, '/opt/hearth/bootstrap.mjs'],
    identity: `node ${version.trim()}`,
  };
}

const PYTHON = '/usr/bin/python3.11';
const PYTHON_LIB = '/usr/lib/python3.11';
/** Stdlib parts a function never needs at run time: tests, GUIs, pip, the embedding kit. */
const PYTHON_LIB_SKIP = new Set(
  [
    'test', 'idlelib', 'tkinter', 'turtledemo', 'ensurepip', 'site-packages', 'dist-packages',
    'distutils/tests', 'lib2to3/tests', 'unittest/test', 'ctypes/test', 'sqlite3/test',
    'config-3.11-x86_64-linux-gnu', 'turtle.py',
    // A symlink to Debian's /etc/python3.11 hook (apport), absent in the image.
    'sitecustomize.py',
  ].map((p) => join(PYTHON_LIB, p)),
);
/** Test-only extension modules in lib-dynload. */
const TEST_EXTENSION = /^(_test|_xxtest|xxlimited|_ctypes_test)/;

async function planPython(log: (line: string) => void): Promise<ImagePlan> {
  if (!existsSync(PYTHON)) {
    log(`${PYTHON} is missing: running apt-get install -y python3.11`);
    await run('apt-get', ['install', '-y', 'python3.11'], { maxBuffer: 64 * 1024 * 1024 });
  }
  const { stdout: version } = await run(PYTHON, ['-I', '-S', '-c', 'import sys; print(sys.version.split()[0])']);
  const stdlib = await walkTree(PYTHON_LIB, (path, name) => !PYTHON_LIB_SKIP.has(path) && !TEST_EXTENSION.test(name));
  const extensions = stdlib.flatMap((e) => (e.kind === 'file' && e.path.endsWith('.so') ? [e.source] : []));
  const agent = await agentEntries('python3/agent', ['.py'], '/opt/hearth/bootstrap.py');
  const entries: RootfsEntry[] = [
    await hostFile(PYTHON),
    { kind: 'symlink', path: '/usr/bin/python3', target: 'python3.11' },
    ...stdlib,
    ...(await Promise.all((await sharedLibraries([PYTHON, ...extensions])).map((lib) => hostFile(lib)))),
    ...agent,
    ...(await agentBytecode(agent.filter((entry) => entry.path !== '/opt/hearth/bootstrap.py'))),
    // Where OpenSSL (hence Python's ssl) looks for the CA bundle by default.
    { kind: 'symlink', path: '/usr/lib/ssl/cert.pem', target: '/etc/ssl/certs/ca-certificates.crt' },
    { kind: 'symlink', path: '/usr/lib/ssl/certs', target: '/etc/ssl/certs' },
    ...(await baseEntries()),
  ];
  return {
    runtime: 'python3',
    tag: RUNTIMES.python3.image,
    entries,
    entrypoint: [PYTHON, '-I', '-B', '/opt/hearth/bootstrap.py'],
    identity: `python ${version.trim()}`,
  };
}

/**
 * The agent: every file in `dir` (under runtime-images/) whose name ends in
 * one of `extensions`, read-only at /opt/hearth/<name>, by content (so the
 * inputs hash covers each). Taken by extension, not listed, so a new module
 * cannot be left out; anything else there (a __pycache__, an editor's backup)
 * stays out. Throws if `entrypoint` is given and not among them.
 */
async function agentEntries(dir: string, extensions: readonly string[], entrypoint?: string): Promise<RootfsEntry[]> {
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

/**
 * /opt/hearth/bootstrap.mjs: the Node agent's ES modules (nodejs20/agent/*.mjs,
 * one concern each) joined into the one file the image runs, because one file
 * reaches `hello` about 4 ms sooner than eight (see join-es-modules.ts). The
 * join is checked with the image's `node --check` here, so a clash of
 * top-level names between modules fails the build rather than every start.
 */
async function joinedNodeAgent(node: string): Promise<RootfsEntry> {
  const dir = join(here, 'nodejs20/agent');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.mjs'));
  const sources = new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(dir, name), 'utf8')] as const)));
  const joined = joinEsModules(sources, 'bootstrap.mjs');
  const scratch = await mkdtemp(join(tmpdir(), 'hearth-agent-'));
  try {
    await writeFile(join(scratch, 'bootstrap.mjs'), joined);
    await run(node, ['--check', join(scratch, 'bootstrap.mjs')]).catch((err: { stderr?: string }) => {
      throw new Error(`the joined Node agent does not parse:\n${err.stderr ?? String(err)}`);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { kind: 'data', path: '/opt/hearth/bootstrap.mjs', data: Buffer.from(joined, 'utf8'), mode: 0o444 };
}

/**
 * Bytecode for the agent's modules, compiled by the image's own interpreter
 * into /opt/hearth/__pycache__ (read-only, like the sources). The agent runs
 * with `-B` on a read-only root, so Python never writes these itself: without
 * them every start would compile every module again (bootstrap.py, the script,
 * is compiled at each start regardless, so it is not passed here). They are
 * checked-hash pycs: Python compares each with its source's hash and ignores a
 * stale one, so they can make a start faster but never run old code.
 */
async function agentBytecode(modules: RootfsEntry[]): Promise<RootfsEntry[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'hearth-pyc-'));
  try {
    const sources = modules.map((entry, i) => {
      if (entry.kind !== 'data') throw new Error(`${entry.path}: expected agent source`);
      return { path: entry.path, source: join(scratch, `${i}.py`), data: entry.data };
    });
    await Promise.all(sources.map((s) => writeFile(s.source, s.data)));
    // Prints, per module, where its pyc goes in the image; the pyc is written next to its source.
    const compile = [
      'import importlib.util, json, py_compile, sys',
      'jobs = json.loads(sys.argv[1])',
      'for job in jobs:',
      '    py_compile.compile(job["source"], cfile=job["source"] + "c", dfile=job["path"], doraise=True,',
      '                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)',
      'print(json.dumps([importlib.util.cache_from_source(job["path"]) for job in jobs]))',
    ].join('\n');
    const { stdout } = await run(PYTHON, ['-I', '-c', compile, JSON.stringify(sources.map(({ path, source }) => ({ path, source })))]);
    const targets = JSON.parse(stdout) as string[];
    return Promise.all(
      sources.map(async (s, i) => ({ kind: 'data' as const, path: targets[i]!, data: await readFile(`${s.source}c`), mode: 0o444 })),
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What every runtime image has besides its interpreter. */
async function baseEntries(): Promise<RootfsEntry[]> {
  const passwd = `root:x:0:0:root:/root:/sbin/nologin\nsbx:x:${SANDBOX_UID}:${SANDBOX_UID}:hearth sandbox:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n`;
  const group = `root:x:0:\nsbx:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`;
  return [
    { kind: 'data', path: '/etc/passwd', data: Buffer.from(passwd), mode: 0o644 },
    { kind: 'data', path: '/etc/group', data: Buffer.from(group), mode: 0o644 },
    await hostFile('/etc/ssl/certs/ca-certificates.crt'),
    // Mount points: code (ro), the agent socket directory, and a tmpfs.
    { kind: 'dir', path: '/var/task', mode: 0o755 },
    { kind: 'dir', path: '/run/hearth', mode: 0o755 },
    { kind: 'dir', path: '/tmp', mode: 0o1777 },
  ];
}

/** A host file placed at the same path in the image, symlinks followed. */
async function hostFile(path: string): Promise<RootfsEntry> {
  const info = await stat(path);
  return { kind: 'file', path, source: path, size: info.size, mode: info.mode & 0o7777, mtime: info.mtime };
}

/**
 * Every file, directory and in-tree symlink under `root`, at the same paths.
 * Host mtimes are kept: Python checks each `__pycache__` entry against its
 * source's mtime, and a mismatch would silently recompile on every start.
 */
async function walkTree(root: string, keep: (path: string, name: string) => boolean): Promise<RootfsEntry[]> {
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
async function sharedLibraries(binaries: string[]): Promise<string[]> {
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

// ---------------------------------------------------------------------------
// Hashing, tar stream and import.

const IMAGE_ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8', 'LAMBDA_TASK_ROOT=/var/task'];

function imageChanges(plan: ImagePlan, inputs: string): string[] {
  return [
    `USER ${SANDBOX_UID}:${SANDBOX_UID}`,
    'WORKDIR /var/task',
    ...IMAGE_ENV.map((pair) => `ENV ${pair}`),
    `ENTRYPOINT ${JSON.stringify(plan.entrypoint)}`,
    `LABEL ${RUNTIME_LABEL}=${plan.runtime} ${INPUTS_LABEL}=${inputs}`,
  ];
}

/** Hash of every input: host files by identity (path, size, mtime, mode), generated files by content. */
async function inputsHash(plan: ImagePlan): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ version: BUILD_SCRIPT_VERSION, identity: plan.identity, config: imageChanges(plan, '') }));
  for (const entry of plan.entries) {
    if (entry.kind === 'data') hash.update(`${entry.path}\0${entry.mode}\0`).update(entry.data);
    else if (entry.kind === 'file') hash.update(`${entry.path}\0${entry.size}\0${entry.mtime.getTime()}\0${entry.mode}`);
    else hash.update(JSON.stringify(entry));
    hash.update('\n');
  }
  return `sha256:${hash.digest('hex')}`;
}

async function importImage(docker: Dockerode, plan: ImagePlan, inputs: string): Promise<void> {
  const [repo, tag] = plan.tag.split(':') as [string, string];
  const response = (await docker.importImage(Readable.from(tarEntries(plan.entries)), {
    repo,
    tag,
    changes: imageChanges(plan, inputs),
  })) as unknown as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(response, (err: Error | null, events: Array<{ error?: string }>) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      if (failed) reject(new Error(`importing ${plan.tag}: ${failed}`));
      else resolve();
    });
  });
}

/** The rootfs as a tar: parents first, owned by root, host files streamed from disk. */
async function* tarEntries(entries: RootfsEntry[]): AsyncGenerator<Buffer> {
  const parents = new Set<string>();
  for (const entry of entries) {
    for (let dir = dirname(entry.path); dir !== '/'; dir = dirname(dir)) parents.add(dir);
  }
  const explicit = new Set(entries.filter((e) => e.kind === 'dir').map((e) => e.path));
  const implied: RootfsEntry[] = [...parents].filter((d) => !explicit.has(d)).sort().map((path) => ({ kind: 'dir', path, mode: 0o755 }));
  const seen = new Set<string>();
  for (const entry of [...implied, ...entries]) {
    if (seen.has(entry.path)) continue; // e.g. a library two binaries need
    seen.add(entry.path);
    const name = entry.path.slice(1);
    const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root' };
    if (entry.kind === 'dir') {
      yield* header({ ...owner, path: `${name}/`, type: 'Directory', mode: entry.mode, size: 0, mtime: EPOCH });
    } else if (entry.kind === 'symlink') {
      yield* header({ ...owner, path: name, type: 'SymbolicLink', linkpath: entry.target, mode: 0o777, size: 0, mtime: EPOCH });
    } else if (entry.kind === 'data') {
      yield* header({ ...owner, path: name, type: 'File', mode: entry.mode, size: entry.data.length, mtime: EPOCH });
      yield entry.data;
      yield padding(entry.data.length);
    } else {
      yield* header({ ...owner, path: name, type: 'File', mode: entry.mode, size: entry.size, mtime: entry.mtime });
      let written = 0;
      for await (const chunk of createReadStream(entry.source)) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (written !== entry.size) throw new Error(`${entry.source} changed size while being read`);
      yield padding(entry.size);
    }
  }
  yield Buffer.alloc(1024); // end-of-archive marker
}

function header(data: HeaderData): Buffer[] {
  const block = Buffer.alloc(512);
  const entry = new Header(data);
  entry.encode(block, 0);
  // Paths longer than ustar's name+prefix fields travel in a PAX header first.
  return entry.needPax ? [new Pax({ path: data.path, linkpath: data.linkpath, mtime: data.mtime }).encode(), block] : [block];
}

function padding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

// ---------------------------------------------------------------------------
// CLI.

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  ensureRuntimeImages(new Dockerode(), { force: process.argv.includes('--force'), log: (line) => console.log(line) }).then(
    () => console.log(`done in ${((performance.now() - started) / 1000).toFixed(2)}s`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
