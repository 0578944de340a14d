/**
 * How the provided agent reports a bootstrap that fails: an init error it
 * posts, an exit before it asks for work, no program to run, an exit in the
 * middle of a call (fatal: the agent exits too, so the worker records
 * FunctionCrashed and never reuses the container), and a call that never
 * ends (nothing is answered; the worker's deadline kills the container).
 * Real image, the worker's container settings, the C test bootstrap.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapCode, providedSessions, testBootstrap } from '../helpers/provided-bootstrap-kit.ts';

const start = providedSessions();

describe('provided agent: init failures', () => {
  it('reports a posted init error (the header type over the body one) as fatal, then exits', async () => {
    const session = await start(await bootstrapCode());
    const init = await session.init({ handler: 'bootstrap', env: { INIT_MODE: 'error' } });
    expect(init).toMatchObject({
      ok: false,
      fatal: true,
      error: { type: 'Custom.InitFailed', message: 'config missing', stack: 'at init' },
    });
    expect(init.logs).toContain('init stdout line\n');
    expect((await session.exit()).exitCode).toBe(1);
  });

  it('reports a bootstrap that exits before asking for work as Runtime.ExitError', async () => {
    const session = await start(await bootstrapCode());
    const init = await session.init({ handler: 'bootstrap', env: { INIT_MODE: 'exit' } });
    expect(init).toMatchObject({ ok: false, fatal: true, error: { type: 'Runtime.ExitError', message: 'Runtime exited with error: exit status 3' } });
    expect(init.logs).toContain('init stderr line\n');
  });

  it('reports Runtime.InvalidEntrypoint when there is no bootstrap or it is not executable', async () => {
    const missing = await start({ 'README.txt': { data: 'no program here', mode: 0o644 } });
    expect(await missing.init({ handler: 'bootstrap' })).toMatchObject({
      ok: false,
      error: { type: 'Runtime.InvalidEntrypoint', message: "Couldn't find valid bootstrap(s): [/var/task/bootstrap]" },
    });
    const plain = await start({ bootstrap: { data: await testBootstrap(), mode: 0o644 } });
    expect(await plain.init({ handler: 'bootstrap' })).toMatchObject({
      ok: false,
      error: { type: 'Runtime.InvalidEntrypoint', message: 'fork/exec /var/task/bootstrap: permission denied' },
    });
    const escape = await start({ 'x.txt': { data: '', mode: 0o644 } });
    expect(await escape.init({ handler: '../../bin/sh' })).toMatchObject({ ok: false, error: { type: 'Runtime.InvalidEntrypoint' } });
  });

  it('runs the executable the handler names when there is no bootstrap', async () => {
    const session = await start({ 'bin/my-runtime': { data: await testBootstrap(), mode: 0o755 } });
    expect(await session.init({ handler: 'bin/my-runtime' })).toMatchObject({ ok: true });
    expect(await session.invoke({ op: 'echo' })).toMatchObject({ ok: true, result: { handler: 'bin/my-runtime' } });
  });
});

describe('provided agent: calls that do not end well', () => {
  it('reports a bootstrap that exits mid-call as a fatal Runtime.ExitError with its output, then exits', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    const reply = await session.invoke({ op: 'exit' }, { id: 'crash-1' });
    expect(reply).toMatchObject({
      ok: false,
      fatal: true,
      id: 'crash-1',
      error: { type: 'Runtime.ExitError', message: 'RequestId: crash-1 Error: Runtime exited with error: exit status 7' },
      logs: 'log for crash-1\nexiting mid-call\n',
    });
    await session.closed;
    expect((await session.exit()).exitCode).toBe(1);
  });

  it('ends with 137 and no reply when the bootstrap runs out of memory, as the other runtimes do', async () => {
    const session = await start(await bootstrapCode(), { memoryMb: 64 });
    await session.init({ handler: 'bootstrap' });
    await expect(session.invoke({ op: 'hog' })).rejects.toThrow(/closed/);
    expect((await session.exit()).exitCode).toBe(137);
  });

  it('hands a call out again when the connection it went out on breaks before the event was written', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    expect(await session.invoke({ op: 'peek' })).toMatchObject({ ok: true, result: 'peeking' });
    // 12 MB: far more than loopback buffers hold while the peeking connection reads only 64 bytes.
    const event = { op: 'size', pad: 'p'.repeat(12 * 1024 * 1024) };
    const reply = await session.invoke(event, { id: 'again-1' });
    expect(reply, JSON.stringify(reply.error)).toMatchObject({ ok: true, result: { size: JSON.stringify(event).length, id: 'again-1' } });
    expect(reply.logs).toMatch(/^peeked 64 bytes: HTTP\/1\.1 200/);
  });

  it('answers nothing for a call that never ends, and keeps the container until the worker kills it', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    const pending = session.invoke({ op: 'hang' }, { deadlineMs: Date.now() + 500 });
    const settled = await Promise.race([pending.then(() => 'answered', () => 'closed'), new Promise((r) => setTimeout(() => r('quiet'), 1500))]);
    expect(settled).toBe('quiet');
    expect((await session.container.inspect()).State.Running).toBe(true);
    await session.container.kill();
    await expect(pending).rejects.toThrow(/closed/);
  });
});
