/**
 * Turns an image plan into an image: the hash of its inputs (so an up-to-date
 * image is never rebuilt), and the root filesystem streamed as a tar into the
 * Engine API's image import, which applies the image config in the same step.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { Header, Pax, type HeaderData } from 'tar';
import type { ImagePlan, RootfsEntry } from './image-rootfs.ts';
import { SANDBOX_UID } from './runtimes.ts';

/** Bump when the build changes what goes into an image. */
const BUILD_SCRIPT_VERSION = 3;
/** Label holding the hash of everything an image was built from. */
export const INPUTS_LABEL = 'io.hearth.inputs';
/** Label naming the runtime an image serves. */
export const RUNTIME_LABEL = 'io.hearth.runtime';
/** Fixed mtime for generated entries, so identical inputs give identical layers. */
const EPOCH = new Date('2000-01-01T00:00:00Z');

/** Every image's environment; a plan adds its own (`env`). */
const IMAGE_ENV = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8', 'LAMBDA_TASK_ROOT=/var/task'];

function imageChanges(plan: ImagePlan, inputs: string): string[] {
  return [
    `USER ${SANDBOX_UID}:${SANDBOX_UID}`,
    'WORKDIR /var/task',
    ...[...IMAGE_ENV, ...(plan.env ?? [])].map((pair) => `ENV ${pair}`),
    `ENTRYPOINT ${JSON.stringify(plan.entrypoint)}`,
    `LABEL ${RUNTIME_LABEL}=${plan.runtime} ${INPUTS_LABEL}=${inputs}`,
  ];
}

/** Hash of every input: host files by identity (path, size, mtime, mode), generated files by content. */
export async function inputsHash(plan: ImagePlan): Promise<string> {
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

export async function importImage(docker: Dockerode, plan: ImagePlan, inputs: string): Promise<void> {
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

