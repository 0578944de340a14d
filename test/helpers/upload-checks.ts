/**
 * What the `packUpload` tests share (test/unit/upload-archive-*.test.ts): a
 * small but realistic package, its unpacked tree, and the two refusals a
 * bad upload may get.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { HearthError } from '../../gateway/errors.ts';
import type { PackedCode } from '../../gateway/deploy/upload-archive.ts';
import { extractCode } from '../../worker/sandbox/extract-code.ts';
import { snapshot, tempDir, type FixtureFile } from './code-fixtures.ts';

export const MiB = 1024 * 1024;

/** A small but realistic Node.js package: nesting, an executable, a symlink. */
export const PACKAGE: FixtureFile[] = [
  { path: 'index.js', data: 'export const handler = async () => "hi";\n' },
  { path: 'lib/util.js', data: 'module.exports = 1;\n' },
  { path: 'lib/empty.txt', data: '' },
  { path: 'node_modules/left-pad/package.json', data: '{"name":"left-pad","bin":"cli.js"}\n' },
  { path: 'node_modules/left-pad/index.js', data: 'module.exports = (s) => s;\n' },
  { path: 'node_modules/left-pad/cli.js', data: '#!/usr/bin/env node\n', mode: 0o755 },
  { path: 'node_modules/.bin/left-pad', link: '../left-pad/cli.js' },
];

/** The regular files of {@link PACKAGE}, sorted, as `PackedCode.files` lists them. */
export const EXPECTED_FILES = [
  'index.js',
  'lib/empty.txt',
  'lib/util.js',
  'node_modules/left-pad/cli.js',
  'node_modules/left-pad/index.js',
  'node_modules/left-pad/package.json',
];

/** The tree the worker would unpack from `packed` (in a temp dir: call `removeTempDirs` after the file). */
export async function unpacked(packed: PackedCode): Promise<Awaited<ReturnType<typeof snapshot>>> {
  const dest = join(await tempDir(), 'code');
  await extractCode(packed.tarGz, dest);
  return snapshot(dest);
}

async function rejection(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected packUpload to reject').toBeInstanceOf(HearthError);
  return error as HearthError;
}

/** `promise` rejects with a 400 InvalidArchive whose message matches. */
export async function expectInvalid(promise: Promise<unknown>, message: RegExp | string): Promise<void> {
  const error = await rejection(promise);
  expect({ status: error.status, code: error.code }).toEqual({ status: 400, code: 'InvalidArchive' });
  expect(error.message).toMatch(message);
}

/** `promise` rejects with a 413 ArchiveTooLarge whose message matches. */
export async function expectTooLarge(promise: Promise<unknown>, message: RegExp | string): Promise<void> {
  const error = await rejection(promise);
  expect({ status: error.status, code: error.code }).toEqual({ status: 413, code: 'ArchiveTooLarge' });
  expect(error.message).toMatch(message);
}
