/**
 * The `hearth` CLI end to end: a real platform (gateway + worker on real
 * Docker, Redis and Postgres) driven by the CLI as a child process, checking
 * exit codes, stdout and stderr as a user (or a script) would see them.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir, writeTree } from '../helpers/code-fixtures.ts';
import { runCli, startCli, type CliRun } from '../helpers/cli.ts';
import { invoke } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { freePort } from '../helpers/ports.ts';

const GREETER = `
const fs = require('fs');
const path = require('path');
const shout = require('shout');
const { word } = require('./lib/words.js');
exports.handler = async (event) => {
  console.log('greeting', event.who);
  return {
    greeting: shout(process.env.GREETING + ' ' + (event.who || word)),
    toolIsExecutable: (fs.statSync(path.join(__dirname, 'bin/tool.sh')).mode & 0o111) !== 0,
    link: fs.readlinkSync(path.join(__dirname, 'current')),
    throughLink: require('./current/words.js').word,
    hasGit: fs.existsSync(path.join(__dirname, '.git')),
  };
};
`;

const PYTHON = `
def handler(event, context):
    print("python got", event.get("n"))
    return {"doubled": event.get("n", 0) * 2}
`;

const FAILING = `
exports.handler = async (event) => {
  if (event.boom) throw new TypeError('bad thing');
  return 'fine';
};
`;

/** Prints and throws what would drive a terminal: clear screen, window title, colours, a line rewrite, 8-bit CSI, bidi override. */
const ESCAPES = `
const nasty = '\\u001b[2J\\u001b]0;pwned\\u0007red \\u001b[31mtext\\u001b[0m ok\\rFORGED \\u009b6n \\u202eevil';
exports.handler = async (event) => {
  console.log('log:' + nasty);
  if (event.boom) throw new Error('boom:' + nasty);
  return 'result:' + nasty;
};
`;
/** Every file the function was deployed with, relative and sorted. */
const LIST_FILES = `
const fs = require('fs');
const path = require('path');
const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(dir, e.name)) : [path.relative(__dirname, path.join(dir, e.name))]);
exports.handler = async () => walk(__dirname).sort();
`;

/** Anything a terminal would act on, other than tab and newline. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const suffix = () => randomBytes(3).toString('hex');
const INVOCATION_LINE = /invocation ([0-9a-f-]{36})\s+version (\d+)\s+start (cold|prewarmed|warm)\s+duration [\d.]+ ms/;
const STACK = /\n\s+at /;

describe('hearth CLI', () => {
  let platform: Platform;
  let env: Record<string, string>;
  let work: string;
  const greeter = `greeter-${suffix()}`;
  const greeterIds: string[] = [];

  const hearth = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { env: options.env ?? env, ...(options.input !== undefined ? { input: options.input } : {}) });
  const idOf = (run: CliRun) => INVOCATION_LINE.exec(run.stderr)?.[1];

  beforeAll(async () => {
    platform = await startPlatform();
    work = await tempDir('hearth-cli-');
    env = { HOME: await tempDir('hearth-home-'), HEARTH_URL: platform.url, HEARTH_API_KEY: platform.apiKey };
    await writeTree(join(work, greeter), [
      { path: 'package.json', data: JSON.stringify({ name: 'greeter', main: 'index.js' }) },
      { path: 'index.js', data: GREETER },
      { path: 'lib/words.js', data: "exports.word = 'world';" },
      { path: 'node_modules/shout/package.json', data: JSON.stringify({ name: 'shout', main: 'index.js' }) },
      { path: 'node_modules/shout/index.js', data: "module.exports = (s) => s.toUpperCase() + '!';" },
      { path: 'bin/tool.sh', data: '#!/bin/sh\necho tool\n', mode: 0o755 },
      { path: 'current', link: 'lib' },
      { path: '.git/HEAD', data: 'ref: refs/heads/main\n' },
    ]);
  });
  afterAll(async () => {
    await platform?.stop();
    await removeTempDirs();
  });

  it('deploys a folder with a nested file, a node_modules dependency, modes and a symlink', async () => {
    const run = await hearth(['deploy', join(work, greeter), '--env', 'GREETING=hello', '--memory', '256']);
    expect(run.stderr).toMatch(/^left out 1 path \(default exclusions; a \.hearthignore can change them\): \.git\/\npacked 6 files and 1 symlink into [\d.]+ (B|KiB)\n$/);
    expect(run.stdout).toBe(`deployed ${greeter} version 1 (nodejs20, index.handler, 256 MB, timeout 3000 ms)\n`);
    expect(run.code).toBe(0);
  });

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

  it('invokes with --data: pretty JSON on stdout, invocation id, start kind and duration on stderr', async () => {
    const run = await hearth(['invoke', greeter, '--data', '{"who":"ada"}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `${JSON.stringify({ greeting: 'HELLO ADA!', toolIsExecutable: true, link: 'lib', throughLink: 'world', hasGit: false }, null, 2)}\n`,
    );
    expect(run.stderr).toMatch(INVOCATION_LINE);
    expect(INVOCATION_LINE.exec(run.stderr)?.[3]).toBe('cold');
    greeterIds.push(idOf(run)!);

    const raw = await hearth(['invoke', greeter, '--data', '{"who":"bob"}', '--raw']);
    expect(raw.code).toBe(0);
    expect(JSON.parse(raw.stdout)).toMatchObject({ greeting: 'HELLO BOB!' });
    expect(raw.stdout).not.toContain('\n  ');
    expect(INVOCATION_LINE.exec(raw.stderr)?.[3]).toBe('warm');
    greeterIds.push(idOf(raw)!);
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

  it('invokes asynchronously, printing the invocation id', async () => {
    const run = await hearth(['invoke', greeter, '--async', '--data', '{"who":"async"}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const id = run.stdout.trim();
    const record = await recordOf(platform, id, 15_000);
    expect(record).toMatchObject({ status: 'succeeded', mode: 'async', result: { greeting: 'HELLO ASYNC!' } });
    greeterIds.push(id);
  });

  it('exits 1 with the type, message and stack when the function fails', async () => {
    const file = `fails-${suffix()}.js`;
    await writeTree(work, [{ path: file, data: FAILING }]);
    const name = file.replace(/\.js$/, '');
    expect((await hearth(['deploy', join(work, file)])).code).toBe(0);

    const run = await hearth(['invoke', name, '--data', '{"boom":true}']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^hearth: FunctionError: TypeError: bad thing\n/);
    expect(run.stderr).toMatch(INVOCATION_LINE);
    expect(run.stderr).toMatch(/at .*fails-/);
  });

  it('shows control characters from a function\'s logs, errors and results escaped; --raw into a pipe stays exact', async () => {
    const file = `escapes-${suffix()}.js`;
    await writeTree(work, [{ path: file, data: ESCAPES }]);
    const name = file.replace(/\.js$/, '');
    expect((await hearth(['deploy', join(work, file)])).code).toBe(0);

    const pretty = await hearth(['invoke', name]);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(pretty.stdout)).toMatch(/^result:\u001b\[2J.*\u009b6n \u202eevil$/s);
    const raw = await hearth(['invoke', name, '--raw']);
    expect(raw.stdout).toContain('\u009b6n \u202eevil'); // piped: the body byte for byte
    expect(JSON.parse(raw.stdout)).toBe(JSON.parse(pretty.stdout));

    const failed = await hearth(['invoke', name, '--data', '{"boom":true}']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^hearth: FunctionError: Error: boom:\\x1b\[2J\\x1b\]0;pwned\\x07red /);
    expect(failed.stderr).not.toMatch(RAW_CONTROL);
    for (const run of [pretty, raw, failed]) await recordOf(platform, idOf(run)!, 15_000);

    const logs = await hearth(['logs', name]);
    expect(logs.code).toBe(0);
    expect(logs.stdout.match(/^log:/gm)).toHaveLength(3);
    expect(logs.stdout).toContain('red \\x1b[31mtext\\x1b[0m ok\\x0dFORGED \\x9b6n \\u202eevil');
    expect(logs.stdout).not.toMatch(RAW_CONTROL);
  });

  it('prints logs with REPORT lines, oldest first', async () => {
    for (const id of greeterIds) await recordOf(platform, id, 15_000);
    const run = await hearth(['logs', greeter]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const reports = [...run.stdout.matchAll(/^REPORT RequestId: ([0-9a-f-]{36})\t.*$/gm)].map((m) => m[1]);
    expect(new Set(reports)).toEqual(new Set(greeterIds));
    expect(run.stdout.indexOf('greeting ada')).toBeLessThan(run.stdout.indexOf('greeting bob'));
    expect(run.stdout).toMatch(/greeting ada\nREPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tInit Duration: [\d.]+ ms\tStart: cold\tStatus: succeeded/);

    const limited = await hearth(['logs', greeter, '--limit', '1', '--since', '10m']);
    expect(limited.code).toBe(0);
    expect(limited.stdout.match(/^REPORT /gm)).toHaveLength(1);
  });

  it('logs --follow prints an invocation made while it runs, once, and stops cleanly on SIGINT', { timeout: 60_000 }, async () => {
    const follow = startCli(['logs', greeter, '--follow'], { env });
    await follow.waitForStdout((out) => (out.match(/^REPORT /gm) ?? []).length >= greeterIds.length);
    const res = await invoke(platform, greeter, { who: 'follower' });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-invocation-id')!;
    greeterIds.push(id);
    await follow.waitForStdout((out) => out.includes(`REPORT RequestId: ${id}`));
    await new Promise((r) => setTimeout(r, 1500)); // one more poll: it must not print the call again
    follow.child.kill('SIGINT');
    const done = await follow.exited;
    expect(done.code).toBe(0);
    expect(done.stderr).toBe('');
    expect(done.stdout).toContain('greeting follower\n');
    expect(done.stdout.split(`REPORT RequestId: ${id}`)).toHaveLength(2);
  });

  it('shows metrics with the same invocations, cold starts and GB-seconds as the API', async () => {
    for (const id of greeterIds) await recordOf(platform, id, 15_000);
    const run = await hearth(['metrics', greeter, '--window', '5m']);
    expect(run.code).toBe(0);
    const api = await (await platform.api(`/v1/functions/${greeter}/metrics?window=5m`)).json();
    expect(api.invocations).toBe(greeterIds.length);
    const out = run.stdout;
    expect(out).toMatch(new RegExp(`^invocations\\s+${api.invocations}\\s+[▁▂▃▄▅▆▇█]{${api.series.length}}$`, 'm'));
    expect(out).toMatch(new RegExp(`^cold starts\\s+${api.coldStarts.count}\\s+rate `, 'm'));
    expect(out).toMatch(new RegExp(`^GB-seconds\\s+${String(api.usage.gbSeconds).replace('.', '\\.')}$`, 'm'));
    expect(out).toMatch(new RegExp(`^billed ms\\s+${api.usage.billedMs}$`, 'm'));
    const warm = api.latencyMs.warm;
    const p50 = String(Number(warm.p50.toFixed(2))).replace('.', '\\.');
    expect(out).toMatch(new RegExp(`^latency warm\\s+${warm.count}\\s+${p50}\\s`, 'm'));

    const json = await hearth(['metrics', greeter, '--window', '5m', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    // The window slides between the two reads, so compare the buckets both answers hold.
    const byTime = (series: { t: string }[]) => new Map(series.map((bucket) => [bucket.t, bucket]));
    const cliBuckets = byTime(parsed.series);
    const shared = [...byTime(api.series)].filter(([t]) => cliBuckets.has(t));
    expect(shared.length).toBeGreaterThan(api.series.length - 3);
    for (const [t, bucket] of shared) expect(cliBuckets.get(t)).toEqual(bucket);
    expect({ ...parsed, from: 0, to: 0, series: [] }).toEqual({ ...api, from: 0, to: 0, series: [] });
  });

  it('lists functions and versions, rolls back, and deletes', { timeout: 60_000 }, async () => {
    const v2 = await hearth(['deploy', join(work, greeter), '--name', greeter, '--env', 'GREETING=hi']);
    expect(v2.stdout).toContain(`deployed ${greeter} version 2 `);

    const list = await hearth(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+VERSION\s+RUNTIME\s+HANDLER\s+MEMORY\s+TIMEOUT\s+UPDATED/);
    expect(list.stdout).toMatch(new RegExp(`^${greeter}\\s+2\\s+nodejs20\\s+index\\.handler\\s+128 MB\\s+3000 ms`, 'm'));

    const versions = await hearth(['versions', greeter]);
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(/^\s*\*2\s+nodejs20\s+index\.handler\s+128 MB/m);
    expect(versions.stdout).toMatch(/^\s+1\s+nodejs20\s+index\.handler\s+256 MB/m);

    const rollback = await hearth(['rollback', greeter, '1']);
    expect(rollback).toMatchObject({ code: 0, stdout: `${greeter} now runs version 1\n` });
    const call = await hearth(['invoke', greeter, '--data', '{"who":"again"}']);
    expect(INVOCATION_LINE.exec(call.stderr)?.[2]).toBe('1');
    expect(JSON.parse(call.stdout).greeting).toBe('HELLO AGAIN!');
    const pinned = await hearth(['invoke', greeter, '--version', '2', '--data', '{"who":"two"}']);
    expect(JSON.parse(pinned.stdout).greeting).toBe('HI TWO!');

    const unconfirmed = await hearth(['delete', greeter]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    const deleted = await hearth(['delete', greeter, '--yes']);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${greeter}\n` });
    expect((await hearth(['list'])).stdout).not.toContain(greeter);
    const gone = await hearth(['invoke', greeter]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^hearth: FunctionNotFound: function "greeter-[0-9a-f]+" does not exist\n$/);
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

  it('exits 2 for bad usage, without a stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage: hearth <command>/],
      [['frobnicate'], /UsageError: unknown command "frobnicate"/],
      [['invoke'], /UsageError: missing <name>/],
      [['invoke', 'x', '--bogus'], /UsageError: Unknown option '--bogus'/],
      [['invoke', 'x', '--data', '{bad'], /UsageError: --data is not valid JSON/],
      [['deploy', work, '--memory', 'lots'], /UsageError: --memory must be an integer/],
      [['deploy', join(work, 'no-such-dir')], /InvalidInput: .*no-such-dir does not exist/],
      [['metrics', 'x', '--window', '2h'], /UsageError: --window must be one of 5m, 1h, 24h, 7d/],
      [['rollback', 'x', 'latest'], /UsageError: <version> must be a positive integer/],
      [['logs', 'x', '--since', 'yesterday-ish'], /UsageError: --since must be/],
    ];
    for (const [args, message] of cases) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK);
      expect(run.stdout).toBe('');
    }
  });

  it('prints help and the version', async () => {
    const help = await hearth(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['deploy', 'invoke', 'logs', 'metrics', 'list', 'versions', 'rollback', 'delete', 'login']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const invokeHelp = await hearth(['invoke', '--help']);
    expect(invokeHelp).toMatchObject({ code: 0 });
    expect(invokeHelp.stdout).toMatch(/^Usage: hearth invoke <name>/);
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(await hearth(['--version'])).toMatchObject({ code: 0, stdout: `hearth ${pkg.version}\n` });
  });

  it('exits 1 with Unauthorized for a wrong key', async () => {
    const run = await hearth(['list'], { env: { ...env, HEARTH_API_KEY: 'not-the-key' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^hearth: Unauthorized: missing or invalid API key/);
    expect(run.stderr).not.toMatch(STACK);
  });

  it('exits 3 naming the URL when the gateway cannot be reached', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await hearth(['list'], { env: { ...env, HEARTH_URL: url } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`^hearth: Unreachable: cannot reach the gateway at ${url.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
    expect(run.stderr).not.toMatch(STACK);
  });

  it('logs in to a config file (mode 0600) and uses it when no variables are set', async () => {
    const home = await tempDir('hearth-home-');
    const bad = await hearth(['login', '--url', platform.url, '--key', 'wrong'], { env: { HOME: home } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Unauthorized/);
    await expect(stat(join(home, '.config/hearth/config.json'))).rejects.toThrow();

    const login = await hearth(['login', '--url', `${platform.url}/`, '--key', platform.apiKey], { env: { HOME: home } });
    expect(login.code).toBe(0);
    const path = join(home, '.config/hearth/config.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ url: platform.url, apiKey: platform.apiKey });

    const list = await hearth(['list'], { env: { HOME: home } });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+VERSION/);
    const unconfigured = await hearth(['list'], { env: { HOME: await tempDir('hearth-home-') } });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.stderr).toMatch(/^hearth: NotConfigured: .*hearth login/);
  });
});
