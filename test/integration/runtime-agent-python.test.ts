/**
 * The python3 agent in its real image, under the worker's exact container
 * settings: handler loading and bundled packages, the Lambda-style context in
 * both spellings, errors and results it cannot serialise, log capture and
 * truncation, init failures, and how it ends.
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

describe('python3 agent', () => {
  it('says hello, loads a handler and serves repeated invocations', async () => {
    const { session, initResult } = await deploy(
      'python3',
      { 'main.py': 'def handler(event, context):\n    return {"echo": event}\n' },
      { handler: 'main.handler' },
    );
    expect(session.hello).toEqual({ type: 'hello', runtime: 'python3', agentVersion: 1 });
    expect(initResult).toMatchObject({ type: 'initResult', ok: true, logs: '', logsTruncated: false });
    expect(await session.invoke({ n: 1 }, { id: 'a' })).toMatchObject({ id: 'a', ok: true, result: { echo: { n: 1 } } });
    expect(await session.invoke('two', { id: 'b' })).toMatchObject({ id: 'b', ok: true, result: { echo: 'two' } });
  });

  it('imports packages bundled in the archive root, from a nested handler module', async () => {
    const session = await ready(
      'python3',
      {
        'src/app.py': 'import mylib\n\ndef handler(event, context):\n    return mylib.shout(event["name"])\n',
        'mylib/__init__.py': 'from .helpers import shout\n',
        'mylib/helpers.py': 'def shout(text):\n    return text.upper() + "!"\n',
      },
      'src/app.handler',
    );
    expect(await session.invoke({ name: 'ada' })).toMatchObject({ ok: true, result: 'ADA!' });
  });

  it('passes a Lambda-style context in both spellings and applies the function environment', async () => {
    const session = await ready('python3', await fixture('python3/context'), 'main.handler', {
      functionName: 'py-fn',
      functionVersion: '3',
      memoryLimitInMB: 512,
      env: { GREETING: 'hi', HEARTH_FUNCTION_NAME: 'spoofed' },
    });
    const reply = await session.invoke({}, { id: 'req-9', deadlineMs: Date.now() + 3000 });
    expect(reply.ok).toBe(true);
    const result = reply.result as Record<string, any>;
    expect(result.fields).toMatchObject({
      function_name: 'py-fn',
      function_version: '3',
      invoked_function_arn: 'arn:hearth:lambda:local:000000000000:function:py-fn:3',
      memory_limit_in_mb: '512',
      aws_request_id: 'req-9',
      invocation_id: 'req-9',
      log_group_name: '/hearth/py-fn',
      functionName: 'py-fn',
      functionVersion: '3',
      awsRequestId: 'req-9',
      invocationId: 'req-9',
      memoryLimitInMB: '512',
    });
    expect(result.fields.log_stream_name).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[3\]\S+$/);
    expect(result.remaining).toBeGreaterThan(2000);
    expect(result.remaining).toBeLessThanOrEqual(3000);
    expect(result.remainingCamel).toBeGreaterThan(2000);
    expect(result.cwd).toBe('/var/task');
    expect(result.env).toEqual({
      GREETING: 'hi',
      AWS_LAMBDA_FUNCTION_NAME: 'py-fn',
      AWS_LAMBDA_FUNCTION_VERSION: '3',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      LAMBDA_TASK_ROOT: '/var/task',
      _HANDLER: 'main.handler',
      HEARTH_FUNCTION_NAME: 'py-fn',
      HOME: '/tmp',
    });
  });

  it('reports an exception with its class name, message and a traceback of the function frames', async () => {
    const session = await ready('python3', await fixture('python3/errors'), 'main.handler');
    const reply = await session.invoke({});
    expect(reply).toMatchObject({ ok: false, error: { type: 'ValueError', message: 'bad value' } });
    const stack = reply.error?.stack ?? '';
    expect(stack).toContain('Traceback (most recent call last)');
    expect(stack).toContain('File "/var/task/main.py"');
    expect(stack).toContain('in check');
    expect(stack).not.toContain('/opt/hearth');
    expect(await session.invoke({ mode: 'custom' })).toMatchObject({ ok: false, error: { type: 'OrderError', message: 'no such order' } });
  });

  it('serialises Decimal and reports unserialisable results as Runtime.MarshalError', async () => {
    const session = await ready('python3', await fixture('python3/results'), 'main.handler');
    expect(await session.invoke({ mode: 'decimal' })).toMatchObject({ ok: true, result: { price: 9.99, count: 3 } });
    expect(await session.invoke({ mode: 'set' })).toMatchObject({ ok: false, error: { type: 'Runtime.MarshalError' } });
    expect(await session.invoke({ mode: 'nan' })).toMatchObject({ ok: false, error: { type: 'Runtime.MarshalError' } });
    expect(await session.invoke({})).toMatchObject({ ok: true, result: null });
  });

  it('captures print, sys.stdout/stderr and logging output', async () => {
    const { session, initResult } = await deploy('python3', await fixture('python3/logs'), { handler: 'main.handler' });
    expect(initResult).toMatchObject({ ok: true, logs: 'loading\n' });
    const reply = await session.invoke({ n: 1 });
    expect(reply).toMatchObject({ ok: true, logs: 'one 1\nINFO two\nthree\nfour\nWARNING five\nhéllo ✓\n', logsTruncated: false });
  });

  it('truncates logs beyond LOG_CAP_BYTES with a marker', async () => {
    const session = await ready('python3', await fixture('python3/logs'), 'main.handler');
    const reply = await session.invoke({ mode: 'flood' });
    expect(reply.logsTruncated).toBe(true);
    expect(Buffer.byteLength(reply.logs)).toBeLessThanOrEqual(LOG_CAP_BYTES);
    const dropped = Number(LOG_MARKER.exec(reply.logs)?.[1]);
    const kept = Buffer.byteLength(reply.logs.replace(LOG_MARKER, '').replace(/\n$/, ''));
    expect(kept + dropped).toBe(100_000);
  });

  it.each([
    ['a missing module', { 'main.py': 'def handler(e, c):\n    return 1\n' }, 'nope.handler', 'Runtime.ImportModuleError', /nope/],
    ['a missing function', { 'main.py': 'def other(e, c):\n    return 1\n' }, 'main.handler', 'Runtime.HandlerNotFound', /handler/],
    ['a syntax error', { 'main.py': 'def handler(e, c)\n    return 1\n' }, 'main.handler', 'Runtime.UserCodeSyntaxError', /main/],
    ['a failing import', { 'main.py': 'import not_installed\n' }, 'main.handler', 'Runtime.ImportModuleError', /not_installed/],
  ] as const)('fails init on %s and stays connected', async (_case, files, handler, type, message) => {
    const { session, initResult } = await deploy('python3', files, { handler });
    expect(initResult).toMatchObject({ ok: false, error: { type } });
    expect(initResult.error?.message).toMatch(message);
    const stillConnected = await Promise.race([session.closed.then(() => false), sleep(200).then(() => true)]);
    expect(stillConnected).toBe(true);
  });

  it('reports sys.exit() in a handler as Runtime.ExitError, then exits', async () => {
    const session = await ready('python3', { 'main.py': 'import sys\n\ndef handler(e, c):\n    print("bye")\n    sys.exit(3)\n' }, 'main.handler');
    expect(await session.invoke({})).toMatchObject({ ok: false, error: { type: 'Runtime.ExitError' }, logs: 'bye\n' });
    await session.closed;
    expect((await session.exit()).exitCode).toBe(1);
  });

  it('exits with code 0 when the worker closes the socket, even mid-invocation', async () => {
    const session = await ready('python3', { 'main.py': 'import time\n\ndef handler(e, c):\n    time.sleep(30)\n' }, 'main.handler');
    void session.invoke({}).catch(() => {});
    await sleep(50);
    session.disconnect();
    expect(await session.exit()).toEqual({ exitCode: 0, oomKilled: false });
  });
});
