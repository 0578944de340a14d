/**
 * The java17 agent in a real container (the worker's own container runtime,
 * so the worker's isolation settings): Lambda's handler kinds, errors as
 * Lambda's Java runtime reports them, logs, System.exit, env and secrets,
 * and a 128 MB memory limit. The function is compiled here with javac
 * against Hearth's lambda-core jar (test/fixtures/java17).
 */
import { rm } from 'node:fs/promises';
import Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureRuntimeImages } from '../../runtime-images/build-images.ts';
import { removeAgentContainers, startAgent, type AgentSession } from '../helpers/agent-harness.ts';
import { buildJavaFunction } from '../fixtures/java17/java-functions.ts';
import type { InitMessage } from '../../worker/sandbox/agent-protocol.ts';

const docker = new Dockerode();
let codeDir: string;
const sessions: AgentSession[] = [];

beforeAll(async () => {
  const [outcome] = await ensureRuntimeImages(docker, { only: ['java17'] });
  expect(outcome, 'the java17 image must build on this machine').toMatchObject({ tag: 'hearth/runtime-java17:latest' });
  codeDir = await buildJavaFunction();
}, 300_000);
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await removeAgentContainers(docker);
  if (codeDir) await rm(codeDir, { recursive: true, force: true });
});

async function deploy(handler: string, init: Partial<InitMessage> = {}, memoryMb = 128) {
  const session = await startAgent(docker, { runtime: 'java17', codeDir, memoryMb });
  sessions.push(session);
  const initResult = await session.init({ handler, memoryLimitInMB: memoryMb, ...init });
  return { session, initResult };
}

async function ready(handler: string, init: Partial<InitMessage> = {}, memoryMb = 128) {
  const { session, initResult } = await deploy(handler, init, memoryMb);
  expect(initResult, JSON.stringify(initResult.error)).toMatchObject({ ok: true });
  return session;
}

describe('java17 agent', () => {
  it('says hello as java17, then runs a RequestHandler<Map, Map> with context, logs and a class from lib/*.jar', async () => {
    const session = await ready('example.MapHandler', { functionName: 'orders', functionVersion: '7' });
    expect(session.hello).toEqual({ type: 'hello', runtime: 'java17', agentVersion: 1 });
    const reply = await session.invoke({ name: 'Ada', int: 3, float: 2.5, nested: { list: [1, 'two', null, true] } }, { id: 'inv-map-1' });
    expect(reply).toMatchObject({ type: 'invokeResult', id: 'inv-map-1', ok: true, logsTruncated: false });
    expect(reply.result).toEqual({
      greeting: 'Hello, Ada!',
      event: { name: 'Ada', int: 3, float: 2.5, nested: { list: [1, 'two', null, true] } },
      numberTypes: ['Integer', 'Double'],
      functionName: 'orders',
      requestId: 'inv-map-1',
      memory: 128,
      remainingPositive: true,
      arn: 'arn:hearth:lambda:local:000000000000:function:orders:7',
    });
    expect(reply.logs).toBe('got Ada\non stderr\nvia LambdaLogger\n');
    // A second call on the same JVM: logs are per invocation.
    const again = await session.invoke({ name: 'Bo', int: 1, float: 1.5 });
    expect(again).toMatchObject({ ok: true, logs: 'got Bo\non stderr\nvia LambdaLogger\n' });
  });

  it('reads a POJO event through setters and public fields, and writes a POJO result without its null properties', async () => {
    const session = await ready('example.PojoHandler');
    const reply = await session.invoke({
      id: 'o-1', price: 2.5, speed: 'EXPRESS', unknownField: 'ignored',
      items: [{ sku: 'a', quantity: 2 }, { sku: 'b', quantity: 3 }], counters: { x: 4, y: 5 },
    });
    expect(reply, JSON.stringify(reply.error)).toMatchObject({ ok: true });
    expect(reply.result).toEqual({ counterSum: 9, express: true, orderId: 'o-1', total: 12.5, units: 5 });
    const mismatch = await session.invoke({ id: 'o-2', items: 'not-a-list-of-objects' });
    expect(mismatch).toMatchObject({ ok: false, error: { type: 'java.lang.RuntimeException' } });
    expect(mismatch.error?.message).toMatch(/^An error occurred during JSON parsing: cannot read a string as example.PojoHandler\$Item at \$\.items\[0\]/);
  });

  it('hands a RequestStreamHandler the event bytes as sent, and keeps JSON output as is (other text becomes a string)', async () => {
    const session = await ready('example.StreamHandler');
    const raw = await session.invokeRaw('{"b": 1.50, "a":[ 1e3 ]}');
    expect(raw).toMatchObject({ ok: true, result: { raw: { b: 1.5, a: [1000] }, rawLength: 24 } });
    const text = await session.invoke({ plain: true });
    expect(text).toMatchObject({ ok: true, result: 'not json at all' });
  });

  it('calls plain methods: static (String, Context), an instance method (Integer), () and (InputStream, OutputStream, Context)', async () => {
    expect(await (await ready('example.Functions::shout')).invoke('quiet')).toMatchObject({ ok: true, result: 'QUIET!' });
    expect(await (await ready('example.Functions::square')).invoke(12)).toMatchObject({ ok: true, result: 144 });
    expect(await (await ready('example.Functions::describe')).invoke({ ignored: true })).toMatchObject({ ok: true, result: 'instance:describe' });
    expect(await (await ready('example.Functions::copy')).invoke({ copied: [1, 2] })).toMatchObject({ ok: true, result: { copied: [1, 2] } });
  });

  it('reports a thrown exception as Lambda does: class name, message, stack with the cause and without the agent', async () => {
    const session = await ready('example.Functions::fail');
    const reply = await session.invoke({ id: 'o-9' });
    expect(reply).toMatchObject({ ok: false, error: { type: 'java.lang.IllegalStateException', message: 'order o-9 is not valid' } });
    expect(reply.fatal).toBeUndefined();
    const stack = reply.error?.stack ?? '';
    expect(stack).toMatch(/^java\.lang\.IllegalStateException: order o-9 is not valid\n\tat example\.Functions\.fail\(Functions\.java:\d+\)/);
    expect(stack).toContain('Caused by: java.lang.IllegalArgumentException: quantity < 0');
    expect(stack).not.toContain('io.hearth.agent');
    // The container keeps serving after a thrown error.
    expect(await session.invoke({ id: 'o-10' })).toMatchObject({ ok: false, error: { message: 'order o-10 is not valid' } });
  });

  it('fails init with Lambda\'s types for a missing class, a missing method, a class that is no handler, and broken init code', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['example.Missing::handleRequest', 'java.lang.ClassNotFoundException', /^Class not found: example\.Missing$/],
      ['example.Missing', 'java.lang.ClassNotFoundException', /^Class not found: example\.Missing$/],
      ['example.Functions::nope', 'Runtime.HandlerNotFound', /^No public method named nope with appropriate method signature found on class example\.Functions$/],
      ['example.NotAHandler', 'Runtime.HandlerNotFound', /^Class does not implement an appropriate handler interface: example\.NotAHandler$/],
      ['example.NotAHandler::handle', 'Runtime.HandlerNotFound', /^No public method named handle/],
      ['example.BrokenInit', 'java.lang.ExceptionInInitializerError', /^Error loading class example\.BrokenInit/],
      ['example.ThrowingConstructor', 'java.lang.UnsupportedOperationException', /^cannot construct$/],
      ['::handleRequest', 'Runtime.MalformedHandlerName', /^Invalid handler/],
    ];
    const results = await Promise.all(cases.map(async ([handler]) => (await deploy(handler)).initResult));
    for (const [i, [handler, type, message]] of cases.entries()) {
      expect(results[i], handler).toMatchObject({ type: 'initResult', ok: false, error: { type } });
      expect(results[i]!.error?.message, handler).toMatch(message);
    }
    expect(results[5]!.error?.stack).toContain('Caused by: java.lang.IllegalStateException: config missing');
    expect(results[6]!.logs).toBe('constructing\n');
  });

  it('answers System.exit in a handler with a fatal Runtime.ExitError carrying its logs, then the process exits', async () => {
    const session = await ready('example.Functions::exit');
    const reply = await session.invoke({});
    expect(reply).toMatchObject({ ok: false, fatal: true, error: { type: 'Runtime.ExitError' }, logs: 'about to exit\n' });
    expect((await session.exit()).exitCode).toBe(3);
  });

  it('applies env before the code loads (static initialisers see it) and writes secret files 0400 when the worker mounts their tmpfs', async () => {
    const secrets = { 'db-password': 's3cr3t' };
    const { session, initResult } = await deploy('example.Functions::env', { env: { GREETING: 'hej', AWS_LAMBDA_FUNCTION_NAME: 'spoofed' }, secrets });
    const mounted = Object.keys((await session.container.inspect()).HostConfig.Tmpfs ?? {}).includes('/run/secrets');
    if (!mounted) {
      // Without the worker's tmpfs the root is read-only: init says so rather than running without the secret.
      expect(initResult).toMatchObject({ ok: false, error: { type: 'Runtime.SecretsError' } });
      const plain = await ready('example.Functions::env', { env: { GREETING: 'hej', AWS_LAMBDA_FUNCTION_NAME: 'spoofed' }, functionName: 'envfn' });
      expect((await plain.invoke({})).result).toEqual({ GREETING: 'hej', AWS_LAMBDA_FUNCTION_NAME: 'envfn', fromStatic: 'hej', secretExists: false });
      return;
    }
    expect(initResult).toMatchObject({ ok: true });
    expect((await session.invoke({})).result).toEqual({
      GREETING: 'hej', AWS_LAMBDA_FUNCTION_NAME: 'test-fn', fromStatic: 'hej', secretExists: true, secret: 's3cr3t', secretMode: '[OWNER_READ]',
    });
  });

  it('runs in 128 MB: ~90 MB of heap, 64 MB of it allocated and kept, within the pids limit', async () => {
    const session = await ready('example.Functions::allocate', {}, 128);
    const reply = await session.invoke({ mb: 64 });
    expect(reply, JSON.stringify(reply.error)).toMatchObject({ ok: true, result: { allocatedMb: 64 } });
    const result = reply.result as { maxHeapMb: number; osThreads: number; processors: number };
    expect(result.maxHeapMb).toBeGreaterThan(80);
    expect(result.maxHeapMb).toBeLessThan(100);
    // PidsLimit is 64: the JVM must leave the function most of it.
    expect(result.osThreads).toBeLessThan(24);
    console.log(`java17 at 128 MB: hello ${session.helloMs.toFixed(0)} ms, heap ${result.maxHeapMb} MB, ${result.osThreads} OS threads, ${result.processors} CPU(s)`);
    // Past the limit: the heap cannot hold it; the agent reports the OutOfMemoryError, then exits.
    const tooMuch = await session.invoke({ mb: 200 });
    expect(tooMuch).toMatchObject({ ok: false, fatal: true, error: { type: 'java.lang.OutOfMemoryError' } });
  });
});
