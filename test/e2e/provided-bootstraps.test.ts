/**
 * The custom-runtime bootstraps of test/fixtures/provided/, built for real
 * on this machine and run against a stand-in of the Lambda Runtime API
 * (test/helpers/runtime-api-stand-in.ts): what each one sends, before the
 * platform is involved. When a `provided` e2e test fails, this file says
 * whether the bootstrap or the agent is at fault. No Docker.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildBootstrap, type BootstrapLanguage } from '../fixtures/provided/build-bootstraps.ts';
import { hostShellUsable } from '../fixtures/provided/host-shell.ts';
import { waitFor } from '../helpers/wait.ts';
import { startRuntimeApiStandIn, type RuntimeApiStandIn, type StandInInvocation, type StandInOutcome } from '../helpers/runtime-api-stand-in.ts';

/** The shell bootstrap runs twice: under this machine's sh and wget, and under busybox's (the image's pair). */
const VARIANTS: { name: string; language: BootstrapLanguage; busybox?: true }[] = [
  { name: 'c', language: 'c' },
  { name: 'rust', language: 'rust' },
  { name: 'shell', language: 'shell' },
  { name: 'shell under busybox', language: 'shell', busybox: true },
];

const BUSYBOX = '/bin/busybox';
const exists = (path: string) => stat(path).then(() => true, () => false);

const json = (o: StandInOutcome) => {
  if (o.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(o)}`);
  return JSON.parse(o.body.toString());
};

describe.each(VARIANTS)('the $name bootstrap against a Runtime API stand-in', ({ language, busybox }) => {
  let taskRoot: string;
  let executable: string;
  /** Whether this machine can run the variant at all (a shell needs wget, busybox needs /bin/busybox). */
  let runnable = true;
  const started: RuntimeApiStandIn[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const api = await startRuntimeApiStandIn({ executable, cwd: taskRoot, handler: `${language}.handler`, env: { GREETING: 'hi', ...env } });
    started.push(api);
    return api;
  };

  beforeAll(async () => {
    taskRoot = await mkdtemp(join(tmpdir(), 'hearth-provided-'));
    executable = (await buildBootstrap(language)).path;
    if (language === 'shell') runnable = busybox ? await exists(BUSYBOX) : await hostShellUsable();
    if (busybox && runnable) {
      // `#!/bin/sh` is this machine's shell; the wrapper runs the script under busybox's ash, whose wget is its applet.
      const wrapper = join(taskRoot, 'busybox-bootstrap');
      await writeFile(wrapper, `#!${BUSYBOX} sh\nexec ${BUSYBOX} sh ${executable}\n`, { mode: 0o755 });
      executable = wrapper;
    }
  }, 120_000);
  afterEach(async () => {
    await Promise.all(started.splice(0).map((api) => api.close()));
  });
  afterAll(async () => {
    await rm(taskRoot, { recursive: true, force: true });
  });

  it('echoes the event, _HANDLER, the env and the request headers, over one connection', async (ctx) => {
    if (!runnable) ctx.skip();
    const api = await start();
    const calls: { call: StandInInvocation; body: Record<string, unknown> & { arn: string; traceId: string } }[] = [];
    for (let i = 0; i < 3; i++) {
      const call = api.invoke({ op: 'echo', n: i, text: 'a "quoted" é' });
      calls.push({ call, body: json(await call.outcome) });
    }
    for (const [i, { call, body }] of calls.entries()) {
      expect(body).toMatchObject({
        requestId: call.requestId,
        deadlineMs: call.deadlineMs,
        env: { _HANDLER: `${language}.handler`, LAMBDA_TASK_ROOT: taskRoot, GREETING: 'hi', AWS_LAMBDA_RUNTIME_API: api.address },
        cwd: taskRoot,
        invocations: i + 1,
        event: { op: 'echo', n: i, text: 'a "quoted" é' },
      });
      expect(body.arn).toContain('function:stand-in');
      expect(body.traceId).toMatch(/^Root=/);
    }
    // The child's pipes are read on their own: the output may trail the answer a little.
    await waitFor('the last call in the output', () => api.output().includes(calls[2]!.call.requestId), 5000, 10);
    // C and Rust keep one HTTP/1.1 connection; the shell's client opens one per request.
    if (language !== 'shell') expect(api.connections()).toBe(1);
  });

  it('posts /error with its type, exits on crash, and returns a 5 MB body whole', async (ctx) => {
    if (!runnable) ctx.skip();
    const api = await start();
    const failed = await api.invoke({ op: 'error' }).outcome;
    expect(failed.kind).toBe('error');
    if (failed.kind !== 'error') return;
    const typeName = { c: 'C', rust: 'Rust', shell: 'Shell' }[language];
    expect(failed.errorType).toBe(`Custom.${typeName}BootstrapError`);
    expect(JSON.parse(failed.body.toString())).toMatchObject({ errorType: `Custom.${typeName}BootstrapError`, errorMessage: `${language} bootstrap failed on purpose` });

    const big = json(await api.invoke({ op: 'big', bytes: 5_000_000 }).outcome);
    expect(big.bytes).toBe(5_000_000);
    expect(big.data.length).toBe(5_000_000);
    expect(/^x+$/.test(big.data)).toBe(true);

    const slept = api.invoke({ op: 'sleep', ms: 300 });
    expect(json(await slept.outcome).requestId).toBe(slept.requestId);

    const crash = await api.invoke({ op: 'crash' }).outcome;
    expect(crash).toMatchObject({ kind: 'exit', code: 7 });
  }, 60_000);

  it('posts /init/error and exits when BOOTSTRAP_INIT_ERROR is set', async (ctx) => {
    if (!runnable) ctx.skip();
    const api = await start({ BOOTSTRAP_INIT_ERROR: '1' });
    const typeName = { c: 'C', rust: 'Rust', shell: 'Shell' }[language];
    const init = await api.initError;
    expect(init.errorType).toBe(`Custom.${typeName}InitError`);
    expect(JSON.parse(init.body.toString())).toMatchObject({ errorType: `Custom.${typeName}InitError`, errorMessage: `${language} init failed on purpose` });
    expect(api.requests).not.toContain('GET /2018-06-01/runtime/invocation/next');
  });
});
