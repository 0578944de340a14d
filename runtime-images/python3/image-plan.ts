/**
 * The python3 image: this machine's python3.11 (installed with apt-get if
 * missing), its stdlib with the precompiled bytecode, the libraries of every
 * extension module, and the agent with its own checked-hash bytecode.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEntries, baseEntries, hostFile, run, sharedLibraries, walkTree, type ImagePlan, type RootfsEntry } from '../image-rootfs.ts';
import { RUNTIMES } from '../runtimes.ts';

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

export async function planPython(log: (line: string) => void): Promise<ImagePlan> {
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

