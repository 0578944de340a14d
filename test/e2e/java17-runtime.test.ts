/**
 * A Java function through the real platform, as a user deploys one: the
 * code compiled here with javac against Hearth's lambda-core jar, zipped
 * (classes at the root, lib/greeter.jar), uploaded over HTTP with
 * `runtime=java17`, invoked sync (cold, then warm), its record and logs
 * read back; a thrown exception answers 502 with Lambda's Java error shape.
 * Prints the cold and warm latencies it saw (never asserted).
 */
import { readFile } from 'node:fs/promises';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRuntimeImages } from '../../runtime-images/build-images.ts';
import { buildJavaFunctionZip } from '../fixtures/java17/java-functions.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

describe('the java17 runtime on a real platform', () => {
  let platform: Platform;
  let zip: Buffer;
  let cleanup: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const [outcome] = await ensureRuntimeImages(new Dockerode(), { only: ['java17'] });
    expect(outcome, 'the java17 image must build on this machine').toMatchObject({ tag: 'hearth/runtime-java17:latest' });
    const built = await buildJavaFunctionZip();
    cleanup = built.cleanup;
    zip = await readFile(built.zipPath);
    platform = await startPlatform();
  }, 300_000);
  afterAll(async () => {
    await platform?.stop();
    await cleanup();
  });

  it('deploys a zip built with javac, runs it cold then warm, and records result and logs', async () => {
    const name = uniqueName('java-orders');
    const deployed = await deploy(platform, name, { bytes: zip, filename: 'function.zip' }, {
      runtime: 'java17',
      handler: 'example.MapHandler',
      memoryMb: 128,
      timeoutMs: 10_000,
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    expect((await deployed.json()).latest).toMatchObject({ runtime: 'java17', handler: 'example.MapHandler', memoryMb: 128 });

    const started = performance.now();
    const cold = await invoke(platform, name, { name: 'Ada', int: 1, float: 0.5 });
    const coldMs = performance.now() - started;
    expect(cold.status, await cold.clone().text()).toBe(200);
    expect(cold.headers.get('x-cold-start')).toBe('true');
    const body = await cold.json();
    expect(body).toMatchObject({
      greeting: 'Hello, Ada!',
      numberTypes: ['Integer', 'Double'],
      functionName: name,
      requestId: cold.headers.get('x-invocation-id'),
      memory: 128,
      remainingPositive: true,
    });

    const warmMs: number[] = [];
    let lastId: string | null = null;
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const warm = await invoke(platform, name, { name: `Bo${i}`, int: i, float: 1.5 });
      warmMs.push(performance.now() - t);
      expect(warm.status).toBe(200);
      expect(warm.headers.get('x-cold-start')).toBe('false');
      lastId = warm.headers.get('x-invocation-id');
    }
    warmMs.sort((a, b) => a - b);

    const record = await recordOf(platform, lastId);
    expect(record).toMatchObject({ status: 'succeeded', coldStart: false, mode: 'sync', version: 1 });
    expect(record.result.greeting).toBe('Hello, Bo9!');
    expect(record.logs).toBe('got Bo9\non stderr\nvia LambdaLogger\n');
    const logs = await (await platform.api(`/v1/invocations/${lastId}/logs`)).json();
    expect(logs.logs).toContain('via LambdaLogger');

    const coldRecord = await recordOf(platform, cold.headers.get('x-invocation-id'));
    expect(coldRecord).toMatchObject({ status: 'succeeded', coldStart: true });
    console.log(
      `java17 through the platform: cold ${coldMs.toFixed(0)} ms (record timings ${JSON.stringify(coldRecord.timings)}), ` +
        `warm median ${warmMs[5]!.toFixed(1)} ms, min ${warmMs[0]!.toFixed(1)} ms`,
    );
  });

  it('answers a thrown exception with 502 FunctionError, the exception class as type, and the Java stack', async () => {
    const name = uniqueName('java-fail');
    const deployed = await deploy(platform, name, { bytes: zip, filename: 'function.zip' }, {
      runtime: 'java17',
      handler: 'example.Functions::fail',
      timeoutMs: 10_000,
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const res = await invoke(platform, name, { id: 'o-7' });
    expect(res.status).toBe(502);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: 'FunctionError', type: 'java.lang.IllegalStateException', message: 'order o-7 is not valid' });
    expect(error.stack).toContain('at example.Functions.fail(Functions.java:');
    const record = await recordOf(platform, res.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'failed', error: { type: 'java.lang.IllegalStateException' } });
  });

  it('fails the first call of a function whose class is missing with Lambda\'s ClassNotFoundException', async () => {
    const name = uniqueName('java-missing');
    const deployed = await deploy(platform, name, { bytes: zip, filename: 'function.zip' }, {
      runtime: 'java17',
      handler: 'example.Nowhere::handleRequest',
      timeoutMs: 10_000,
    });
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const res = await invoke(platform, name, {});
    expect(res.status).toBe(502);
    expect((await res.json()).error).toMatchObject({ code: 'FunctionError', type: 'java.lang.ClassNotFoundException', message: 'Class not found: example.Nowhere' });
  });
});
