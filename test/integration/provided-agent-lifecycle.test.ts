/**
 * The provided container's life around the calls: secret files at init
 * (0400, the sandbox user's, on the /run/secrets tmpfs; a clear init error
 * where there is no writable tmpfs), a pre-warmed container that says hello
 * with no code and inits once code is linked in, SIGTERM as PID 1, and a
 * shell bootstrap (busybox sh and wget from the image) running the
 * Runtime API loop of Lambda's custom runtime tutorial.
 */
import { linkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { bootstrapCode, providedSessions, writeCode } from '../helpers/provided-bootstrap-kit.ts';

const start = providedSessions();

/** The tutorial's loop, with busybox wget for curl: headers from -S on stderr, the event on stdout. */
const SHELL_BOOTSTRAP = `#!/bin/sh
set -eu
echo "shell init, handler $_HANDLER"
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(wget -q -S -O - "$API/invocation/next" 2>"$HEADERS")"
  ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  echo "handling $ID"
  printf '{"echo":%s,"via":"sh"}' "$EVENT" > /tmp/response
  wget -q -O /dev/null --post-file /tmp/response "$API/invocation/$ID/response"
  rm -f "$HEADERS"
done
`;

describe('provided agent: secrets', () => {
  it('writes each secret to /run/secrets/<name>, mode 0400, owned by the sandbox user', async () => {
    const session = await start(await bootstrapCode(), { secretsMount: 'present' });
    const init = await session.init({ handler: 'bootstrap', secrets: { 'db-password': 's3cr3t', 'api.key': 'k' } });
    expect(init, JSON.stringify(init.error)).toMatchObject({ ok: true });
    expect(await session.invoke({ op: 'secret', name: 'db-password' })).toMatchObject({ ok: true, result: { content: 's3cr3t', mode: '400', uid: 10001 } });
    expect(await session.invoke({ op: 'secret', name: 'api.key' })).toMatchObject({ ok: true, result: { content: 'k', mode: '400' } });
  });

  it('fails init saying so when /run/secrets is not writable', async () => {
    const session = await start(await bootstrapCode(), { secretsMount: 'absent' });
    const init = await session.init({ handler: 'bootstrap', secrets: { token: 'x' } });
    expect(init).toMatchObject({ ok: false, error: { type: 'Runtime.SecretFilesUnavailable' } });
    expect(init.error?.message).toContain('/run/secrets/token');
    expect(init.error?.message).toContain('writable');
  });
});

describe('provided agent: container life', () => {
  it('says hello before any code is placed (pre-warmed), and inits once the code is linked in', async () => {
    const codeDir = await writeCode({});
    const session = await start({ codeDir });
    expect(session.hello.runtime).toBe('provided');
    // As the worker's CodeLinker does: hard links into the mounted (empty) task directory.
    const unpacked = await writeCode(await bootstrapCode());
    linkSync(join(unpacked, 'bootstrap'), join(codeDir, 'bootstrap'));
    await rm(unpacked, { recursive: true });
    expect(await session.init({ handler: 'bootstrap' })).toMatchObject({ ok: true });
    expect(await session.invoke({ op: 'echo' })).toMatchObject({ ok: true, result: { event: { op: 'echo' } } });
  });

  it('stops promptly on SIGTERM although the agent is PID 1', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    await session.container.stop({ t: 10 });
    expect((await session.exit()).exitCode).toBe(143);
  });

  it('exits when the worker closes the socket', async () => {
    const session = await start(await bootstrapCode());
    await session.init({ handler: 'bootstrap' });
    session.disconnect();
    expect((await session.exit()).exitCode).toBe(0);
  });

  it('runs a shell bootstrap with busybox sh and wget', async () => {
    const session = await start({ bootstrap: { data: SHELL_BOOTSTRAP, mode: 0o755 } });
    const init = await session.init({ handler: 'function.handler' });
    expect(init, JSON.stringify(init)).toMatchObject({ ok: true, logs: 'shell init, handler function.handler\n' });
    for (const id of ['sh-1', 'sh-2']) {
      expect(await session.invoke({ n: id }, { id })).toMatchObject({ ok: true, result: { echo: { n: id }, via: 'sh' }, logs: `handling ${id}\n` });
    }
  });
});
