import { describe, expect, it } from 'vitest';
import { assertFunctionName, assertHandlerFileExists, parseFunctionSettings } from '../../gateway/deploy/function-settings.ts';
import { HearthError } from '../../gateway/errors.ts';
import { lambdaErrorOf } from '../../gateway/lambda/lambda-errors.ts';
import { parseCreateFunction, settingsFrom } from '../../gateway/lambda/lambda-requests.ts';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as HearthError).code;
  }
  return undefined;
};

describe('function names', () => {
  it('accepts DNS labels', () => {
    for (const name of ['a', 'hello', 'my-func-2', '0', 'a'.repeat(63)]) expect(codeOf(() => assertFunctionName(name))).toBeUndefined();
  });
  it('rejects anything else', () => {
    for (const name of ['', 'A', 'a_b', '-a', 'a-', 'a'.repeat(64), 'a.b', 'a b', 'a\0b', 'ü']) {
      expect(codeOf(() => assertFunctionName(name))).toBe('InvalidName');
    }
  });
});

describe('deploy settings', () => {
  it('fills in defaults per runtime', () => {
    expect(parseFunctionSettings({ runtime: 'nodejs20' })).toEqual({
      runtime: 'nodejs20',
      handler: 'index.handler',
      memoryMb: 128,
      timeoutMs: 3000,
      env: {},
      keepAliveMs: null,
      minWarm: 0,
      maxConcurrency: null,
      network: 'none',
      public: false,
    });
    expect(parseFunctionSettings({ runtime: 'python3' }).handler).toBe('main.handler');
  });

  it('parses limits and env', () => {
    expect(
      parseFunctionSettings({
        runtime: 'nodejs20',
        handler: 'src/app.main',
        memoryMb: '4096',
        timeoutMs: '900000',
        env: '{"A":"1","B_2":""}',
        keepAliveMs: '60000',
        minWarm: '2',
        maxConcurrency: '5',
        network: 'egress',
        public: 'true',
      }),
    ).toEqual({
      runtime: 'nodejs20',
      handler: 'src/app.main',
      memoryMb: 4096,
      timeoutMs: 900000,
      env: { A: '1', B_2: '' },
      keepAliveMs: 60000,
      minWarm: 2,
      maxConcurrency: 5,
      network: 'egress',
      public: true,
    });
  });

  it('lists every problem at once', () => {
    try {
      parseFunctionSettings({ runtime: 'ruby', memoryMb: '63', timeoutMs: '1.5', env: '{"1A":"x","HEARTH_X":"y","C":3}' });
      expect.unreachable();
    } catch (err) {
      const e = err as HearthError;
      expect(e.status).toBe(400);
      expect(e.code).toBe('InvalidParameter');
      const problems = e.details!.problems as string[];
      expect(problems.some((p) => p.includes('runtime'))).toBe(true);
      expect(problems.some((p) => p.includes('memoryMb'))).toBe(true);
      expect(problems.some((p) => p.includes('timeoutMs'))).toBe(true);
      expect(problems.some((p) => p.includes('"1A"'))).toBe(true);
      expect(problems.some((p) => p.includes('reserved'))).toBe(true);
      expect(problems.some((p) => p.includes('"C" must be a string'))).toBe(true);
    }
  });

  it('rejects warm-pool settings out of range, and minWarm above maxConcurrency', () => {
    for (const fields of [
      { keepAliveMs: '999' },
      { minWarm: '-1' },
      { minWarm: '1001' },
      { maxConcurrency: '0' },
      { minWarm: '3', maxConcurrency: '2' },
      { network: 'host' },
      { public: 'yes' },
    ]) {
      expect(codeOf(() => parseFunctionSettings({ runtime: 'nodejs20', ...fields }))).toBe('InvalidParameter');
    }
  });

  it('rejects handlers that are not module.export or climb out', () => {
    for (const handler of ['index', '../x.handler', 'a..b.handler', 'src.v2/index']) {
      expect(codeOf(() => parseFunctionSettings({ runtime: 'nodejs20', handler }))).toBe('InvalidParameter');
    }
  });

  // Lambda's Node runtime loads these (an absolute path, an empty property path or
  // module, an export name that is no identifier), so a deploy no longer refuses them.
  it('keeps handlers Lambda would load even where they look odd', () => {
    for (const handler of ['/var/task/abs.handler', 'index.', '.handler', 'x.1fn']) {
      expect(parseFunctionSettings({ runtime: 'nodejs20', handler }).handler).toBe(handler);
    }
  });

  it('refuses a handler whose function part is language machinery, keeps call/apply/bind', () => {
    for (const handler of ['index.constructor', 'index.__proto__', 'index.prototype', 'main.__class__', 'main.__init__', 'src/app.__x__', 'a.b.constructor']) {
      for (const runtime of ['nodejs20', 'python3']) {
        try {
          parseFunctionSettings({ runtime, handler });
          expect.unreachable(handler);
        } catch (err) {
          expect((err as HearthError).code, handler).toBe('InvalidParameter');
          expect((err as HearthError).message, handler).toContain('handler function cannot be');
        }
      }
    }
    for (const handler of ['index.call', 'index.apply', 'index.bind', 'constructor.handler', '__proto__.handler', 'index.__x', 'index._constructor', 'index.Constructor']) {
      expect(parseFunctionSettings({ runtime: 'nodejs20', handler }).handler).toBe(handler);
    }
  });

  it('the Lambda front door refuses the same handlers through the same check', async () => {
    const input = (Handler: string) => ({ FunctionName: 'x', Runtime: 'nodejs20.x', Handler, Role: 'r', Code: { ZipFile: 'UEs=' } });
    const parsed = (handler: string) => parseCreateFunction(new TextEncoder().encode(JSON.stringify(input(handler))));
    for (const handler of ['index.constructor', 'index.__proto__', 'main.__class__']) {
      const body = await parsed(handler);
      const create = () => settingsFrom(body, null);
      expect(codeOf(create), handler).toBe('InvalidParameter');
      // …which the Lambda API answers as its own 400.
      try {
        create();
      } catch (err) {
        expect(lambdaErrorOf(err)?.type, handler).toBe('InvalidParameterValueException');
      }
    }
    expect(settingsFrom(await parsed('index.bind'), null).handler).toBe('index.bind');
  });

  it('caps the environment at 4 KiB', () => {
    expect(codeOf(() => parseFunctionSettings({ runtime: 'nodejs20', env: JSON.stringify({ BIG: 'x'.repeat(5000) }) }))).toBe('InvalidParameter');
  });

  it('refuses an env key "__proto__" instead of silently dropping it, and keeps other Object.prototype names', () => {
    try {
      parseFunctionSettings({ runtime: 'nodejs20', env: '{"__proto__":"x","A":"1"}' });
      expect.unreachable();
    } catch (err) {
      expect((err as HearthError).code).toBe('InvalidParameter');
      expect((err as HearthError).message).toContain('__proto__');
    }
    const { env } = parseFunctionSettings({ runtime: 'nodejs20', env: '{"constructor":"c","toString":"t","hasOwnProperty":"h"}' });
    expect(Object.entries(env)).toEqual([['constructor', 'c'], ['toString', 't'], ['hasOwnProperty', 'h']]);
  });
});

describe('handler file check', () => {
  it('finds node files by any extension and python packages', () => {
    expect(codeOf(() => assertHandlerFileExists('nodejs20', 'index.handler', ['index.mjs']))).toBeUndefined();
    expect(codeOf(() => assertHandlerFileExists('nodejs20', 'src/app.main', ['src/app.cjs']))).toBeUndefined();
    expect(codeOf(() => assertHandlerFileExists('python3', 'pkg.handler', ['pkg/__init__.py']))).toBeUndefined();
  });
  it('says what the package holds when the file is missing', () => {
    try {
      assertHandlerFileExists('python3', 'main.handler', ['app.py']);
      expect.unreachable();
    } catch (err) {
      expect((err as HearthError).code).toBe('HandlerNotFound');
      expect((err as HearthError).message).toContain('app.py');
    }
  });
});
