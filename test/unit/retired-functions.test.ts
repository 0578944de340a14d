import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetiredFunctions } from '../../worker/pool/retired-functions.ts';

describe('retired functions', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const nothingHeld = () => false;

  it('remembers a deleted function for the grace at least', () => {
    const retired = new RetiredFunctions(1000);
    retired.add('a', nothingHeld);
    vi.advanceTimersByTime(999);
    retired.add('b', nothingHeld);
    expect(retired.has('a')).toBe(true);
    expect(retired.has('b')).toBe(true);
    expect(retired.has('c')).toBe(false);
  });

  it('forgets entries past the grace at the next deletion, so the set stays bounded', () => {
    const retired = new RetiredFunctions(1000);
    for (let i = 0; i < 100; i++) {
      retired.add(`f${i}`, nothingHeld);
      vi.advanceTimersByTime(500);
    }
    // Only the last grace window's deletions remain (the current one and the one before).
    expect(retired.size).toBe(2);
    expect(retired.has('f99')).toBe(true);
    expect(retired.has('f0')).toBe(false);
  });

  it('keeps an old entry while the pool still holds a sandbox of the function (a long call)', () => {
    const retired = new RetiredFunctions(1000);
    retired.add('long', nothingHeld);
    vi.advanceTimersByTime(5000);
    retired.add('other', (id) => id === 'long');
    expect(retired.has('long')).toBe(true);
    vi.advanceTimersByTime(5000);
    retired.add('third', nothingHeld);
    expect(retired.has('long')).toBe(false);
    expect(retired.has('other')).toBe(false);
  });

  it('a function retired again starts a new grace', () => {
    const retired = new RetiredFunctions(1000);
    retired.add('a', nothingHeld);
    vi.advanceTimersByTime(900);
    retired.add('a', nothingHeld);
    vi.advanceTimersByTime(900);
    retired.add('b', nothingHeld);
    expect(retired.has('a')).toBe(true);
  });
});
