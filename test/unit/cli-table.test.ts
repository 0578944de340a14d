/** The CLI's tables and lists at any length (gateway/cli/table.ts, format.ts, commands/functions.ts). */
import { describe, expect, it } from 'vitest';
import { readAllFunctions } from '../../gateway/cli/commands/functions.ts';
import { renderMetrics } from '../../gateway/cli/commands/metrics.ts';
import { sparkline } from '../../gateway/cli/format.ts';
import { formatTable } from '../../gateway/cli/table.ts';
import type { FunctionMetrics, Percentiles } from '../../gateway/metrics/metrics-view.ts';
import type { FunctionView } from '../../gateway/store/functions-store.ts';

/** Anything a terminal would act on, tab and newline included (a cell must stay on its row). */
const RAW_CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const ROWS = 150_000;

describe('formatTable', () => {
  it(`lays out ${ROWS.toLocaleString('en')} rows without overflowing the call stack`, () => {
    const rows = Array.from({ length: ROWS }, (_, i) => [`fn-${i}`, i + 1, 'nodejs20']);
    const text = formatTable(['NAME', 'VERSION', 'RUNTIME'], rows);
    const lines = text.split('\n');
    expect(lines).toHaveLength(ROWS + 2); // header, rows, '' after the last newline
    expect(lines[0]).toBe(`NAME${' '.repeat(5)}  VERSION  RUNTIME`);
    expect(lines[ROWS]).toBe('fn-149999   150000  nodejs20');
  });

  it('escapes control characters, tabs and newlines in cells so no row is forged or split', () => {
    const text = formatTable(['NAME', 'HANDLER'], [
      ['evil\u001b]52;c;cGF5bG9hZA==\u0007', 'a\nFORGED ROW'],
      ['link\u001b]8;;http://x\u001b\\click\u001b]8;;\u001b\\', 'tab\there\rback'],
      ['\u202eexe.txt', '8-bit \u009b2J'],
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).not.toMatch(RAW_CONTROL_OR_BREAK);
    expect(lines[1]).toContain('evil\\x1b]52;c;cGF5bG9hZA==\\x07');
    expect(lines[1]).toContain('a\\nFORGED ROW');
    expect(lines[2]).toContain('tab\\there\\rback');
    expect(lines[3]).toContain('\\u202eexe.txt');
  });

  it('cuts very long cells with an ellipsis and aligns columns by display width (an emoji or a CJK character is two, a combining mark none)', () => {
    const long = '😀'.repeat(10_000);
    const text = formatTable(['A', 'B'], [[long, 'x'], ['short', 'y'], ['日本語', 'z'], ['e\u0301te\u0301', 'w']], { maxCellWidth: 20 });
    const [, first, second, third, fourth] = text.split('\n');
    // Nine emoji and the ellipsis are 19 columns: a tenth emoji would pass 20.
    expect(first).toBe(`${'😀'.repeat(9)}…  x`);
    expect(second).toBe(`short${' '.repeat(14)}  y`);
    expect(third).toBe(`日本語${' '.repeat(13)}  z`);
    expect(fourth).toBe(`e\u0301te\u0301${' '.repeat(16)}  w`);
    const huge = 'h'.repeat(5_000_000);
    expect(formatTable(['H'], [[huge]]).split('\n')[1]).toBe(`${'h'.repeat(79)}…`);
  });
});

describe('sparkline', () => {
  it(`draws ${ROWS.toLocaleString('en')} buckets`, () => {
    const values = Array.from({ length: ROWS }, (_, i) => (i === ROWS - 1 ? 10 : 0));
    const line = sparkline(values);
    expect([...line]).toHaveLength(ROWS);
    expect(line.endsWith('█')).toBe(true);
  });
});

describe('hearth metrics', () => {
  it('shows a 7d window\'s 168 buckets whole: the metrics table is not cut at the default cell width', () => {
    const none: Percentiles = { count: 0, p50: null, p95: null, p99: null };
    const series = Array.from({ length: 168 }, (_, i) => ({
      t: new Date(i * 3_600_000).toISOString(), invocations: i % 7, errors: 0, throttles: 0, coldStarts: 0, p50Ms: null, p99Ms: null, initP50Ms: null, gbSeconds: 0,
    }));
    const metrics: FunctionMetrics = {
      function: 'f\u001b]0;title\u0007', window: '7d', from: series[0]!.t, to: series[167]!.t, bucketSeconds: 3600, invocations: 504,
      errors: { total: 0, byCode: {} }, throttles: 0, startKinds: { cold: 0, prewarmed: 0, warm: 0 }, coldStarts: { count: 0, rate: 0 },
      latencyMs: { all: none, cold: none, prewarmed: none, warm: none }, durationMs: none, initMs: none, queueWaitMs: none,
      peakConcurrency: 1, usage: { billedMs: 0, gbSeconds: 0 }, series,
    };
    const text = renderMetrics(metrics);
    expect(text).toMatch(/^invocations\s+504\s+[▁▂▃▄▅▆▇█]{168}$/mu);
  });
});

describe('readAllFunctions', () => {
  const view = (i: number) => ({ name: `fn-${i}` }) as FunctionView;
  /** A gateway with `total` functions, answering pages of `size` in one of the two shapes. */
  const gateway = (total: number, size: number, shape: 'items' | 'functions') => {
    const calls: Array<string | undefined> = [];
    return {
      calls,
      async json<T>(_method: string, _path: string, options: { query?: Record<string, string | undefined> } = {}): Promise<T> {
        const cursor = options.query?.cursor;
        calls.push(cursor);
        const from = cursor === undefined ? 0 : Number(cursor);
        const list = Array.from({ length: Math.min(size, total - from) }, (_, k) => view(from + k));
        const nextCursor = from + size < total ? String(from + size) : null;
        return (shape === 'items' ? { items: list, nextCursor } : { functions: list, nextCursor }) as T;
      },
    };
  };

  it(`follows nextCursor through ${ROWS.toLocaleString('en')} functions, as { items } or { functions }`, async () => {
    for (const shape of ['items', 'functions'] as const) {
      const fake = gateway(ROWS, 50_000, shape);
      const all = await readAllFunctions(fake);
      expect(all).toHaveLength(ROWS);
      expect(all[ROWS - 1]!.name).toBe(`fn-${ROWS - 1}`);
      expect(fake.calls).toEqual([undefined, '50000', '100000']);
    }
  });

  it('takes an unpaged { functions } answer as the whole list', async () => {
    const fake = { json: async <T>() => ({ functions: [view(1), view(2)] }) as T };
    expect(await readAllFunctions(fake)).toHaveLength(2);
  });

  it('stops on a cursor it has already followed, and on an answer without a list', async () => {
    const looping = { json: async <T>() => ({ items: [view(1)], nextCursor: 'again' }) as T };
    await expect(readAllFunctions(looping)).rejects.toThrow(/same list cursor twice/);
    const odd = { json: async <T>() => ({ nope: true }) as T };
    await expect(readAllFunctions(odd)).rejects.toThrow(/without a list of functions/);
  });
});
