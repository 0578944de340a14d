/**
 * Issue 9, item 14, end to end: what a hostile function does inside its own
 * runtime (a handler name that reaches an inherited member, an event nested
 * too deep for Python's json, a forked child that exits) against a real
 * stack. Each is the function's own failure or no failure at all, never a
 * crash of the container, and the next call is served warm by the same one.
 * The agent-level detail is in test/integration/runtime-agent-hostile.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName, zipOf } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { call, deployFunction } from './security-harness.ts';

const PY_FORK = `
import os, sys

def handler(event, context):
    pid = os.fork()
    if pid == 0:
        print("child")
        if event.get("how") == "raise":
            raise RuntimeError("child failed")
        if event.get("how") == "return":
            return {"from": "child"}
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    return {"from": "parent", "childExit": os.waitstatus_to_exitcode(status)}
`;

const PY_ECHO = `
def handler(event, context):
    return {"type": type(event).__name__}
`;

describe('hostile runtime use, through the platform', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('a Python child of os.fork() that exits, raises or returns leaves the parent call alone', async () => {
    const name = uniqueName('py-fork');
    await deployFunction(platform, name, { 'main.py': PY_FORK }, { runtime: 'python3', handler: 'main.handler' });
    const kinds: Array<string | null> = [];
    for (const [how, code] of [['exit', 0], ['raise', 1], ['return', 0], ['exit', 0]] as const) {
      const answer = await call(platform, name, { how });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toEqual({ from: 'parent', childExit: code });
      kinds.push(answer.startKind);
    }
    expect(kinds.slice(1)).toEqual(['warm', 'warm', 'warm']);
  });

  it('a 3,000-deep event to a Python function is its Runtime.UnmarshalError, and the container keeps serving', async () => {
    const name = uniqueName('py-deep');
    await deployFunction(platform, name, { 'main.py': PY_ECHO }, { runtime: 'python3', handler: 'main.handler' });
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i++) deep = [deep];
    const refused = await call(platform, name, deep);
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatchObject({ code: 'FunctionError', type: 'Runtime.UnmarshalError' });
    const next = await call(platform, name, { n: 1 });
    expect(next).toMatchObject({ status: 200, body: { type: 'dict' }, startKind: 'warm' });
  });

  it.each([
    ['nodejs20', 'index.constructor', { 'index.js': 'exports.handler = async () => "real";\n' }],
    ['python3', 'main.__class__', { 'main.py': 'def handler(e, c):\n    return "real"\n' }],
  ] as const)('%s: handler %s is Runtime.HandlerNotFound, not an inherited member', async (runtime, handler, files) => {
    const name = uniqueName('inherited');
    const deployed = await deploy(platform, name, { bytes: await zipOf(files), filename: 'code.zip' }, { runtime, handler });
    // The gateway may refuse such a name up front; if it takes it, the agent must not resolve it.
    if (deployed.status === 400) return;
    expect(deployed.status, await deployed.clone().text()).toBe(201);
    const answer = await call(platform, name, {});
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(answer.body)).toContain('Runtime.HandlerNotFound');
  });
});
