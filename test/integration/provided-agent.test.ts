/**
 * The provided runtime's agent (runtime-images/provided/agent, Rust) in the
 * real `hearth/runtime-provided` image with the worker's container settings,
 * driven by this test as the worker's side of the agent protocol, and a C
 * bootstrap (test/fixtures/provided-test-bootstrap.c, `gcc -static`) as the
 * function: the Lambda Runtime API as a custom runtime sees it.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapCode, providedSessions } from '../helpers/provided-bootstrap-kit.ts';

const start = providedSessions();

describe('provided agent: init and calls', () => {
  it('says hello as the provided runtime, then inits when the bootstrap first asks for work', async () => {
    const session = await start(await bootstrapCode());
    expect(session.hello).toEqual({ type: 'hello', runtime: 'provided', agentVersion: 1 });
    const init = await session.init({ handler: 'my.handler', env: { CUSTOM: 'from-env', HEARTH_AGENT_SOCKET: 'x' } });
    expect(init).toMatchObject({ type: 'initResult', ok: true, logsTruncated: false });
    expect(init.logs).toContain('init stdout line\n');
    expect(init.logs).toContain('init stderr line\n');
  });

  it('passes the event as it is, with Lambda headers and environment, and takes the response as the result', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'my.handler', functionName: 'fn-a', functionVersion: '3', memoryLimitInMB: 256, env: { CUSTOM: 'from-env' } });
    const deadlineMs = Date.now() + 7000;
    const reply = await session.invokeRaw('{"op":"echo", "n": [1, 2.50, {"x": "\\u00e9"}]}', { id: 'req-1', deadlineMs });
    expect(reply).toMatchObject({ type: 'invokeResult', id: 'req-1', ok: true, logs: 'log for req-1\n', logsTruncated: false });
    const result = reply.result as Record<string, unknown>;
    expect(result).toMatchObject({
      event: { op: 'echo', n: [1, 2.5, { x: 'é' }] },
      id: 'req-1',
      deadline: String(deadlineMs),
      arn: 'arn:aws:lambda:local:000000000000:function:fn-a',
      contentType: 'application/json',
      handler: 'my.handler',
      api: '127.0.0.1:9001',
      taskRoot: '/var/task',
      name: 'fn-a',
      version: '3',
      memory: '256',
      home: '/tmp',
      lang: 'C.UTF-8',
      custom: 'from-env',
      socket: '',
      uid: 10001,
    });
    expect(result.trace).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });
});
