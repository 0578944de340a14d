import { describe, expect, it } from 'vitest';
import {
  ERROR_MESSAGE_CAP_BYTES,
  ERROR_STACK_CAP_BYTES,
  ERROR_TYPE_CAP_BYTES,
  ProtocolViolation,
  checkAgentMessage,
} from '../../worker/sandbox/agent-messages.ts';
import { LOG_CAP_BYTES } from '../../worker/sandbox/agent-protocol.ts';
import { storableFloat, storableInt, storableText } from '../../worker/common/storable.ts';
import { hostileNumber, hostileString, isStorable, seededRandom } from '../helpers/hostile-values.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('storable text and numbers', () => {
  it('replaces NUL and lone surrogates, and cuts at a character boundary', () => {
    expect(storableText('a\u0000b\ud800c').text).toBe('a\uFFFDb\uFFFDc');
    const cut = storableText('é'.repeat(10), 5);
    expect(cut).toEqual({ text: 'éé', truncated: true });
    expect(storableText('plain', 5)).toEqual({ text: 'plain', truncated: false });
  });

  it('keeps numbers inside the columns they go to', () => {
    expect([NaN, Infinity, -Infinity, -5, 5e9, 12.6].map((n) => storableInt(n))).toEqual([0, 2147483647, 0, 0, 2147483647, 13]);
    expect([NaN, Infinity, -1, 1e300, 3.5].map((n) => storableFloat(n))).toEqual([0, 1e15, 0, 1e15, 3.5]);
  });
});

describe('agent messages (tenant input)', () => {
  it('caps every text field and drops the agent-reported duration', () => {
    const message = checkAgentMessage({
      type: 'invokeResult',
      id: 'id-1',
      ok: false,
      durationMs: -5e9,
      error: { type: 'T'.repeat(10_000), message: 'm\u0000'.repeat(100_000), stack: 's'.repeat(1_000_000) },
      logs: 'x'.repeat(10 * 1024 * 1024),
      logsTruncated: false,
    });
    expect(message.type).toBe('invokeResult');
    if (message.type !== 'invokeResult') return;
    expect(message).not.toHaveProperty('durationMs');
    expect(bytes(message.logs)).toBeLessThanOrEqual(LOG_CAP_BYTES);
    expect(message.logsTruncated).toBe(true);
    expect(bytes(message.error!.type)).toBeLessThanOrEqual(ERROR_TYPE_CAP_BYTES);
    expect(bytes(message.error!.message)).toBeLessThanOrEqual(ERROR_MESSAGE_CAP_BYTES);
    expect(bytes(message.error!.stack!)).toBeLessThanOrEqual(ERROR_STACK_CAP_BYTES);
    expect(isStorable(message.error!.message)).toBe(true);
  });

  it('refuses shapes an agent may not send', () => {
    for (const bad of [
      null,
      42,
      'hello',
      [],
      { type: 'invoke', id: 'x' },
      { type: 'invokeResult', id: 7, ok: true, logs: '', logsTruncated: false },
      { type: 'invokeResult', id: 'x'.repeat(1000), ok: true, logs: '', logsTruncated: false },
      { type: 'initResult', ok: 'yes', logs: '', logsTruncated: false },
      { type: 'initResult', ok: true, logs: 5, logsTruncated: false },
      { type: 'invokeResult', id: 'x', ok: false, error: { type: 1, message: 'm' }, logs: '', logsTruncated: false },
      { type: 'hello', runtime: 'x'.repeat(100), agentVersion: 1 },
    ]) {
      expect(() => checkAgentMessage(bad), JSON.stringify(bad)?.slice(0, 80)).toThrow(ProtocolViolation);
    }
  });

  it('turns any random message into a storable one or a ProtocolViolation (property, 2,000 cases)', () => {
    const random = seededRandom(9);
    const anyValue = (depth = 0): unknown => {
      const pick = random();
      if (pick < 0.35) return hostileString(random, Math.floor(random() * 300));
      if (pick < 0.5) return hostileNumber(random);
      if (pick < 0.6) return random() < 0.5;
      if (pick < 0.65) return null;
      if (depth < 3 && pick < 0.8) return { type: anyValue(depth + 1), message: anyValue(depth + 1), stack: anyValue(depth + 1) };
      return undefined;
    };
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const candidate: Record<string, unknown> = {
        type: ['invokeResult', 'initResult', 'hello', anyValue()][Math.floor(random() * 4)],
        id: random() < 0.8 ? hostileString(random, 36) : anyValue(),
        ok: random() < 0.8 ? random() < 0.5 : anyValue(),
        error: random() < 0.7 ? { type: hostileString(random, 40), message: hostileString(random, 2000), stack: hostileString(random, 5000) } : anyValue(),
        logs: random() < 0.8 ? hostileString(random, Math.floor(random() * 100_000)) : anyValue(),
        logsTruncated: random() < 0.8 ? false : anyValue(),
        durationMs: hostileNumber(random),
        runtime: hostileString(random, 10),
        agentVersion: random() < 0.5 ? 1 : hostileNumber(random),
        result: anyValue(),
      };
      let message;
      try {
        message = checkAgentMessage(candidate);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolViolation);
        continue;
      }
      accepted++;
      if (message.type === 'hello') continue;
      expect(isStorable(message.logs)).toBe(true);
      expect(bytes(message.logs)).toBeLessThanOrEqual(LOG_CAP_BYTES);
      if (message.error) {
        for (const text of [message.error.type, message.error.message, message.error.stack ?? '']) expect(isStorable(text)).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(500);
  });
});
