/**
 * How the `hearth` CLI shows what a function did when it fails or prints
 * what would drive a terminal: exit codes, the error's type, message and
 * stack, and control characters escaped everywhere but `--raw` into a pipe.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWith, idOf, INVOCATION_LINE, RAW_CONTROL, useCliPlatform, suffix } from '../helpers/cli-platform.ts';
import { writeTree } from '../helpers/code-fixtures.ts';
import { recordOf, type Platform } from '../helpers/platform.ts';

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

describe("hearth CLI shows a function's failures and output safely", () => {
  let platform: Platform;
  let env: Record<string, string>;
  let work: string;
  useCliPlatform((started) => ({ platform, env, work } = started));
  const hearth = cliWith(() => env);

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
});
