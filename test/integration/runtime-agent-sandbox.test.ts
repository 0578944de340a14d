/**
 * What a function sees of its sandbox from inside either agent: uid 10001,
 * no capabilities, no new privileges, no network, only /tmp writable (real
 * images, the worker's container settings).
 * Each case starts its own container (one function per container, as in
 * production), with this test acting as the worker's side of the protocol;
 * all carry `io.hearth.test=agent` and are removed afterwards. Larger
 * functions live in `test/fixtures/functions/<runtime>/<case>`.
 */
import { describe, expect, it } from 'vitest';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { agentCases } from '../helpers/agent-cases.ts';
import { fixture } from '../helpers/agent-harness.ts';

const { ready } = agentCases();

describe('container sandbox', () => {
  const handlers: Partial<Record<RuntimeName, string>> = { nodejs20: 'index.handler', python3: 'main.handler' };

  it.each(['nodejs20', 'python3'] as const)(
    '%s runs as uid 10001 with no capabilities, no new privileges, no network and only /tmp writable',
    async (runtime) => {
      const session = await ready(runtime, await fixture(`${runtime}/sandbox-probe`), handlers[runtime]!);
      const reply = await session.invoke({});
      expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
      const result = reply.result as { status: string; writes: Record<string, string>; interfaces: string[] };
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(result.status)?.[1]?.split(/\s+/);
      expect(field('Uid')).toEqual(['10001', '10001', '10001', '10001']);
      expect(field('Gid')).toEqual(['10001', '10001', '10001', '10001']);
      expect(field('CapEff')).toEqual(['0000000000000000']);
      expect(field('CapPrm')).toEqual(['0000000000000000']);
      expect(field('NoNewPrivs')).toEqual(['1']);
      expect(result.writes.tmp).toBe('ok');
      expect(result.writes.root).toMatch(/EROFS|30/);
      expect(result.writes.task).toMatch(/EROFS|30/);
      expect(result.interfaces).toEqual(['lo']);
    },
  );
});
