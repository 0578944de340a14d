/**
 * The `hearth` CLI end to end, through one function's life: deployed from a
 * folder, invoked sync and async, its logs read and followed, its metrics
 * compared with the API's, listed, redeployed, rolled back and deleted. The
 * cases run in order on the same function. A real platform (gateway and
 * worker on real Docker, Redis and Postgres) is driven by the CLI as a child
 * process, checking exit codes, stdout and stderr as a user would see them.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.ts';
import { cliWith, idOf, INVOCATION_LINE, useCliPlatform, suffix } from '../helpers/cli-platform.ts';
import { writeTree } from '../helpers/code-fixtures.ts';
import { invoke } from '../helpers/packages.ts';
import { recordOf, type Platform } from '../helpers/platform.ts';

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

describe('hearth CLI: one function from deploy to delete', () => {
  let platform: Platform;
  let env: Record<string, string>;
  let work: string;
  const hearth = cliWith(() => env);
  const greeter = `greeter-${suffix()}`;
  const greeterIds: string[] = [];

  useCliPlatform(async (started) => {
    ({ platform, env, work } = started);
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

  it('deploys a folder with a nested file, a node_modules dependency, modes and a symlink', async () => {
    const run = await hearth(['deploy', join(work, greeter), '--env', 'GREETING=hello', '--memory', '256']);
    expect(run.stderr).toMatch(/^left out 1 path \(default exclusions; a \.hearthignore can change them\): \.git\/\npacked 6 files and 1 symlink into [\d.]+ (B|KiB)\n$/);
    expect(run.stdout).toBe(`deployed ${greeter} version 1 (nodejs20, index.handler, 256 MB, timeout 3000 ms)\n`);
    expect(run.code).toBe(0);
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

  it('invokes asynchronously, printing the invocation id', async () => {
    const run = await hearth(['invoke', greeter, '--async', '--data', '{"who":"async"}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const id = run.stdout.trim();
    const record = await recordOf(platform, id, 15_000);
    expect(record).toMatchObject({ status: 'succeeded', mode: 'async', result: { greeting: 'HELLO ASYNC!' } });
    greeterIds.push(id);
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
});
