/**
 * `hearth deploy` end to end: what a folder leaves out (secrets by default,
 * a .hearthignore) and --dry-run, a single Python file with its runtime and
 * handler guessed, and upload progress for a large package.
 */
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWith, useCliPlatform, suffix } from '../helpers/cli-platform.ts';
import { writeTree } from '../helpers/code-fixtures.ts';
import type { Platform } from '../helpers/platform.ts';

/** Every file the function was deployed with, relative and sorted. */
const LIST_FILES = `
const fs = require('fs');
const path = require('path');
const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(dir, e.name)) : [path.relative(__dirname, path.join(dir, e.name))]);
exports.handler = async () => walk(__dirname).sort();
`;

const PYTHON = `
def handler(event, context):
    print("python got", event.get("n"))
    return {"doubled": event.get("n", 0) * 2}
`;

describe('hearth CLI deploys', () => {
  let platform: Platform;
  let env: Record<string, string>;
  let work: string;
  useCliPlatform((started) => ({ platform, env, work } = started));
  const hearth = cliWith(() => env);

  it('leaves secrets out of a folder by default and as .hearthignore says; --dry-run lists what would go and uploads nothing', async () => {
    const name = `secrets-${suffix()}`;
    const dir = join(work, name);
    await writeTree(dir, [
      { path: 'index.js', data: LIST_FILES },
      { path: 'lib/util.js', data: 'exports.x = 1;' },
      { path: '.env', data: 'DATABASE_URL=postgres://prod:hunter2@db/prod\n' },
      { path: '.env.local', data: 'TOKEN=local\n' },
      { path: '.env.example', data: 'DATABASE_URL=\n' },
      { path: '.npmrc', data: '//registry.npmjs.org/:_authToken=npm_secret\n' },
      { path: '.ssh/id_ed25519', data: 'PRIVATE KEY\n' },
      { path: 'certs/server.pem', data: 'CERT\n' },
      { path: '.git/config', data: '[core]\n' },
      { path: 'docs/notes.md', data: 'notes\n' },
      { path: '.hearthignore', data: '# documentation is not code\n/docs/\n!.env.example\n' },
    ]);
    const kept = ['.env.example', 'index.js', 'lib/util.js'];
    const left = ['.env', '.env.local', '.git/', '.hearthignore', '.npmrc', '.ssh/', 'certs/server.pem', 'docs/'];

    const dry = await hearth(['deploy', dir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toMatch(new RegExp(`^would deploy ${name} \\(nodejs20, default handler\\)`));
    for (const path of kept) expect(dry.stdout).toMatch(new RegExp(`^\\s*\\d+ B  ${path.replace(/\./g, '\\.')}$`, 'm'));
    expect(dry.stdout).toMatch(/^total \d+ B in 3 files, [\d.]+ (B|KiB) zipped$/m);
    expect(dry.stdout).toContain(`left out 8 paths:\n${left.map((p) => `  ${p}\n`).join('')}dry run: nothing uploaded\n`);
    expect((await platform.api(`/v1/functions/${name}`)).status).toBe(404);

    const run = await hearth(['deploy', dir]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`left out 8 paths (default exclusions, .hearthignore): ${left.join(', ')}\n`);
    expect(run.stderr).toMatch(/^packed 3 files into /m);
    const call = await hearth(['invoke', name]);
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual(kept);
    const deleted = await hearth(['delete', name, '--yes']);
    expect(deleted.code).toBe(0);
  });

  it('deploys a single Python file, guessing runtime and handler, and invokes it with stdin', async () => {
    const module = `pyhello_${suffix()}`;
    const file = join(work, `${module}.py`);
    await writeTree(work, [{ path: `${module}.py`, data: PYTHON }]);
    const name = module.replace('_', '-');
    const deployed = await hearth(['deploy', file]);
    expect(deployed.stdout).toBe(`deployed ${name} version 1 (python3, ${module}.handler, 128 MB, timeout 3000 ms)\n`);
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);

    const run = await hearth(['invoke', name], { input: '{"n": 21}' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ doubled: 42 });
  });

  it('deploys with a Lambda runtime name and says what it runs on', async () => {
    const module = `pylambda_${suffix()}`;
    const file = join(work, `${module}.py`);
    await writeTree(work, [{ path: `${module}.py`, data: PYTHON }]);
    const deployed = await hearth(['deploy', file, '--runtime', 'python3.12']);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toBe(`deployed ${module.replace('_', '-')} version 1 (python3, ${module}.handler, 128 MB, timeout 3000 ms)\n`);
    expect(deployed.stderr).toMatch(/^python3\.12 runs on python3( \(.+\))?$/m);
    const wrong = await hearth(['deploy', file, '--runtime', 'cobol85']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--runtime must be one of nodejs20, python3, provided, java17 or a Lambda runtime name, got "cobol85"');
  });

  it('deploys with a secret as a variable and as a file, set from standard input', async () => {
    const secret = `cli-${suffix()}`;
    const set = await hearth(['secret', 'set', secret], { input: 'from-stdin-value' });
    expect(set.code, set.stderr).toBe(0);
    const dir = join(work, `withsecret-${suffix()}`);
    await writeTree(dir, [
      { path: 'index.js', data: `exports.handler = async () => ({ env: process.env.DB, file: require('fs').readFileSync('/run/secrets/${secret}', 'utf8') });` },
    ]);
    const run = await hearth(['deploy', dir, '--secret-env', `DB=${secret}`, '--secret', secret]);
    expect(run.code, run.stderr).toBe(0);
    const call = await hearth(['invoke', basename(dir)]);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual({ env: 'from-stdin-value', file: 'from-stdin-value' });
    const bad = await hearth(['deploy', dir, '--secret-env', 'DB=']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--secret-env takes KEY=SECRET, got "DB="');
  });

  it('shows upload progress for a package over 1 MB', async () => {
    const dir = join(work, `big-${suffix()}`);
    await writeTree(dir, [
      { path: 'index.js', data: "exports.handler = async () => require('fs').statSync(__dirname + '/blob.bin').size;" },
      { path: 'blob.bin', data: randomBytes(1536 * 1024) },
    ]);
    const run = await hearth(['deploy', dir]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^uploading 0 B \/ 1\.5 MiB \(0%\)$/m);
    expect(run.stderr).toMatch(/^uploading 1\.5 MiB \/ 1\.5 MiB \(100%\)$/m);
    expect(run.stdout).toMatch(/version 1 /);
  });
});
