/**
 * `hearth alias set|list|rm` and `hearth metrics --version` end to end: a
 * real platform driven by the CLI as a child process. Two versions of one
 * function, an alias splitting them, its table with weights (a hostile
 * description shown escaped), the API's refusals as one-line errors, and
 * the metrics split by version matching the API's numbers.
 */
import { describe, expect, it } from 'vitest';
import { cliWith, RAW_CONTROL, STACK, suffix, useCliPlatform } from '../helpers/cli-platform.ts';
import { deploy, invoke } from '../helpers/packages.ts';
import { recordOf, type Platform } from '../helpers/platform.ts';

const CODE = (v: number) => `exports.handler = async (event) => { if (event.fail) throw new Error('v${v} failed'); return ${v}; };`;

describe('hearth CLI: aliases and metrics by version', () => {
  let platform: Platform;
  let env: Record<string, string>;
  const hearth = cliWith(() => env);
  const name = `aliased-${suffix()}`;

  useCliPlatform(async (started) => {
    ({ platform, env } = started);
    for (const v of [1, 2]) {
      expect((await deploy(platform, name, { bytes: Buffer.from(CODE(v)), filename: 'index.js' }, { runtime: 'nodejs20' })).status).toBe(201);
    }
  });

  it('sets an alias with a weighted second version, then replaces it', async () => {
    const created = await hearth(['alias', 'set', name, 'live', '--version', '1', '--weight', '2=0.1', '--description', 'canary of v2', '--min-warm', '0']);
    expect(created).toMatchObject({ code: 0, stderr: '', stdout: `created alias live of ${name}: v1 90% · v2 10%\n` });
    const api = await (await platform.api(`/v1/functions/${name}/aliases/live`)).json();
    expect(api).toMatchObject({ version: 1, weights: { '2': 0.1 }, description: 'canary of v2', minWarm: 0 });

    const updated = await hearth(['alias', 'set', name, 'live', '--version', '2']);
    expect(updated).toMatchObject({ code: 0, stdout: `updated alias live of ${name}: v2 100%\n` });
    // Set replaces: what was left out takes its default.
    expect(await (await platform.api(`/v1/functions/${name}/aliases/live`)).json()).toMatchObject({ version: 2, weights: {}, description: '', minWarm: null });
  });

  it('lists aliases in a table with their weights, a hostile description shown escaped', async () => {
    // C0 controls are refused by the API; a C1 CSI and a bidi override are not, and must not reach the terminal raw.
    const hostile = 'evil \u009b2J \u202etxt';
    expect((await hearth(['alias', 'set', name, 'canary', '--version', '1', '--weight', '2=0.25', '--description', hostile])).code).toBe(0);
    const run = await hearth(['alias', 'list', name]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ALIAS\s+VERSION\s+WEIGHTS\s+MIN WARM\s+DESCRIPTION\s+UPDATED \(UTC\)$/);
    const row = (alias: string) => lines.find((l) => l.startsWith(`${alias} `))!;
    expect(row('canary')).toMatch(/^canary\s+1\s+v1 75% · v2 25%\s+–\s+evil \\x9b2J \\u202etxt\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(row('latest')).toMatch(/^latest\s+2\s+v2 100%\s+–\s+/);
    expect(row('live')).toMatch(/^live\s+2\s+v2 100%/);
    expect(lines).toHaveLength(4);
  });

  it('turns the API refusals into one-line errors, exit 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['alias', 'set', name, 'live', '--version', '9'], /^hearth: VersionNotFound: .*9/],
      [['alias', 'set', name, 'live', '--version', '1', '--weight', '7=0.5'], /^hearth: VersionNotFound: .*7/],
      [['alias', 'rm', name, 'latest'], /^hearth: AliasProtected: /],
      [['alias', 'rm', name, 'nope'], /^hearth: AliasNotFound: /],
      [['alias', 'list', 'no-such-function'], /^hearth: FunctionNotFound: /],
    ];
    for (const [args, message] of cases) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK);
      expect(run.stdout).toBe('');
    }
  });

  it('exits 2 for bad alias usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['alias'], /UsageError: missing <set\|list\|rm>/],
      [['alias', 'frob', name], /UsageError: unknown alias action "frob"/],
      [['alias', 'set', name, 'live'], /UsageError: missing --version/],
      [['alias', 'set', name, 'Live', '--version', '1'], /UsageError: <alias> must be a lowercase letter/],
      [['alias', 'set', name, 'live', '--version', '1', '--weight', '2=1.5'], /UsageError: --weight must be M=w/],
      [['alias', 'set', name, 'live', '--version', '1', '--weight', '1=0.5'], /UsageError: --weight names version 1/],
      [['alias', 'set', name, 'live', '--version', '1', '--min-warm', 'x'], /UsageError: --min-warm must be an integer/],
      [['metrics', name, '--version', 'two'], /UsageError: --version must be an integer of at least 1/],
    ];
    for (const [args, message] of cases) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
    const help = await hearth(['alias', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hearth alias <set\|list\|rm>/);
    expect(help.stdout).toContain('hearth alias set <name> <alias> --version N [--weight M=0.1] [--description TEXT] [--min-warm N]');
  });

  it('removes an alias', async () => {
    const run = await hearth(['alias', 'rm', name, 'canary']);
    expect(run).toMatchObject({ code: 0, stdout: `removed alias canary of ${name}\n` });
    expect((await platform.api(`/v1/functions/${name}/aliases/canary`)).status).toBe(404);
  });

  it('shows metrics split by version, and one version alone with --version', async () => {
    const calls: Array<[number, object]> = [[1, {}], [1, {}], [1, {}], [2, {}], [2, { fail: true }]];
    for (const [version, event] of calls) {
      const res = await invoke(platform, name, event, `?version=${version}`);
      await recordOf(platform, res.headers.get('x-invocation-id'));
    }
    const api = await (await platform.api(`/v1/functions/${name}/metrics?window=5m`)).json();
    const run = await hearth(['metrics', name, '--window', '5m']);
    expect(run.code).toBe(0);
    const table = run.stdout.slice(run.stdout.indexOf('BY VERSION'));
    expect(table.split('\n')[0]).toMatch(/^BY VERSION\s+CALLS\s+ERRORS\s+ERROR RATE\s+THROTTLED\s+COLD\s+P50 MS\s+P99 MS\s+HANDLER P99\s+GB-S$/);
    const [v2, v1] = api.versions;
    expect(table).toMatch(new RegExp(`^v2\\s+2\\s+1\\s+50%\\s+0\\s+1\\s+${v2.p50Ms === null ? '–' : Number(v2.p50Ms.toFixed(2))}\\s`, 'm'));
    expect(table).toMatch(new RegExp(`^v1\\s+3\\s+0\\s+0%\\s+0\\s+1\\s+${Number(v1.p50Ms.toFixed(2))}\\s`, 'm'));
    expect(table.indexOf('v2 ')).toBeLessThan(table.indexOf('v1 '));

    const one = await hearth(['metrics', name, '--window', '5m', '--version', '2']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^${name} version 2 · last 5m · `));
    expect(one.stdout).toMatch(/^invocations\s+2\s/m);
    expect(one.stdout).toMatch(/^errors\s+1\s+FunctionError 1$/m);
    expect(one.stdout).not.toMatch(/^v1\s/m);

    const json = await hearth(['metrics', name, '--window', '5m', '--version', '1', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ version: 1, invocations: 3, versions: [{ version: 1, invocations: 3, errors: 0 }] });
    const missing = await hearth(['metrics', name, '--version', '5']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^hearth: VersionNotFound: /);
  });
});
