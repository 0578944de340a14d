import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HandOff } from '../../worker/pool/hand-off.ts';

describe('hand-off to waiting calls', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits only when busy sandboxes are expected to free up well before a cold start', () => {
    const handOff = new HandOff<string>(200);
    expect(handOff.shouldWait('f@1', 0)).toBe(false); // nothing busy to wait for
    expect(handOff.shouldWait('f@1', 1)).toBe(true); // unknown yet: wait for the first call
    handOff.observeDuration('f@1', 2);
    expect(handOff.shouldWait('f@1', 0)).toBe(false);
    expect(handOff.shouldWait('f@1', 1)).toBe(true);
    handOff.observeDuration('g@1', 3000);
    expect(handOff.shouldWait('g@1', 4)).toBe(false); // long calls: start another
  });

  it('hands a released member to the longest waiting call', async () => {
    const handOff = new HandOff<string>(200);
    const first = handOff.wait('f@1');
    const second = handOff.wait('f@1');
    expect(handOff.offer('f@1', 'a')).toBe(true);
    expect(handOff.offer('f@1', 'b')).toBe(true);
    expect(handOff.offer('f@1', 'c')).toBe(false);
    expect(await first).toBe('a');
    expect(await second).toBe('b');
  });

  it('gives up after the cold-start estimate, or when a busy member dies', async () => {
    const handOff = new HandOff<string>(200);
    const timedOut = handOff.wait('f@1');
    vi.advanceTimersByTime(200);
    expect(await timedOut).toBeNull();
    const cancelled = handOff.wait('f@1');
    handOff.cancelOne('f@1');
    expect(await cancelled).toBeNull();
    expect(handOff.offer('f@1', 'x')).toBe(false);
  });

  it('counts calls already waiting when deciding', () => {
    const handOff = new HandOff<string>(100);
    handOff.observeDuration('f@1', 20);
    expect(handOff.shouldWait('f@1', 1)).toBe(true); // 20 ms < 50 ms
    void handOff.wait('f@1');
    void handOff.wait('f@1');
    expect(handOff.shouldWait('f@1', 1)).toBe(false); // third in line: 60 ms
    handOff.cancelAll();
  });
});
