/**
 * The provided runtime's agent (runtime-images/provided/agent, Rust) in the
 * real `hearth/runtime-provided` image with the worker's container settings,
 * driven by this test as the worker's side of the agent protocol, and a C
 * bootstrap (test/fixtures/provided-test-bootstrap.c, `gcc -static`) as the
 * function: the Lambda Runtime API as a custom runtime sees it.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapCode, providedSessions, testBootstrap } from '../helpers/provided-bootstrap-kit.ts';

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

describe('provided agent: the image', () => {
  it("runs a dynamically linked bootstrap on the image's own C library and loader", async () => {
    const session = await start({ bootstrap: { data: await testBootstrap('dynamic'), mode: 0o755 } });
    const init = await session.init({ handler: 'bootstrap' });
    expect(init, init.logs).toMatchObject({ ok: true });
    expect(await session.invoke({ op: 'echo' })).toMatchObject({ ok: true, result: { event: { op: 'echo' } } });
  });
});

describe('provided agent: what the bootstrap answers', () => {
  it('keeps one keep-alive connection across calls, and each call gets the output written since the last', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    const first = await session.invoke({ op: 'echo' }, { id: 'a-1' });
    const big = await session.invoke({ op: 'big', bytes: 7 * 1024 * 1024 }, { id: 'a-2' });
    const third = await session.invoke({ op: 'echo' }, { id: 'a-3' });
    expect(first).toMatchObject({ ok: true, logs: 'log for a-1\n' });
    expect((first.result as { connects: number }).connects).toBe(1);
    expect(big).toMatchObject({ ok: false, error: { type: 'Runtime.ResponseSizeTooLarge' } });
    expect(big.error?.message).toContain('6291456');
    // Printed after its POST was answered: the next call's output. The 413 is Lambda's.
    expect(third.logs).toBe(
      'big response answered 413 {"errorMessage":"Exceeded maximum allowed payload size (6291456 bytes).","errorType":"RequestEntityTooLarge"}\nanswer status 413\nlog for a-3\n',
    );
    expect(third).toMatchObject({ ok: true, result: { connects: 1 } });
  });

  it('takes a 5 MB response whole', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    const reply = await session.invoke({ op: 'big', bytes: 5 * 1024 * 1024 });
    expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
    expect(typeof reply.result).toBe('string');
    expect((reply.result as string).length).toBe(5 * 1024 * 1024 - 2);
    expect(/^x+$/.test(reply.result as string)).toBe(true);
  });

  it('reads chunked bodies, keeps a body that is not JSON as a string and an empty one as null', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    expect(await session.invoke({ op: 'chunked' })).toMatchObject({ ok: true, result: { chunked: true } });
    expect(await session.invoke({ op: 'text' })).toMatchObject({ ok: true, result: 'hello, not json' });
    const empty = await session.invoke({ op: 'empty' });
    expect(empty.ok).toBe(true);
    expect(empty.result ?? null).toBeNull();
  });

  it('takes exactly what JSON.parse takes as JSON, at any depth, and anything else as a string', async () => {
    const valid = [' {"a" : [1, -0.5e+10, 0, 1E3, true, false, null], "b": "\\u00e9\\ud83d\\ude00\\/\\n"}\n', '"just a string"', '-0', '[]', '{}'];
    const invalid = ['01', '1.', '[1,]', '{"a":1,}', "'x'", 'NaN', '"\\x"', '{"a" 1}', '[1] [2]', '"tab\there"', '\u00ff'];
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const files = Object.fromEntries(
      [...valid, ...invalid, deep].map((text, i) => [`body-${i}.json`, { data: Buffer.from(text, 'latin1'), mode: 0o644 }]),
    );
    const session = await start({ ...(await bootstrapCode()), ...files });
    await session.init({ handler: 'bootstrap' });
    for (const [i, text] of valid.entries()) {
      expect(await session.invoke({ op: 'file', file: `body-${i}.json` }), text).toMatchObject({ ok: true, result: JSON.parse(text) });
    }
    for (const [j, text] of invalid.entries()) {
      const reply = await session.invoke({ op: 'file', file: `body-${valid.length + j}.json` });
      expect(reply, text).toMatchObject({ ok: true, result: text === '\u00ff' ? '\ufffd' : text });
    }
    const deepReply = await session.invoke({ op: 'file', file: `body-${valid.length + invalid.length}.json` });
    expect(deepReply.ok).toBe(true);
    expect(Array.isArray(deepReply.result)).toBe(true);
  });

  it('reports a posted error with the header type, the message and the stack trace', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    const reply = await session.invoke({ op: 'fail' }, { id: 'f-1' });
    expect(reply).toMatchObject({ ok: false, id: 'f-1', logs: 'log for f-1\n', error: { type: 'MyError', message: 'boom', stack: 'at one\nat two' } });
    expect(reply.fatal).toBeUndefined();
    expect(await session.invoke({ op: 'echo' })).toMatchObject({ ok: true });
  });

  it("answers Lambda's errors: another call's id is 400 InvalidRequestID, an unknown path 404", async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    expect(await session.invoke({ op: 'badid' })).toMatchObject({
      ok: true,
      result: { status: 400, body: { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' } },
    });
    const notFound = await session.invoke({ op: 'notfound' });
    expect(notFound).toMatchObject({ ok: true, result: { status: 404, body: { errorType: 'NotFound' } } });
  });

  it('caps a call\'s output at 64 KiB with the truncation line', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    const reply = await session.invoke({ op: 'spam', bytes: 200_000 });
    expect(reply).toMatchObject({ ok: true, logsTruncated: true });
    expect(Buffer.byteLength(reply.logs)).toBeLessThanOrEqual(64 * 1024);
    expect(reply.logs).toMatch(/\n\[hearth\] log truncated: \d+ bytes dropped\n$/);
    expect(await session.invoke({ op: 'echo' })).toMatchObject({ logsTruncated: false });
  });
});
