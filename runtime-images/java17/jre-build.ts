/**
 * The Java runtime the java17 image carries: a jlink-ed image of this
 * machine's OpenJDK 17 (Debian's openjdk-17-jdk-headless and its jmods,
 * installed with apt-get when missing). Built once and cached under
 * node_modules/.cache/hearth-java17/, keyed by the JDK's identity and the
 * module list, so an up-to-date check never runs jlink (about 20 s).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, RUNTIME_IMAGES_DIR } from '../image-rootfs.ts';

export const JDK_HOME = '/usr/lib/jvm/java-17-openjdk-amd64';
/** Where the build keeps its jlink-ed runtimes and compiled agents. */
export const JAVA17_CACHE = join(RUNTIME_IMAGES_DIR, '..', 'node_modules', '.cache', 'hearth-java17');

/**
 * Java SE (so a function finds every standard API: java.sql, java.net.http,
 * java.xml, java.beans in java.desktop, ...) and the JDK modules libraries
 * commonly expect: sun.misc.Unsafe (jdk.unsupported), elliptic-curve TLS,
 * PKCS#11, zip file systems, extra charsets, English locale data, JMX
 * extensions, the HTTP server, DNS naming, socket options.
 */
export const JRE_MODULES = [
  'java.se', 'jdk.unsupported', 'jdk.crypto.ec', 'jdk.crypto.cryptoki', 'jdk.zipfs', 'jdk.charsets',
  'jdk.localedata', 'jdk.management', 'jdk.httpserver', 'jdk.naming.dns', 'jdk.net',
];

/**
 * No debug symbols, headers or man pages; no compression (the modules file is
 * read at every start, and decompressing costs more than the megabytes save);
 * the default CDS archive generated for this image; and without the libraries
 * only a display or a sound card uses (AWT's X11 toolkit, the splash screen,
 * JavaSound, JAWT), which pull in X11 and ALSA: java.desktop still works
 * headless (java.beans, ImageIO, BufferedImage).
 */
const JLINK_OPTIONS = [
  '--strip-debug', '--no-header-files', '--no-man-pages', '--include-locales=en', '--generate-cds-archive',
  '--exclude-files=**libawt_xawt.so,**libsplashscreen.so,**libjsound.so,**libjawt.so',
];

/** What the JDK tools need; installed by apt-get when missing. */
const JDK_PACKAGES = ['openjdk-17-jdk-headless', 'openjdk-17-jmods'];

/** The JDK's tools, or why this machine has none (apt-get tried). */
export async function ensureJdk(log: (line: string) => void): Promise<{ ok: true } | { unavailable: string }> {
  const needed = [join(JDK_HOME, 'bin', 'javac'), join(JDK_HOME, 'bin', 'jlink'), join(JDK_HOME, 'jmods', 'java.base.jmod')];
  if (needed.every((path) => existsSync(path))) return { ok: true };
  log(`java17: ${needed.filter((p) => !existsSync(p)).join(', ')} missing: running apt-get install -y ${JDK_PACKAGES.join(' ')}`);
  try {
    await run('apt-get', ['install', '-y', ...JDK_PACKAGES], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    return { unavailable: `OpenJDK 17 (${JDK_PACKAGES.join(', ')}) is not installed and apt-get could not install it: ${(err as Error).message.split('\n')[0]}` };
  }
  const missing = needed.filter((path) => !existsSync(path));
  return missing.length === 0 ? { ok: true } : { unavailable: `after apt-get, still missing: ${missing.join(', ')}` };
}

/** The JDK's version line and a key for everything a jlink-ed runtime is made from. */
export async function jdkIdentity(): Promise<{ version: string; key: string }> {
  const release = await readFile(join(JDK_HOME, 'release'), 'utf8');
  const version = /JAVA_VERSION="([^"]+)"/.exec(release)?.[1] ?? 'unknown';
  const jmod = await stat(join(JDK_HOME, 'jmods', 'java.base.jmod'));
  const key = createHash('sha256')
    .update(JSON.stringify({ release, jmod: [jmod.size, jmod.mtimeMs], modules: JRE_MODULES, options: JLINK_OPTIONS }))
    .digest('hex')
    .slice(0, 16);
  return { version, key };
}

/** The cached jlink-ed runtime's directory, made first if it is not there. */
export async function ensureJre(log: (line: string) => void): Promise<string> {
  const { key } = await jdkIdentity();
  const dir = join(JAVA17_CACHE, `jre-${key}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  await mkdir(JAVA17_CACHE, { recursive: true });
  const scratch = `${dir}.tmp-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  const started = performance.now();
  await run(join(JDK_HOME, 'bin', 'jlink'), [
    '--module-path', join(JDK_HOME, 'jmods'),
    '--add-modules', JRE_MODULES.join(','),
    ...JLINK_OPTIONS,
    '--output', scratch,
  ], { maxBuffer: 16 * 1024 * 1024 });
  await writeFile(join(scratch, '.complete'), '');
  await settle(scratch, dir);
  await pruneCache('jre-', dir);
  log(`java17: jlink-ed a runtime in ${((performance.now() - started) / 1000).toFixed(1)}s (${dir})`);
  return dir;
}

/** Removes the cache's other `prefix`* builds (superseded: their inputs changed), keeping `keep`. */
export async function pruneCache(prefix: string, keep: string): Promise<void> {
  for (const name of await readdir(JAVA17_CACHE)) {
    const path = join(JAVA17_CACHE, name);
    if (name.startsWith(prefix) && path !== keep && !name.includes('.tmp-')) await rm(path, { recursive: true, force: true });
  }
}

/**
 * Moves a finished build from `scratch` to `dir`, unless another build (a
 * test file's, in parallel) finished first: then its result stands and
 * this one is dropped, so a directory in use is never replaced.
 */
export async function settle(scratch: string, dir: string): Promise<void> {
  try {
    if (existsSync(join(dir, '.complete'))) throw new Error('already built');
    await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
  } catch {
    await rm(scratch, { recursive: true, force: true });
  }
}
