/**
 * The `hearth` CLI's usage and configuration end to end: exit 2 for bad
 * usage, help and version, a wrong key, an unreachable gateway, and
 * `hearth login` writing the config file later runs use.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWith, STACK, useCliPlatform } from '../helpers/cli-platform.ts';
import { tempDir } from '../helpers/code-fixtures.ts';
import type { Platform } from '../helpers/platform.ts';
import { freePort } from '../helpers/ports.ts';

describe('hearth CLI usage and configuration', () => {
  let platform: Platform;
  let env: Record<string, string>;
  let work: string;
  useCliPlatform((started) => ({ platform, env, work } = started));
  const hearth = cliWith(() => env);

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
    // The configured key reached the platform: its list (or, in a database no earlier file deployed to, that it is empty).
    expect(`${list.stdout}${list.stderr}`).toMatch(/^NAME\s+VERSION|no functions yet/);
    const unconfigured = await hearth(['list'], { env: { HOME: await tempDir('hearth-home-') } });
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.stderr).toMatch(/^hearth: NotConfigured: .*hearth login/);
  });
});
