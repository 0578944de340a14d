/**
 * The container around either agent stops promptly on SIGTERM although the
 * agent is its PID 1 (real images, the worker's container settings).
 * Each case starts its own container (one function per container, as in
 * production), with this test acting as the worker's side of the protocol;
 * all carry `io.hearth.test=agent` and are removed afterwards. Larger
 * functions live in `test/fixtures/functions/<runtime>/<case>`.
 */
import { describe, expect, it } from 'vitest';
import { agentCases } from '../helpers/agent-cases.ts';

const { ready } = agentCases();

describe('container lifecycle', () => {
  it.each([
    ['nodejs20', { 'index.js': 'exports.handler = async () => 1;' }, 'index.handler'],
    ['python3', { 'main.py': 'def handler(e, c):\n    return 1\n' }, 'main.handler'],
  ] as const)('%s stops promptly on SIGTERM although the agent is PID 1', async (runtime, files, handler) => {
    const session = await ready(runtime, files, handler);
    const started = performance.now();
    await session.container.stop({ t: 10 });
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await session.exit()).exitCode).toBe(143);
  });
});
