/**
 * The runtime agents against a function that tries to misuse them (issue 9,
 * item 14): handler names that reach inherited members instead of exports,
 * events and results nested too deep for a recursive JSON codec, and
 * processes the function forks or spawns. Each case runs the real image under
 * the worker's container settings, with this test as the worker's side of
 * the protocol (see helpers/agent-harness.ts), and checks that the container
 * still serves the next call.
 */
import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { agentSessions, type AgentSession, type CodeFiles } from '../helpers/agent-harness.ts';

const docker = new Dockerode();
const start = agentSessions(docker);

function deploy(runtime: RuntimeName, files: CodeFiles, handler: string) {
  return start(runtime, files, { handler });
}

async function ready(runtime: RuntimeName, files: CodeFiles, handler: string) {
  const { session, initResult } = await deploy(runtime, files, handler);
  expect(initResult, JSON.stringify(initResult.error)).toMatchObject({ ok: true });
  return session;
}

/** Waits until `docker logs` of the session's container shows `text` (Docker copies output asynchronously). */
async function waitForContainerLog(session: AgentSession, text: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const logs = await session.container.logs({ stdout: true, stderr: true, follow: false });
    if (logs.toString('utf8').includes(text)) return;
    if (Date.now() > until) throw new Error(`container log never showed ${JSON.stringify(text)}; it holds:\n${logs.toString('utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('handler names resolve only to the function’s own exports', () => {
  const NODE_CJS = { 'index.js': 'exports.handler = async () => "real";\n' };
  const NODE_FN = { 'index.js': 'module.exports = async function main() { return "main"; };\n' };
  it.each([
    ['constructor', NODE_CJS],
    ['toString', NODE_CJS],
    ['hasOwnProperty', NODE_CJS],
    ['__proto__', NODE_CJS],
    ['__defineGetter__', NODE_CJS],
    ['call', NODE_FN],
    ['bind', NODE_FN],
  ])('nodejs20: index.%s is Runtime.HandlerNotFound', async (name, files) => {
    const { initResult } = await deploy('nodejs20', files, `index.${name}`);
    expect(initResult).toMatchObject({ ok: false, error: { type: 'Runtime.HandlerNotFound' } });
  });

  it('nodejs20: own exports still resolve (named, module.exports, default, an own property of module.exports)', async () => {
    const esm = await ready('nodejs20', { 'app.mjs': 'export default async () => "dflt";\nexport const named = async () => "named";\n' }, 'app.default');
    expect(await esm.invoke({})).toMatchObject({ ok: true, result: 'dflt' });
    const own = await ready(
      'nodejs20',
      { 'index.js': 'const main = async () => "main";\nmain.extra = async () => "extra";\nmodule.exports = main;\n' },
      'index.extra',
    );
    expect(await own.invoke({})).toMatchObject({ ok: true, result: 'extra' });
  });

  const PY = { 'main.py': 'from helpers import imported\n\ndef handler(event, context):\n    return "real"\n', 'helpers.py': 'def imported(e, c):\n    return "imported"\n' };
  it.each(['__class__', '__init__', '__setattr__', '__getattribute__', '__loader__', '__builtins__', '__dict__'])(
    'python3: main.%s is Runtime.HandlerNotFound',
    async (name) => {
      const { initResult } = await deploy('python3', PY, `main.${name}`);
      expect(initResult).toMatchObject({ ok: false, error: { type: 'Runtime.HandlerNotFound' } });
    },
  );

  it('python3: a function the module imports is still a handler', async () => {
    const session = await ready('python3', PY, 'main.imported');
    expect(await session.invoke({})).toMatchObject({ ok: true, result: 'imported' });
  });
});

describe('deeply nested events and results', () => {
  it('python3: an event too deep to decode is Runtime.UnmarshalError, the handler never runs, and the container keeps serving', async () => {
    const session = await ready('python3', { 'main.py': 'def handler(event, context):\n    print("handler ran")\n    return "fine"\n' }, 'main.handler');
    for (const [id, json] of [
      ['deep-array', nested(3000)],
      ['deep-object', nestedObject(3000)],
      ['very-deep', nested(100_000)],
      ['six-megabytes', nested(3_000_000)],
    ] as const) {
      const reply = await session.invokeRaw(json, { id });
      expect(reply).toMatchObject({ type: 'invokeResult', id, ok: false, error: { type: 'Runtime.UnmarshalError' } });
      expect(reply.logs).not.toContain('handler ran');
    }
    // The worker writes the event last; another field order is read as well.
    const reordered = `{"type":"invoke","event":${nestedObject(3000)},"id":"reordered","deadlineMs":${Date.now() + 10_000}}`;
    expect(await session.request(reordered)).toMatchObject({ id: 'reordered', ok: false, error: { type: 'Runtime.UnmarshalError' } });
    // Deep, but within what the agent decodes: the handler gets it.
    expect(await session.invokeRaw(nested(500), { id: 'ok-depth' })).toMatchObject({ id: 'ok-depth', ok: true, result: 'fine' });
    // Around the decoder's own limit (the frame is one level deeper than its event): each depth is
    // either decoded or an UnmarshalError, and never ends the agent.
    for (let depth = 975; depth <= 1005; depth++) {
      const reply = await session.invokeRaw(nested(depth), { id: `edge-${depth}` });
      expect(reply.ok ? reply.result : reply.error?.type).toMatch(/^(fine|Runtime\.UnmarshalError)$/);
    }
    expect(await session.invoke({}, { id: 'after' })).toMatchObject({ id: 'after', ok: true, result: 'fine' });
  });

  it('python3: a result too deep to encode is Runtime.MarshalError, and the container keeps serving', async () => {
    const code = [
      'def handler(event, context):',
      '    value = 1',
      '    for _ in range(event["depth"]):',
      '        value = {"a": value} if event.get("dict") else [value]',
      '    if event.get("raise"):',
      '        raise ValueError(value)',
      '    return value',
      '',
    ].join('\n');
    const session = await ready('python3', { 'main.py': code }, 'main.handler');
    expect(await session.invoke({ depth: 3000 })).toMatchObject({ ok: false, error: { type: 'Runtime.MarshalError' } });
    expect(await session.invoke({ depth: 100_000, dict: true })).toMatchObject({ ok: false, error: { type: 'Runtime.MarshalError' } });
    // An exception whose message is a deep structure still reports.
    expect(await session.invoke({ depth: 100_000, raise: true })).toMatchObject({ ok: false, error: { type: 'ValueError' } });
    expect(await session.invoke({ depth: 2 }, { id: 'after' })).toMatchObject({ id: 'after', ok: true, result: [[1]] });
  });

  it('python3: a deep result holding lone surrogates is sent \\u-escaped', async () => {
    const code = [
      'def handler(event, context):',
      '    value = b"\\xff".decode("utf-8", "surrogateescape")',
      '    for _ in range(900):',
      '        value = [value]',
      '    return value',
      '',
    ].join('\n');
    const session = await ready('python3', { 'main.py': code }, 'main.handler');
    const reply = await session.invoke({});
    expect(reply).toMatchObject({ ok: true });
    let value = reply.result;
    for (let i = 0; i < 900; i++) value = (value as unknown[])[0];
    expect(value).toBe('\udcff');
  });

  it('nodejs20: a 100,000-deep event reaches the handler; a result too deep to encode is Runtime.MarshalError', async () => {
    const code = [
      'exports.handler = async (event) => {',
      '  let depth = 0;',
      '  for (let v = event; Array.isArray(v) && v.length > 0; v = v[0]) depth++;',
      '  return depth;',
      '};',
      'exports.echo = async (event) => event;',
      '',
    ].join('\n');
    const session = await ready('nodejs20', { 'index.js': code }, 'index.handler');
    const deepWithLeaf = '['.repeat(100_000) + '[]' + ']'.repeat(100_000);
    expect(await session.invokeRaw(deepWithLeaf, { id: 'deep' })).toMatchObject({ id: 'deep', ok: true, result: 100_000 });
    expect(await session.invokeRaw(nestedObject(100_000), { id: 'deep-object' })).toMatchObject({ id: 'deep-object', ok: true, result: 0 });

    const echo = await ready('nodejs20', { 'index.js': code }, 'index.echo');
    expect(await echo.invokeRaw(nested(100_000), { id: 'echo' })).toMatchObject({ id: 'echo', ok: false, error: { type: 'Runtime.MarshalError' } });
    expect(await echo.invoke([1], { id: 'after' })).toMatchObject({ id: 'after', ok: true, result: [1] });
  });
});

describe('thrown values that resist inspection', () => {
  it('nodejs20: a Proxy whose traps throw, or a revoked one, is still reported and the container keeps serving', async () => {
    const code = [
      'exports.handler = async (event) => {',
      '  const trap = () => { throw new Error("trap"); };',
      '  if (event.mode === "traps") throw new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap });',
      '  if (event.mode === "revoked") { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy; }',
      '  return "fine";',
      '};',
      '',
    ].join('\n');
    const session = await ready('nodejs20', { 'index.js': code }, 'index.handler');
    expect(await session.invoke({ mode: 'traps' })).toMatchObject({ ok: false, error: { type: 'Error' } });
    const revoked = await session.invoke({ mode: 'revoked' });
    expect(revoked).toMatchObject({ ok: false });
    expect(revoked.fatal).toBeUndefined();
    expect(await session.invoke({}, { id: 'after' })).toMatchObject({ id: 'after', ok: true, result: 'fine' });
  });

  it('python3: an exception whose class name, str() and notes raise is still reported and the container keeps serving', async () => {
    const code = [
      'class Meta(type):',
      '    @property',
      '    def __name__(cls):',
      '        raise RuntimeError("no name")',
      '',
      'class Nasty(Exception, metaclass=Meta):',
      '    def __str__(self):',
      '        raise SystemExit(5)',
      '',
      'def handler(event, context):',
      '    if event.get("nasty"):',
      '        err = Nasty()',
      '        err.__notes__ = 5',
      '        raise err',
      '    return "fine"',
      '',
    ].join('\n');
    const session = await ready('python3', { 'main.py': code }, 'main.handler');
    const reply = await session.invoke({ nasty: true });
    expect(reply).toMatchObject({ ok: false, error: { type: 'Exception' } });
    expect(reply.fatal).toBeUndefined();
    expect(await session.invoke({}, { id: 'after' })).toMatchObject({ id: 'after', ok: true, result: 'fine' });
  });
});

describe('processes the function starts', () => {
  /** Socket fds of this process, as `socket:[inode]`; the agent's connection is one of them. */
  const PY_SOCKETS = [
    'def agent_sockets():',
    '    found = []',
    '    for fd in os.listdir("/proc/self/fd"):',
    '        try:',
    '            target = os.readlink("/proc/self/fd/" + fd)',
    '        except OSError:',
    '            continue',
    '        if target.startswith("socket:"):',
    '            found.append(target)',
    '    return sorted(found)',
  ].join('\n');

  const PY_FORK = [
    'import json, os, subprocess, sys',
    'state = {}',
    PY_SOCKETS,
    '',
    'def read_all(fd):',
    '    data = b""',
    '    while True:',
    '        chunk = os.read(fd, 65536)',
    '        if not chunk:',
    '            os.close(fd)',
    '            return data',
    '        data += chunk',
    '',
    'def handler(event, context):',
    '    if event["step"] == "fork":',
    '        go_r, go_w = os.pipe()',
    '        info_r, info_w = os.pipe()',
    '        pid = os.fork()',
    '        if pid == 0:',
    '            os.close(go_w)',
    '            os.close(info_r)',
    '            os.write(info_w, json.dumps(agent_sockets()).encode())',
    '            os.close(info_w)',
    '            os.read(go_r, 1)  # outlive the call it was forked in',
    '            print("child says bye")',
    '            how = event["how"]',
    '            if how == "exit0":',
    '                sys.exit(0)',
    '            if how == "exit3":',
    '                sys.exit(3)',
    '            if how == "raise":',
    '                raise RuntimeError("child failed")',
    '            return {"from": "child"}',
    '        os.close(go_r)',
    '        os.close(info_w)',
    '        child = json.loads(read_all(info_r))',
    '        state.update(pid=pid, go=go_w)',
    '        return {"from": "parent", "parentSockets": agent_sockets(), "childSockets": child}',
    '    if event["step"] == "join":',
    '        os.write(state["go"], b"x")',
    '        _, status = os.waitpid(state["pid"], 0)',
    '        return {"from": "parent", "childExit": os.waitstatus_to_exitcode(status)}',
    '    if event["step"] == "spawn":',
    '        script = "import os\\n" + ' + JSON.stringify(PY_SOCKETS) + ' + "\\nprint(__import__(\\"json\\").dumps(agent_sockets()))"',
    '        out = subprocess.run([sys.executable, "-c", script], capture_output=True, close_fds=False, check=True)',
    '        return {"parentSockets": agent_sockets(), "childSockets": json.loads(out.stdout)}',
    '    return "pong"',
    '',
  ].join('\n');

  it.each([
    ['exit0', 0],
    ['exit3', 3],
    ['raise', 1],
    ['return', 0],
  ])('python3: a forked child that ends by %s is not the agent: it holds no agent socket and sends nothing', async (how, code) => {
    const session = await ready('python3', { 'main.py': PY_FORK }, 'main.handler');
    const forked = await session.invoke({ step: 'fork', how }, { id: 'fork' });
    expect(forked, JSON.stringify(forked)).toMatchObject({ id: 'fork', ok: true, result: { from: 'parent' } });
    const { parentSockets, childSockets } = forked.result as { parentSockets: string[]; childSockets: string[] };
    expect(parentSockets.length).toBeGreaterThan(0);
    expect(childSockets.filter((s) => parentSockets.includes(s))).toEqual([]);

    // The child ends while the next call runs; the parent waits for it.
    const joined = await session.invoke({ step: 'join' }, { id: 'join' });
    expect(joined, JSON.stringify(joined)).toMatchObject({ id: 'join', ok: true, result: { from: 'parent', childExit: code } });
    expect(joined.logs).not.toContain('child says bye');
    expect(await session.invoke({ step: 'ping' }, { id: 'ping' })).toMatchObject({ id: 'ping', ok: true, result: 'pong' });
    // The child's output belongs to no call: it goes to the container's stderr.
    await waitForContainerLog(session, how === 'raise' ? 'RuntimeError: child failed' : 'child says bye');
  });

  it('python3: a subprocess started with close_fds=False inherits no agent socket', async () => {
    const session = await ready('python3', { 'main.py': PY_FORK }, 'main.handler');
    const spawned = await session.invoke({ step: 'spawn' });
    expect(spawned, JSON.stringify(spawned)).toMatchObject({ ok: true });
    const { parentSockets, childSockets } = spawned.result as { parentSockets: string[]; childSockets: string[] };
    expect(parentSockets.length).toBeGreaterThan(0);
    expect(childSockets.filter((s) => parentSockets.includes(s))).toEqual([]);
  });

  it('nodejs20: spawned and forked children inherit no agent socket', async () => {
    const sockets = `() => require('node:fs').readdirSync('/proc/self/fd').map((fd) => { try { return require('node:fs').readlinkSync('/proc/self/fd/' + fd); } catch { return ''; } }).filter((t) => t.startsWith('socket:')).sort()`;
    const code = [
      `const { spawnSync, fork } = require('node:child_process');`,
      `const sockets = ${sockets};`,
      `exports.handler = async () => {`,
      `  const parentSockets = sockets();`,
      `  const spawned = spawnSync(process.execPath, ['-e', 'console.log(JSON.stringify((' + ${JSON.stringify(sockets)} + ')()))'], { encoding: 'utf8' });`,
      `  const child = fork('/var/task/child.js', [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });`,
      `  const forkedSockets = await new Promise((resolve) => child.once('message', resolve));`,
      `  await new Promise((resolve) => child.once('exit', resolve));`,
      `  return { parentSockets, spawnedSockets: JSON.parse(spawned.stdout), forkedSockets };`,
      `};`,
      '',
    ].join('\n');
    const child = `process.send((${sockets})(), () => process.exit(0));\n`;
    const session = await ready('nodejs20', { 'index.js': code, 'child.js': child }, 'index.handler');
    const reply = await session.invoke({});
    expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
    const { parentSockets, spawnedSockets, forkedSockets } = reply.result as { parentSockets: string[]; spawnedSockets: string[]; forkedSockets: string[] };
    expect(parentSockets.length).toBeGreaterThan(0);
    expect(spawnedSockets.filter((s) => parentSockets.includes(s))).toEqual([]);
    expect(forkedSockets.filter((s) => parentSockets.includes(s))).toEqual([]);
    expect(await session.invoke({})).toMatchObject({ ok: true });
  });

  it('a second agent the function starts cannot reach the worker: the listener is gone once the first connected', async () => {
    const node = [
      `const { spawnSync } = require('node:child_process');`,
      `exports.handler = async () => {`,
      `  const child = spawnSync(process.execPath, ['/opt/hearth/bootstrap.mjs'], { encoding: 'utf8', timeout: 8000 });`,
      `  return { status: child.status, stderr: child.stderr };`,
      `};`,
      '',
    ].join('\n');
    const python = [
      'import subprocess, sys',
      'def handler(event, context):',
      '    child = subprocess.run([sys.executable, "-I", "-B", "/opt/hearth/bootstrap.py"], capture_output=True, text=True, timeout=8)',
      '    return {"status": child.returncode, "stderr": child.stderr}',
      '',
    ].join('\n');
    const sessions = await Promise.all([ready('nodejs20', { 'index.js': node }, 'index.handler'), ready('python3', { 'main.py': python }, 'main.handler')]);
    await Promise.all(
      sessions.map(async (session) => {
        const reply = await session.invoke({}, { deadlineMs: Date.now() + 20_000 });
        expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true, result: { status: 1 } });
        expect((reply.result as { stderr: string }).stderr).toContain('cannot connect');
        expect(await session.invoke({}, { id: 'after' })).toMatchObject({ id: 'after', ok: true });
      }),
    );
  });
});
