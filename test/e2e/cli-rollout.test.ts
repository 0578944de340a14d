/**
 * `hearth rollout` end to end on the real rollout engine: calls keep coming
 * through the alias while the CLI starts a rollout and watches it. One that
 * completes (watched on a terminal: one line redrawn in place), one whose
 * new version fails every call and is rolled back (a child process: plain
 * lines, exit 1 with the reason and the numbers), then status, pause,
 * resume, abort and Ctrl-C, each as a user sees them.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../gateway/cli/main.ts';
import { startCli } from '../helpers/cli.ts';
import { cliWith, STACK, suffix, useCliPlatform } from '../helpers/cli-platform.ts';
import { deploy, invoke } from '../helpers/packages.ts';
import type { Platform } from '../helpers/platform.ts';

const OK = (v: number) => `exports.handler = async () => ${v};`;
const FAILING = `exports.handler = async () => { throw new Error('v3 is broken'); };`;
/** Fast steps and a guard that judges after a handful of calls; p99 is left to a generous ratio (cold containers). */
const FAST = ['--steps', '0.5,1', '--step-ms', '1000', '--min-calls', '3', '--max-p99-ratio', '20'];

describe('hearth CLI: rollouts', () => {
  let platform: Platform;
  let env: Record<string, string>;
  const hearth = cliWith(() => env);
  const name = `rolled-${suffix()}`;

  useCliPlatform(async (started) => {
    ({ platform, env } = started);
    for (const code of [OK(1), OK(2), FAILING]) {
      expect((await deploy(platform, name, { bytes: Buffer.from(code), filename: 'index.js' }, { runtime: 'nodejs20' })).status).toBe(201);
    }
    const put = await platform.api(`/v1/functions/${name}/aliases/live`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"version": 1}' });
    expect(put.status).toBe(201);
  });

  /** Calls through `live`, one after another, until the returned stop is called; resolves with the versions that answered. */
  function traffic() {
    let running = true;
    const versions: string[] = [];
    const done = (async () => {
      while (running) {
        const res = await invoke(platform, name, {}, '?alias=live');
        versions.push(res.headers.get('x-function-version') ?? '?');
        await res.arrayBuffer();
      }
      return versions;
    })();
    return async () => {
      running = false;
      return done;
    };
  }

  const aliasNow = async () => (await platform.api(`/v1/functions/${name}/aliases/live`)).json();

  it('watches a rollout to completion on a terminal, one line redrawn in place', { timeout: 60_000 }, async () => {
    const stop = traffic();
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 160 });
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const code = await main(['rollout', name, 'live', '--to', '2', ...FAST], { stdout, stderr, stdin: new PassThrough() }, env, new AbortController().signal);
    const versions = await stop();
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const [started, ...rest] = out.split('\n');
    expect(started).toBe(`started rollout of live (${name}): v1 → v2 in 2 steps (50% → 100%), 1 s each; guard: error rate ≤ 1%, p99 ≤ 20× v1's, judged after 3 calls of v2`);
    // Redrawn: every frame starts with CR + erase-line, and all of them sit on one line.
    const frames = rest[0]!.split('\r\u001b[2K').filter(Boolean);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames[0]).toMatch(/^live v1 → v2 · step 1\/2, v2 at 50% · running/);
    expect(frames.at(-1)).toMatch(/^live v1 → v2 · step 2\/2, v2 at 100% · completed · last check complete: v2 \d+ calls, 0 errors \(0%\), p99 [\d.]+ ms \| v1 \d+ calls/);
    expect(rest[1]).toMatch(/^rollout of live completed in \d+ s: v2 takes every call$/);
    expect(await aliasNow()).toMatchObject({ version: 2, weights: {} });
    expect(versions).toContain('1');
    expect(versions).toContain('2');
  });

  it('exits 1 with the reason and the numbers when the new version fails and is rolled back', { timeout: 60_000 }, async () => {
    const stop = traffic();
    const run = await hearth(['rollout', name, 'live', '--to', '3', ...FAST]);
    await stop();
    expect(run.code).toBe(1);
    // Not a terminal: plain lines, no escapes, one per change.
    expect(run.stdout).not.toContain('\r');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^started rollout of live \(.*\): v2 → v3 in 2 steps/);
    expect(lines[1]).toMatch(/^live v2 → v3 · step 1\/2, v3 at 50% · running · next check in \d+ s$/);
    expect(lines.at(-1)).toMatch(/^live v2 → v3 · step 1\/2, v3 at 0% · rolled-back · last check rollback: v3 \d+ calls?, \d+ errors? \(100%\)/);
    const [message, header, ...rows] = run.stderr.trimEnd().split('\n');
    expect(message).toMatch(/^hearth: RolledBack: rollout of live rolled back at step 1\/2; v2 takes every call again: .*\d/);
    expect(header).toMatch(/^CHECKED \(UTC\)\s+STEP\s+WEIGHT\s+v3 CALLS\s+v3 ERRORS\s+v3 RATE\s+v3 P99 MS\s+v2 CALLS/);
    expect(rows.at(-1)).toMatch(/^\S+ \S+\s+1\/2\s+50%\s+(\d+)\s+\1\s+100%\s+.*rollback\s+/);
    expect(run.stderr).not.toMatch(STACK);
    expect(await aliasNow()).toMatchObject({ version: 2, weights: {} });
    const view = await (await platform.api(`/v1/functions/${name}/aliases/live/rollout`)).json();
    expect(view).toMatchObject({ status: 'rolled-back', fromVersion: 2, toVersion: 3 });
    expect(message).toContain(view.reason);
  });

  it('shows, pauses, resumes and aborts a rollout it does not watch', { timeout: 60_000 }, async () => {
    const start = await hearth(['rollout', name, 'live', '--to', '1', '--step-ms', '600000', '--detach']);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^started rollout of live .*: v2 → v1 in 4 steps \(5% → 25% → 50% → 100%\), 10 min each; guard: error rate ≤ 1%, p99 ≤ 1\.5× v2's, judged after 50 calls of v1\nnot watching: hearth rollout status /);
    const again = await hearth(['rollout', name, 'live', '--to', '1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^hearth: RolloutInProgress: /);

    const status = await hearth(['rollout', 'status', name, 'live']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^rollout [0-9a-f-]{36} of live \(.*\): v2 → v1, running\nsteps 5% → 25% → 50% → 100%, 10 min each; now step 1\/4, v1 at 5%\n/);
    expect(status.stdout).toMatch(/^next check in \d+ min/m);
    expect(status.stdout).toMatch(/no checks yet\n$/);
    const json = await hearth(['rollout', 'status', name, 'live', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'running', fromVersion: 2, toVersion: 1, weight: 0.05 });

    expect(await hearth(['rollout', 'pause', name, 'live'])).toMatchObject({ code: 0, stdout: 'paused rollout of live at step 1/4, v1 at 5%\n' });
    expect((await hearth(['rollout', 'status', name, 'live'])).stdout).toMatch(/v2 → v1, paused\n/);
    expect(await hearth(['rollout', 'resume', name, 'live'])).toMatchObject({ code: 0, stdout: 'resumed rollout of live at step 1/4, v1 at 5%\n' });
    expect(await hearth(['rollout', 'abort', name, 'live'])).toMatchObject({ code: 0, stdout: 'aborted rollout of live: v2 takes every call again\n' });
    const after = await hearth(['rollout', 'status', name, 'live']);
    expect(after.stdout).toMatch(/v2 → v1, aborted\n/);
    expect(after.stdout).toMatch(/^reason: /m);
    const finished = await hearth(['rollout', 'abort', name, 'live']);
    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/^hearth: RolloutFinished: /);
    expect(await aliasNow()).toMatchObject({ version: 2, weights: {} });
  });

  it('stops watching on Ctrl-C (exit 130) and leaves the rollout running', { timeout: 60_000 }, async () => {
    const cli = startCli(['rollout', name, 'live', '--to', '1', '--step-ms', '600000'], { env });
    await cli.waitForStdout((out) => out.includes('· running'));
    cli.child.kill('SIGINT');
    const run = await cli.exited;
    expect(run.code).toBe(130);
    expect(run.stderr).toBe(`stopped watching; the rollout goes on: hearth rollout status|pause|abort ${name} live\n`);
    expect((await (await platform.api(`/v1/functions/${name}/aliases/live/rollout`)).json()).status).toBe('running');
    expect((await hearth(['rollout', 'abort', name, 'live'])).code).toBe(0);
  });

  it('answers mistakes with usage errors (exit 2) and the API refusals (exit 1)', async () => {
    const usage: Array<[string[], RegExp]> = [
      [['rollout', name, 'live'], /UsageError: missing --to <version>/],
      [['rollout', name, 'live', '--to', '0'], /UsageError: --to must be an integer of at least 1/],
      [['rollout', name, 'live', '--to', '3', '--steps', '0.5,0.2,1'], /UsageError: --steps must be/],
      [['rollout', name, 'live', '--to', '3', '--steps', '0.5'], /UsageError: --steps must be/],
      [['rollout', name, 'live', '--to', '3', '--step-ms', '10'], /UsageError: --step-ms must be an integer of at least 1000/],
      [['rollout', name, 'live', '--to', '3', '--max-p99-ratio', '0.5'], /UsageError: --max-p99-ratio must be a number from 1 to 100/],
      [['rollout', 'frob', name, 'live'], /UsageError: unknown rollout action "frob"/],
      [['rollout', 'status', name, 'live', '--to', '2'], /UsageError: --to starts a rollout/],
    ];
    for (const [args, message] of usage) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    const refused: Array<[string[], RegExp]> = [
      [['rollout', name, 'live', '--to', '2'], /^hearth: InvalidParameter: /],
      [['rollout', name, 'live', '--to', '9'], /^hearth: VersionNotFound: /],
      [['rollout', name, 'nope', '--to', '2'], /^hearth: AliasNotFound: /],
      [['rollout', 'status', name, 'latest'], /^hearth: RolloutNotFound: /],
      [['rollout', 'pause', name, 'latest'], /^hearth: RolloutNotFound: /],
    ];
    for (const [args, message] of refused) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK);
    }
  });
});
