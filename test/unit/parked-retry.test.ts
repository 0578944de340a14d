import { describe, expect, it } from 'vitest';
import { parkedRetryMs } from '../../worker/run/concurrency-gate.ts';

describe('parked retry delay', () => {
  const middle = () => 0.5;
  it('doubles an async call’s wait with how long it has waited, from 1 s up to a minute', () => {
    expect(parkedRetryMs(0, false, middle)).toBe(1000);
    expect(parkedRetryMs(4000, false, middle)).toBe(4000);
    expect(parkedRetryMs(3600_000, false, middle)).toBe(60_000);
  });
  it('keeps a sync call within a second, its caller waiting seconds at most', () => {
    expect(parkedRetryMs(0, true, middle)).toBe(100);
    expect(parkedRetryMs(1000, true, middle)).toBe(500);
    expect(parkedRetryMs(60_000, true, middle)).toBe(1000);
  });
  it('jitters by a quarter either way', () => {
    expect(parkedRetryMs(8000, false, () => 0)).toBe(6000);
    expect(parkedRetryMs(8000, false, () => 0.999999)).toBe(10_000);
  });
});
