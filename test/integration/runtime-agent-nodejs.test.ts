/**
 * The nodejs20 agent in its real image, under the worker's exact container
 * settings: handler loading (CommonJS, ES modules, bundled packages), the
 * Lambda-style context, errors, log capture and truncation, init failures,
 * and how it ends.
 * Each case starts its own container (one function per container, as in
 * production), with this test acting as the worker's side of the protocol;
 * all carry `io.hearth.test=agent` and are removed afterwards. Larger
 * functions live in `test/fixtures/functions/<runtime>/<case>`.
 */
import { describe, expect, it } from 'vitest';
import { LOG_CAP_BYTES } from '../../worker/sandbox/agent-protocol.ts';
import { agentCases, LOG_MARKER } from '../helpers/agent-cases.ts';
import { fixture } from '../helpers/agent-harness.ts';
import { sleep } from '../helpers/wait.ts';

const { deploy, ready } = agentCases();

describe('nodejs20 agent', () => {
  it('says hello, loads a CommonJS handler and serves repeated invocations', async () => {
    const { session, initResult } = await deploy(
      'nodejs20',
      { 'index.js': `exports.handler = async (event) => ({ echo: event, cjs: typeof require === 'function' });` },
      { handler: 'index.handler' },
    );
    expect(session.hello).toEqual({ type: 'hello', runtime: 'nodejs20', agentVersion: 1 });
    expect(initResult).toMatchObject({ type: 'initResult', ok: true, logs: '', logsTruncated: false });
    expect(initResult.durationMs).toBeGreaterThan(0);

    const first = await session.invoke({ n: 1 }, { id: 'first' });
    expect(first).toMatchObject({ type: 'invokeResult', id: 'first', ok: true, result: { echo: { n: 1 }, cjs: true } });
    const second = await session.invoke([1, 'two'], { id: 'second' });
    expect(second).toMatchObject({ id: 'second', ok: true, result: { echo: [1, 'two'], cjs: true } });
  });

  it('finds a handler exported through module.exports and returns undefined as null', async () => {
    const session = await ready('nodejs20', { 'lib.cjs': `module.exports = { run() { /* returns undefined */ } };` }, 'lib.run');
    expect(await session.invoke({})).toMatchObject({ ok: true, result: null });
  });

  it('loads an ES module from a .mjs file', async () => {
    const session = await ready(
      'nodejs20',
      { 'app.mjs': `export const handler = async () => ({ esm: typeof require === 'undefined', url: import.meta.url });` },
      'app.handler',
    );
    expect(await session.invoke({})).toMatchObject({ ok: true, result: { esm: true, url: 'file:///var/task/app.mjs' } });
  });

  it('loads a .js file as an ES module when package.json says "type": "module"', async () => {
    const session = await ready(
      'nodejs20',
      {
        'package.json': JSON.stringify({ type: 'module' }),
        'index.js': `const top = await Promise.resolve('awaited at top level');\nexport async function handler() { return { esm: typeof require === 'undefined', top }; }`,
        'index.mjs': `export const handler = () => 'the .js file comes first';`,
      },
      'index.handler',
    );
    expect(await session.invoke({})).toMatchObject({ ok: true, result: { esm: true, top: 'awaited at top level' } });
  });

  it('waits for the callback of a callback-style handler, including the legacy context methods', async () => {
    const session = await ready('nodejs20', await fixture('nodejs20/callbacks'), 'index.handler');
    expect(await session.invoke({ mode: 'later' })).toMatchObject({ ok: true, result: { late: true } });
    expect(await session.invoke({ mode: 'error' })).toMatchObject({ ok: false, error: { type: 'TypeError', message: 'bad input' } });
    expect(await session.invoke({ mode: 'string-error' })).toMatchObject({
      ok: false,
      error: { type: 'string', message: 'plain failure' },
    });
    expect(await session.invoke({ mode: 'succeed' })).toMatchObject({ ok: true, result: { legacy: 'succeed' } });
    expect(await session.invoke({ mode: 'fail' })).toMatchObject({ ok: false, error: { type: 'RangeError', message: 'legacy fail' } });
    expect(await session.invoke({ mode: 'done' })).toMatchObject({ ok: true, result: 'done!' });
  });

  it('takes the first outcome when an async handler also calls the callback', async () => {
    const session = await ready(
      'nodejs20',
      { 'index.js': `exports.handler = async (event, context, callback) => { callback(null, 'from callback'); return 'from promise'; };` },
      'index.handler',
    );
    expect(await session.invoke({})).toMatchObject({ ok: true, result: 'from callback' });
  });

  it('resolves a nested handler path and node_modules bundled with the function', async () => {
    const session = await ready(
      'nodejs20',
      {
        'src/app.js': `const { greet } = require('greeter');\nexports.handler = async (event) => ({ text: greet(event.name) });`,
        'node_modules/greeter/package.json': JSON.stringify({ name: 'greeter', main: 'lib/index.js' }),
        'node_modules/greeter/lib/index.js': `exports.greet = (name) => 'hello ' + name;`,
      },
      'src/app.handler',
    );
    expect(await session.invoke({ name: 'ada' })).toMatchObject({ ok: true, result: { text: 'hello ada' } });
  });

  it('resolves bundled ESM-only and CommonJS packages from an ES module', async () => {
    const session = await ready(
      'nodejs20',
      {
        'index.mjs': `import { greet } from 'greeter';\nimport { shout } from 'shout';\nexport const handler = async (e) => shout(greet(e.name));`,
        'node_modules/greeter/package.json': JSON.stringify({ name: 'greeter' }),
        'node_modules/greeter/index.js': `exports.greet = (name) => 'hello ' + name;`,
        'node_modules/shout/package.json': JSON.stringify({ name: 'shout', type: 'module', exports: './shout.js' }),
        'node_modules/shout/shout.js': `export const shout = (s) => s.toUpperCase() + '!';`,
      },
      'index.handler',
    );
    expect(await session.invoke({ name: 'ada' })).toMatchObject({ ok: true, result: 'HELLO ADA!' });
  });

  it('passes a Lambda-style context and applies the function environment', async () => {
    const session = await ready('nodejs20', await fixture('nodejs20/context'), 'index.handler', {
      functionName: 'ctx-fn',
      functionVersion: '7',
      memoryLimitInMB: 256,
      env: { GREETING: 'hi', AWS_LAMBDA_FUNCTION_NAME: 'spoofed' },
    });
    const reply = await session.invoke({}, { id: 'req-123', deadlineMs: Date.now() + 3000 });
    expect(reply.ok).toBe(true);
    const result = reply.result as Record<string, any>;
    expect(result.fields).toMatchObject({
      functionName: 'ctx-fn',
      functionVersion: '7',
      invokedFunctionArn: 'arn:hearth:lambda:local:000000000000:function:ctx-fn:7',
      memoryLimitInMB: '256',
      awsRequestId: 'req-123',
      invocationId: 'req-123',
      logGroupName: '/hearth/ctx-fn',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(result.fields.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[7\]\S+$/);
    expect(result.remaining).toBeGreaterThan(2000);
    expect(result.remaining).toBeLessThanOrEqual(3000);
    expect(result.legacy).toEqual(['function', 'function', 'function']);
    expect(result.cwd).toBe('/var/task');
    // NODE_OPTIONS=--max-old-space-size=128 from the container env took effect.
    expect(result.heapLimitMb).toBeLessThan(200);
    expect(result.env).toEqual({
      GREETING: 'hi',
      AWS_LAMBDA_FUNCTION_NAME: 'ctx-fn',
      AWS_LAMBDA_FUNCTION_VERSION: '7',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      LAMBDA_TASK_ROOT: '/var/task',
      _HANDLER: 'index.handler',
      HEARTH_FUNCTION_NAME: 'ctx-fn',
      HOME: '/tmp',
      LANG: 'C.UTF-8',
      PATH: '/usr/local/bin:/usr/bin:/bin',
    });

    const late = await session.invoke({}, { deadlineMs: Date.now() - 1000 });
    expect((late.result as { remaining: number }).remaining).toBe(0);
  });

  it('reports a thrown error with its class name, message and stack', async () => {
    const session = await ready('nodejs20', await fixture('nodejs20/errors'), 'index.handler');
    const custom = await session.invoke({ mode: 'custom' });
    expect(custom).toMatchObject({ ok: false, error: { type: 'ValidationError', message: 'missing id' } });
    expect(custom.error?.stack).toContain('/var/task/index.js');
    expect(await session.invoke({ mode: 'named' })).toMatchObject({ ok: false, error: { type: 'PaymentError', message: 'card declined' } });
    const typeError = await session.invoke({ mode: 'type' });
    expect(typeError).toMatchObject({ ok: false, error: { type: 'TypeError' } });
    expect(typeError.error?.message).toContain('field');
    expect(await session.invoke({ mode: 'string' })).toMatchObject({ ok: false, error: { type: 'string', message: 'plain string' } });
    expect(await session.invoke({})).toMatchObject({ ok: true, result: 'fine' });
  });

  it('reports a result that cannot be serialised as Runtime.MarshalError and keeps serving', async () => {
    const session = await ready('nodejs20', await fixture('nodejs20/errors'), 'index.handler');
    expect(await session.invoke({ mode: 'bigint' })).toMatchObject({ ok: false, error: { type: 'Runtime.MarshalError' } });
    expect(await session.invoke({ mode: 'circular' })).toMatchObject({ ok: false, error: { type: 'Runtime.MarshalError' } });
    expect(await session.invoke({})).toMatchObject({ ok: true, result: 'fine' });
  });

  it('captures console and stdout/stderr output: load-time output in init, then per invocation', async () => {
    const { session, initResult } = await deploy('nodejs20', await fixture('nodejs20/logs'), { handler: 'index.handler' });
    expect(initResult).toMatchObject({ ok: true, logs: 'loading\n', logsTruncated: false });
    const first = await session.invoke({ mode: 'every-stream', n: 1, late: true });
    expect(first).toMatchObject({ ok: true, logs: 'one 1\ntwo\nthree\nfour\nhéllo ✓\n', logsTruncated: false });
    await sleep(100);
    // Output after the reply belongs to no invocation; it leads the next one's logs.
    const second = await session.invoke({ mode: 'every-stream', n: 2 });
    expect(second.logs).toBe('after the response\none 2\ntwo\nthree\nfour\nhéllo ✓\n');
  });

  it('truncates logs beyond LOG_CAP_BYTES with a marker, without splitting characters', async () => {
    const session = await ready('nodejs20', await fixture('nodejs20/logs'), 'index.handler');
    const ascii = await session.invoke({ mode: 'ascii' });
    expect(ascii.logsTruncated).toBe(true);
    expect(Buffer.byteLength(ascii.logs)).toBeLessThanOrEqual(LOG_CAP_BYTES);
    const dropped = Number(LOG_MARKER.exec(ascii.logs)?.[1]);
    const kept = Buffer.byteLength(ascii.logs.replace(LOG_MARKER, '').replace(/\n$/, ''));
    expect(kept + dropped).toBe(100_000);

    const euro = await session.invoke({ mode: 'euro' });
    expect(euro.logsTruncated).toBe(true);
    expect(euro.logs).not.toContain('\uFFFD');
    expect(euro.logs).toMatch(/^€+\n\[hearth\] log truncated: \d+ bytes dropped\n$/);

    expect(await session.invoke({ mode: 'every-stream', n: 3 })).toMatchObject({ logsTruncated: false });
  });

  it.each([
    ['a missing file', { 'index.js': 'exports.handler = async () => 1;' }, 'nope.handler', 'Runtime.ImportModuleError', /nope/],
    ['a missing function', { 'index.js': 'exports.other = async () => 1;' }, 'index.handler', 'Runtime.HandlerNotFound', /index\.handler/],
    ['a handler that is not a function', { 'index.js': 'exports.handler = 42;' }, 'index.handler', 'Runtime.HandlerNotFound', /index\.handler/],
    ['a syntax error', { 'index.js': 'exports.handler = async () => {' }, 'index.handler', 'Runtime.UserCodeSyntaxError', /SyntaxError/],
    ['a failing require', { 'index.js': `require('not-installed');` }, 'index.handler', 'Runtime.ImportModuleError', /not-installed/],
    // As on Lambda, an error the module throws reports its own type (it was Runtime.ImportModuleError here before).
    ['a throwing module', { 'index.mjs': `throw new Error('config missing');` }, 'index.handler', 'Error', /^config missing$/],
  ] as const)('fails init on %s and stays connected', async (_case, files, handler, type, message) => {
    const { session, initResult } = await deploy('nodejs20', files, { handler });
    expect(initResult).toMatchObject({ ok: false, error: { type } });
    expect(initResult.error?.message).toMatch(message);
    const stillConnected = await Promise.race([session.closed.then(() => false), sleep(200).then(() => true)]);
    expect(stillConnected).toBe(true);
  });

  it('fails the invocation on an unhandled rejection, then exits', async () => {
    const session = await ready(
      'nodejs20',
      {
        'index.js': `
          exports.handler = async () => {
            Promise.reject(new Error('forgotten promise'));
            await new Promise((resolve) => setTimeout(resolve, 200));
            return 'unreachable';
          };`,
      },
      'index.handler',
    );
    const reply = await session.invoke({});
    expect(reply).toMatchObject({ ok: false, error: { type: 'Runtime.UnhandledPromiseRejection' } });
    expect(reply.error?.message).toContain('forgotten promise');
    await session.closed;
    expect((await session.exit()).exitCode).toBe(1);
  });

  it('fails the invocation on an uncaught exception, then exits', async () => {
    const session = await ready(
      'nodejs20',
      {
        'index.js': `
          exports.handler = () => new Promise(() => {
            setTimeout(() => { throw new RangeError('timer blew up'); }, 5);
          });`,
      },
      'index.handler',
    );
    expect(await session.invoke({})).toMatchObject({ ok: false, error: { type: 'RangeError', message: 'timer blew up' } });
    await session.closed;
    expect((await session.exit()).exitCode).toBe(1);
  });

  it('exits with code 0 when the worker closes the socket, even mid-invocation', async () => {
    const session = await ready('nodejs20', { 'index.js': `exports.handler = () => new Promise(() => {});` }, 'index.handler');
    void session.invoke({}).catch(() => {});
    await sleep(50);
    session.disconnect();
    expect(await session.exit()).toEqual({ exitCode: 0, oomKilled: false });
  });
});
