/** Building function packages (zip, tar.gz, single file) and deploying them through the API. */
import * as fixtures from './code-fixtures.ts';
import type { Platform } from './platform.ts';

export type Files = Record<string, string>;

const fixtureFiles = (files: Files): fixtures.FixtureFile[] => Object.entries(files).map(([path, data]) => ({ path, data }));

export function zipOf(files: Files): Promise<Buffer> {
  return fixtures.zipOf(fixtureFiles(files));
}

export function tarGzOf(files: Files): Promise<Buffer> {
  return fixtures.tarGzOf(fixtureFiles(files));
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
  network?: 'none' | 'egress';
  public?: boolean;
}

/** `PUT /v1/functions/{name}` with `code` as the given bytes and file name, and every field that is set. */
export function deploy(platform: Platform, name: string, code: { bytes: Buffer; filename: string }, fields: DeployFields) {
  const form = new FormData();
  form.set('code', new Blob([code.bytes]), code.filename);
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) form.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
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
