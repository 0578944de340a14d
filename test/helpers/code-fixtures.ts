/**
 * Builders and inspectors for code-package tests: zips via yazl, tar.gz via
 * node-tar from a real directory, and a snapshot of an unpacked tree.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { create, Parser, type ReadEntry } from 'tar';
import yazl from 'yazl';

export interface FixtureFile {
  path: string;
  data?: string | Buffer;
  /** Permission bits (0o644 default), or a symlink target via `link`. */
  mode?: number;
  link?: string;
  mtime?: Date;
}

const created: string[] = [];

/** A fresh directory under the OS temp dir, removed by {@link removeTempDirs}. */
export async function tempDir(prefix = 'hearth-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A zip as `zip -y` would make it: Unix modes, symlinks stored as links. */
export async function zipOf(files: FixtureFile[], options: { directories?: string[] } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const dir of options.directories ?? []) zip.addEmptyDirectory(dir, { mode: 0o40755 });
  for (const f of files) {
    const mtime = f.mtime ?? new Date(1_700_000_000_000);
    if (f.link !== undefined) zip.addBuffer(Buffer.from(f.link), f.path, { mode: 0o120777, mtime });
    else zip.addBuffer(Buffer.from(f.data ?? ''), f.path, { mode: 0o100000 | (f.mode ?? 0o644), mtime });
  }
  zip.end();
  return collect(zip.outputStream as Readable);
}

/** A tar.gz made by node-tar from a real directory holding `files` (dirs implied). */
export async function tarGzOf(files: FixtureFile[]): Promise<Buffer> {
  // Only needed while the archive is made, so removed right after.
  const dir = await mkdtemp(join(tmpdir(), 'hearth-test-'));
  try {
    await writeTree(dir, files);
    return await collect(create({ gzip: true, cwd: dir }, ['.']));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function writeTree(root: string, files: FixtureFile[]): Promise<void> {
  for (const f of files) {
    const full = join(root, f.path);
    await mkdir(dirname(full), { recursive: true });
    if (f.link !== undefined) await symlink(f.link, full);
    else await writeFile(full, f.data ?? '', { mode: f.mode ?? 0o644 });
  }
}

export type TreeNode = { type: 'file'; mode: number; data: string } | { type: 'dir'; mode: number } | { type: 'symlink'; target: string };

/** Every path under `root` with its type, permission bits and content or target. */
export async function snapshot(root: string): Promise<Record<string, TreeNode>> {
  const out: Record<string, TreeNode> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const stats = await lstat(full);
      if (stats.isSymbolicLink()) out[path] = { type: 'symlink', target: await readlink(full) };
      else if (stats.isDirectory()) {
        out[path] = { type: 'dir', mode: stats.mode & 0o7777 };
        await walk(path);
      } else out[path] = { type: 'file', mode: stats.mode & 0o7777, data: (await readFile(full)).toString('utf8') };
    }
  };
  await walk('');
  return out;
}

export async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Header fields of every entry in a tar.gz, in order. */
export async function listTar(tarGz: Buffer): Promise<{ path: string; type: string; mode?: number; mtime?: number; uid?: number; gid?: number; uname?: string; linkpath?: string }[]> {
  const entries: Awaited<ReturnType<typeof listTar>> = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (e: ReadEntry) => {
    entries.push({ path: e.path, type: e.type, mode: e.mode, mtime: e.mtime?.getTime(), uid: e.uid, gid: e.gid, uname: e.uname, ...(e.linkpath ? { linkpath: e.linkpath } : {}) });
    e.resume();
  });
  const done = new Promise((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  parser.end(tarGz);
  await done;
  return entries;
}

/** `megabytes` MiB of zeros, generated lazily so nothing big sits in memory. */
export function zeros(megabytes: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024);
  let left = megabytes;
  return new Readable({
    read() {
      this.push(left-- > 0 ? chunk : null);
    },
  });
}
