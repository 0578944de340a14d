/**
 * Custom runtimes (`provided`) end to end: real bootstraps in C, Rust and
 * POSIX shell (test/fixtures/provided/, built on this machine) uploaded
 * over HTTP, run in `hearth/runtime-provided` whose agent serves them the
 * Lambda Runtime API, and called sync and async through the real gateway,
 * Redis, Postgres, worker and Docker. For each language: success, a
 * function error, a crash, a timeout, a 5 MB answer and event, the init
 * error, and logs kept to their own invocation; then archives whose
 * bootstrap cannot start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapZip, type BootstrapLanguage } from '../fixtures/provided/build-bootstraps.ts';
import { zipOf } from '../helpers/code-fixtures.ts';
import { deploy, invoke, uniqueName, type DeployFields } from '../helpers/packages.ts';
import { recordOf, startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';

const TIMEOUT_MS = 2500;
const TYPE_NAME: Record<BootstrapLanguage, string> = { c: 'C', rust: 'Rust', shell: 'Shell' };
const LANG_FIELD: Record<BootstrapLanguage, string> = { c: 'c', rust: 'rust', shell: 'sh' };

/** A sync call timed on this side, so the deadline the bootstrap saw can be checked against it. */
async function timedInvoke(platform: Platform, name: string, event: unknown) {
  const sentAt = Date.now();
  const res = await invoke(platform, name, event);
  const text = await res.text();
  return { res, text, sentAt, answeredAt: Date.now(), body: () => JSON.parse(text) };
}

/** The failure an error answer carries (502/504 `{ error }`). */
const errorOf = (text: string) => JSON.parse(text).error as { code: string; type: string; message: string };

describe('custom runtimes (provided) on the real platform', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const deployBootstrap = async (language: BootstrapLanguage, name: string, fields: Partial<DeployFields> = {}) => {
    const zip = await bootstrapZip(language);
    const res = await deploy(platform, name, { bytes: zip, filename: `${language}.zip` }, {
      runtime: 'provided',
      handler: `${language}.handler`,
      memoryMb: 256,
      timeoutMs: TIMEOUT_MS,
      env: { GREETING: `hello from ${language}` },
      ...fields,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json();
  };

  describe.each(['c', 'rust', 'shell'] as const)('%s bootstrap', (language) => {
    const name = uniqueName(`prov-${language}`);
    const lang = LANG_FIELD[language];
    const typeName = TYPE_NAME[language];

    beforeAll(async () => {
      // The C one is deployed under Lambda's name for the runtime; the answer says what it runs on.
      const deployed = await deployBootstrap(language, name, language === 'c' ? { runtime: 'provided.al2023' } : {});
      expect(deployed).toMatchObject({ name, version: 1, latest: { runtime: 'provided' } });
      if (language === 'c') expect(deployed.runtimeResolved).toMatchObject({ requested: 'provided.al2023', runtime: 'provided' });
    }, 120_000);

    it('answers sync calls with the event, _HANDLER, the task root and the env; logs stay with their call', async () => {
      const first = await timedInvoke(platform, name, { op: 'echo', n: 1 });
      expect(first.res.status, first.text).toBe(200);
      expect(first.res.headers.get('x-function-version')).toBe('1');
      const firstId = first.res.headers.get('x-invocation-id')!;
      const body = first.body();
      expect(body).toMatchObject({
        lang,
        requestId: firstId,
        env: {
          _HANDLER: `${language}.handler`,
          LAMBDA_TASK_ROOT: '/var/task',
          AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
          AWS_LAMBDA_FUNCTION_NAME: name,
          GREETING: `hello from ${language}`,
        },
        cwd: '/var/task',
        invocations: 1,
        event: { op: 'echo', n: 1 },
      });
      expect(body.arn).toContain(name);
      // The deadline is the worker's: the call's start plus timeoutMs, hence between these two.
      expect(body.deadlineMs).toBeGreaterThanOrEqual(first.sentAt + TIMEOUT_MS - 50);
      expect(body.deadlineMs).toBeLessThanOrEqual(first.answeredAt + TIMEOUT_MS + 50);

      const second = await timedInvoke(platform, name, { op: 'echo', n: 2 });
      expect(second.res.status, second.text).toBe(200);
      expect(second.res.headers.get('x-cold-start')).toBe('false');
      const secondId = second.res.headers.get('x-invocation-id')!;
      expect(second.body()).toMatchObject({ requestId: secondId, invocations: 2, event: { n: 2 } });
      // C and Rust keep their one HTTP/1.1 connection across calls.
      if (language !== 'shell') expect(second.body().connects).toBe(1);

      const [r1, r2] = [await recordOf(platform, firstId), await recordOf(platform, secondId)];
      expect(r1).toMatchObject({ status: 'succeeded', version: 1, result: { requestId: firstId } });
      expect(r1.logs).toContain(`${language}: handling ${firstId}`);
      expect(r1.logs).toContain(`${language}: stderr line for ${firstId}`);
      expect(r2).toMatchObject({ status: 'succeeded', coldStart: false, startKind: 'warm' });
      expect(r2.logs).toContain(`${language}: handling ${secondId}`);
      expect(r2.logs).toContain(`${language}: stderr line for ${secondId}`);
      expect(r2.logs).not.toContain(firstId);
      expect(r1.logs).not.toContain(secondId);
    });

    it('runs an async call to its record', async () => {
      const res = await invoke(platform, name, { op: 'echo', mode: 'async' }, '?async=true');
      expect(res.status).toBe(202);
      const { invocationId } = await res.json();
      const record = await recordOf(platform, invocationId, 20_000);
      expect(record).toMatchObject({ status: 'succeeded', mode: 'async', result: { lang, requestId: invocationId, event: { mode: 'async' } } });
      expect(record.logs).toContain(`${language}: handling ${invocationId}`);
    });

    it('reports a posted /error as FunctionError with its type and message; the container stays', async () => {
      const res = await invoke(platform, name, { op: 'error' });
      expect(res.status).toBe(502);
      const id = res.headers.get('x-invocation-id');
      const error = errorOf(await res.text());
      expect(error).toMatchObject({ code: 'FunctionError', type: `Custom.${typeName}BootstrapError`, message: `${language} bootstrap failed on purpose` });
      const record = await recordOf(platform, id);
      expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionError', type: `Custom.${typeName}BootstrapError`, message: `${language} bootstrap failed on purpose` } });
      expect(record.logs).toContain(`${language}: failing ${id} on purpose`);
      const next = await invoke(platform, name, { op: 'echo' });
      expect(next.status).toBe(200);
      expect(next.headers.get('x-cold-start')).toBe('false');
    });

    it('returns a 5 MB answer whole, and takes a 5 MB event whole', async () => {
      const res = await invoke(platform, name, { op: 'big', bytes: 5_000_000 });
      const text = await res.text();
      expect(res.status, text.slice(0, 300)).toBe(200);
      const body = JSON.parse(text);
      expect(body).toMatchObject({ lang, bytes: 5_000_000 });
      expect(body.data.length).toBe(5_000_000);
      expect(/^x+$/.test(body.data)).toBe(true);

      const echoed = await invoke(platform, name, { op: 'echo', pad: 'y'.repeat(5_000_000) });
      const echoText = await echoed.text();
      expect(echoed.status, echoText.slice(0, 300)).toBe(200);
      expect(JSON.parse(echoText).event.pad).toBe('y'.repeat(5_000_000));
    });

    it('reports an exit mid-call as FunctionCrashed; the next call gets a new container', async () => {
      const res = await invoke(platform, name, { op: 'crash' });
      expect(res.status).toBe(502);
      const id = res.headers.get('x-invocation-id');
      const error = errorOf(await res.text());
      // Lambda's words for a runtime that exits mid-call.
      expect(error).toMatchObject({ code: 'FunctionCrashed', type: 'Runtime.ExitError' });
      expect(error.message).toContain('Runtime exited with error: exit status 7');
      const record = await recordOf(platform, id);
      expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionCrashed' } });
      expect(record.logs).toContain(`${language}: crashing ${id}`);
      const next = await timedInvoke(platform, name, { op: 'echo' });
      expect(next.res.status, next.text).toBe(200);
      expect(next.res.headers.get('x-cold-start')).toBe('true');
      expect(next.body().invocations).toBe(1);
    });

    it('stops a call past timeoutMs with FunctionTimeout; the next call gets a new container', async () => {
      const t0 = Date.now();
      const res = await invoke(platform, name, { op: 'sleep', ms: TIMEOUT_MS + 5000 });
      const elapsed = Date.now() - t0;
      expect(res.status).toBe(504);
      const error = errorOf(await res.text());
      expect(error).toMatchObject({ code: 'FunctionTimeout', type: 'Runtime.Timeout' });
      expect(error.message).toContain(`${TIMEOUT_MS} ms`);
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
      const record = await recordOf(platform, res.headers.get('x-invocation-id'));
      expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionTimeout' } });
      const next = await invoke(platform, name, { op: 'echo' });
      expect(next.status).toBe(200);
      expect(next.headers.get('x-cold-start')).toBe('true');
    }, 30_000);

    it('reports a posted /init/error as the init failure other runtimes report, with the init logs', async () => {
      const failing = uniqueName(`prov-${language}-init`);
      await deployBootstrap(language, failing, { env: { BOOTSTRAP_INIT_ERROR: '1' } });
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await invoke(platform, failing, { op: 'echo' });
        expect(res.status).toBe(502);
        const error = errorOf(await res.text());
        expect(error).toMatchObject({ code: 'FunctionError', type: `Custom.${typeName}InitError`, message: `${language} init failed on purpose` });
        const record = await recordOf(platform, res.headers.get('x-invocation-id'));
        expect(record).toMatchObject({ status: 'failed', coldStart: true, error: { code: 'FunctionError', type: `Custom.${typeName}InitError` } });
        expect(record.logs).toContain(`${language}: init failing on purpose`);
      }
    });
  });

  it.each([
    ['a bootstrap without the execute bit', [{ path: 'bootstrap', data: '#!/bin/sh\nexit 0\n', mode: 0o644 }], 'Runtime.InvalidEntrypoint', 'permission denied'],
    ['an archive without a bootstrap', [{ path: 'other', data: '#!/bin/sh\nexit 0\n', mode: 0o755 }], 'Runtime.InvalidEntrypoint', "Couldn't find valid bootstrap(s): [/var/task/bootstrap]"],
    ['a bootstrap that exits before asking for work', [{ path: 'bootstrap', data: '#!/bin/sh\necho giving up >&2\nexit 3\n', mode: 0o755 }], 'Runtime.ExitError', 'Runtime exited with error: exit status 3'],
  ] as const)('reports %s as Lambda does (%s)', async (_what, files, type, message) => {
    const name = uniqueName('prov-entry');
    const res = await deploy(platform, name, { bytes: await zipOf([...files]), filename: 'function.zip' }, { runtime: 'provided' });
    expect(res.status, await res.clone().text()).toBe(201);
    const call = await invoke(platform, name, {});
    expect(call.status).toBe(502);
    const error = errorOf(await call.text());
    expect(error).toMatchObject({ code: 'FunctionError', type });
    expect(error.message).toContain(message);
    if (type === 'Runtime.ExitError') expect((await recordOf(platform, call.headers.get('x-invocation-id'))).logs).toContain('giving up');
  });

  it('reports an init failure the way it does for nodejs20 (same status, code, record shape)', async () => {
    const nodeName = uniqueName('node-init');
    const deployed = await deploy(platform, nodeName, { bytes: Buffer.from("console.log('node init'); throw new Error('node init failed');"), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect(deployed.status).toBe(201);
    const providedName = uniqueName('prov-init');
    await deployBootstrap('c', providedName, { env: { BOOTSTRAP_INIT_ERROR: '1' } });
    const shapeOf = async (res: ApiResponse) => {
      const { error } = await res.json();
      const record = await recordOf(platform, res.headers.get('x-invocation-id'));
      return {
        status: res.status,
        coldStart: res.headers.get('x-cold-start'),
        errorKeys: Object.keys(error).filter((k) => k !== 'stack').sort(),
        code: error.code,
        record: { status: record.status, code: record.error.code, coldStart: record.coldStart, hasLogs: record.logs.length > 0 },
      };
    };
    const node = await shapeOf(await invoke(platform, nodeName, {}));
    const provided = await shapeOf(await invoke(platform, providedName, {}));
    expect(node.code).toBe('FunctionError');
    expect(provided).toEqual(node);
  });
});
