/** Building function packages (zip, tar.gz, single file) and deploying them through the API. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import yazl from 'yazl';
import type { Platform } from './platform.ts';

export type Files = Record<string, string>;

export async function zipOf(files: Files): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), path, { mode: 0o100644 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function tarGzOf(files: Files): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-pkg-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of tar.create({ gzip: true, cwd: dir, portable: true }, Object.keys(files))) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface DeployFields {
  runtime: string;
  handler?: string;
  memoryMb?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
  keepAliveMs?: number;
  minWarm?: number;
  maxConcurrency?: number;
}

/** `PUT /v1/functions/{name}` with `code` as the given bytes and file name. */
export function deploy(platform: Platform, name: string, code: { bytes: Buffer; filename: string }, fields: DeployFields) {
  const form = new FormData();
  form.set('code', new Blob([code.bytes]), code.filename);
  form.set('runtime', fields.runtime);
  if (fields.handler) form.set('handler', fields.handler);
  if (fields.memoryMb !== undefined) form.set('memoryMb', String(fields.memoryMb));
  if (fields.timeoutMs !== undefined) form.set('timeoutMs', String(fields.timeoutMs));
  if (fields.env) form.set('env', JSON.stringify(fields.env));
  for (const key of ['keepAliveMs', 'minWarm', 'maxConcurrency'] as const) {
    if (fields[key] !== undefined) form.set(key, String(fields[key]));
  }
  return platform.api(`/v1/functions/${name}`, { method: 'PUT', body: form });
}

export function invoke(platform: Platform, name: string, event: unknown, query = '') {
  return platform.api(`/v1/functions/${name}/invoke${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
}

/** A short random suffix so files sharing the run's database never collide on names. */
export function uniqueName(base: string): string {
  return `${base}-${Math.random().toString(36).slice(2, 8)}`;
}
