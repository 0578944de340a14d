/** The log line's shape, which scripts read (test/helpers/processes.ts waits on `"message":"…"`, the chaos report counts `level`). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../worker/common/logger.ts';

function capture(): () => Record<string, unknown>[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return () => lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('logger', () => {
  it('writes one JSON line on stderr with time, level name, component, message and fields', () => {
    const lines = capture();
    createLogger('worker').info('worker started', { workerId: 'w1', concurrency: 4 });
    const [entry] = lines();
    expect(entry).toMatchObject({ level: 'info', component: 'worker', message: 'worker started', workerId: 'w1', concurrency: 4 });
    expect(new Date(entry!.time as string).toISOString()).toBe(entry!.time);
  });

  it('writes an error under err with its stack and its cause', () => {
    const lines = capture();
    createLogger('gateway').error('request failed', { err: new Error('outer', { cause: new TypeError('inner') }) });
    const err = lines()[0]!.err as Record<string, any>;
    expect(err).toMatchObject({ type: 'Error', message: 'outer', cause: { type: 'TypeError', message: 'inner' } });
    expect(err.stack).toContain('Error: outer');
    expect(err.cause.stack).toContain('TypeError: inner');
  });

  it('logs a circular or bigint field instead of throwing at the call site', () => {
    const lines = capture();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(() => createLogger('worker').warn('odd fields', { circular, big: 10n })).not.toThrow();
    expect(lines()[0]).toMatchObject({ level: 'warn', message: 'odd fields', circular: { a: 1 } });
  });
});
