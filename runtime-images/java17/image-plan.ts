/**
 * The java17 image: a jlink-ed OpenJDK 17 runtime at /opt/java (from this
 * machine's JDK, see jre-build.ts), exactly the shared libraries it loads,
 * Hearth's agent and lambda-core jars at /opt/hearth with a CDS archive
 * recorded for them (agent-build.ts, cds-archive.ts), and the base entries
 * every image has. The JDK is installed with apt-get when missing; a
 * machine where that fails cannot build this image and says why.
 */
import { readdir, readlink, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { baseEntries, run, type PlanResult, type RootfsEntry } from '../image-rootfs.ts';
import { RUNTIMES } from '../runtimes.ts';
import { ensureAgentBuild } from './agent-build.ts';
import { ensureCdsArchive } from './cds-archive.ts';
import { ensureJdk, ensureJre, jdkIdentity } from './jre-build.ts';
import { AGENT_MAIN_CLASS, CDS_FLAGS, CLASSPATH_IN_IMAGE, HEARTH_DIR_IN_IMAGE, JAVA_HOME_IN_IMAGE, JAVA_IN_IMAGE, JVM_FLAGS } from './jvm-flags.ts';

/** The default CDS archives jlink generated (with and without compressed oops). */
const DEFAULT_CDS = /\/lib\/server\/classes(_nocoops)?\.jsa$/;

export async function java17Plan(log: (line: string) => void): Promise<PlanResult> {
  const jdk = await ensureJdk(log);
  if ('unavailable' in jdk) return jdk;
  const { version, key: jreKey } = await jdkIdentity();
  const jre = await ensureJre(log);
  const build = await ensureAgentBuild(jreKey, log);
  const cds = await ensureCdsArchive(jre, build, log);
  // With the agent's archive (which holds the JDK's classes too) the runtime's default ones are never read.
  const runtime = (await treeEntries(jre, JAVA_HOME_IN_IMAGE)).filter((e) => !(cds && DEFAULT_CDS.test(e.path)));
  const hearth = await treeEntries(build.hearthDir, HEARTH_DIR_IN_IMAGE);
  const entries: RootfsEntry[] = [
    ...runtime,
    { kind: 'symlink', path: '/usr/bin/java', target: `${JAVA_HOME_IN_IMAGE}/bin/java` },
    ...(await Promise.all((await runtimeLibraries(jre)).map(hostLibrary))),
    ...hearth,
    ...(await baseEntries()),
  ];
  return {
    runtime: 'java17',
    tag: RUNTIMES.java17.image,
    entries,
    entrypoint: [JAVA_IN_IMAGE, ...JVM_FLAGS, ...(cds ? CDS_FLAGS : []), '-cp', CLASSPATH_IN_IMAGE, AGENT_MAIN_CLASS],
    identity: `openjdk ${version} jre ${jreKey} agent ${build.key}${cds ? ' cds' : ''}`,
    env: [`JAVA_HOME=${JAVA_HOME_IN_IMAGE}`],
  };
}

/**
 * Every file and directory under `root` at `at` in the image (dotfiles, the
 * cache's own markers, left out). File entries keep their host mtimes: the
 * CDS archive checks each jar's size and mtime, and the tar carries both.
 */
async function treeEntries(root: string, at: string): Promise<RootfsEntry[]> {
  const entries: RootfsEntry[] = [{ kind: 'dir', path: at, mode: 0o755 }];
  for (const dirent of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (dirent.name.startsWith('.')) continue;
    const source = join(dirent.parentPath, dirent.name);
    const path = join(at, relative(root, source));
    if (dirent.isDirectory()) entries.push({ kind: 'dir', path, mode: 0o755 });
    else if (dirent.isSymbolicLink()) entries.push({ kind: 'symlink', path, target: await readlink(source) });
    else if (dirent.isFile()) {
      const info = await stat(source);
      entries.push({ kind: 'file', path, source, size: info.size, mode: info.mode & 0o7777, mtime: info.mtime });
    }
  }
  return entries;
}

async function hostLibrary(path: string): Promise<RootfsEntry> {
  const info = await stat(path);
  return { kind: 'file', path, source: path, size: info.size, mode: info.mode & 0o7777, mtime: info.mtime };
}

/**
 * The host libraries the runtime's binaries load: `ldd` of the launcher and
 * every native library of the runtime. Not image-rootfs' sharedLibraries():
 * the runtime's libraries find libjvm.so and each other through the JVM
 * (already loaded when they are), so ldd needs the runtime's own lib
 * directories on LD_LIBRARY_PATH to resolve them, and they are left out
 * (the runtime tree already has them).
 */
async function runtimeLibraries(jre: string): Promise<string[]> {
  const libDirs = [join(jre, 'lib'), join(jre, 'lib', 'server')];
  const binaries = [join(jre, 'bin', 'java')];
  for (const dir of libDirs) {
    for (const name of await readdir(dir)) if (name.endsWith('.so')) binaries.push(join(dir, name));
  }
  const output = await run('ldd', binaries, { env: { ...process.env, LD_LIBRARY_PATH: libDirs.join(':') }, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  const libraries = new Set<string>();
  for (const line of output.stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`ldd: missing library: ${line.trim()}`);
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (match && !match[1]!.startsWith(jre)) libraries.add(match[1]!);
  }
  if (libraries.size === 0) throw new Error(`ldd reported no libraries for ${binaries[0]}`);
  return [...libraries].sort();
}

/**
 * Hearth's lambda-core jar on this machine (built if needed): what a Java
 * function compiles against (`javac -cp <it>`). The image has the same jar
 * at /opt/hearth/lambda-core.jar.
 */
export async function java17LambdaCoreJar(log: (line: string) => void = () => {}): Promise<string> {
  const jdk = await ensureJdk(log);
  if ('unavailable' in jdk) throw new Error(jdk.unavailable);
  const { key } = await jdkIdentity();
  return (await ensureAgentBuild(key, log)).lambdaCoreJar;
}
