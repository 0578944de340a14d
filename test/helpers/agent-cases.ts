/**
 * What the runtime-agent test files share (test/integration/runtime-agent-*.test.ts):
 * agent sessions on the real images, a function whose init must succeed, and
 * the marker an agent ends truncated logs with.
 */
import Dockerode from 'dockerode';
import { expect } from 'vitest';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import type { InitMessage } from '../../worker/sandbox/agent-protocol.ts';
import { agentSessions, type CodeFiles } from './agent-harness.ts';

/** The line an agent appends to logs it cut at LOG_CAP_BYTES, with how many bytes it dropped. */
export const LOG_MARKER = /\[hearth\] log truncated: (\d+) bytes dropped\n$/;

/**
 * Registers the file's session hooks (see `agentSessions`) and returns
 * `deploy` (start a container for `files` and send `init`; the session and
 * the init result) and `ready` (the same, for a function whose init must succeed).
 */
export function agentCases(docker = new Dockerode()) {
  const deploy = agentSessions(docker);
  async function ready(runtime: RuntimeName, files: CodeFiles, handler: string, init: Partial<InitMessage> = {}) {
    const { session, initResult } = await deploy(runtime, files, { handler, ...init });
    expect(initResult, JSON.stringify(initResult.error)).toMatchObject({ ok: true });
    return session;
  }
  return { deploy, ready };
}
