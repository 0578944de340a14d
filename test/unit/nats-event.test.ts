import { describe, expect, it } from 'vitest';
import type { SourceMessage } from '../../gateway/triggers/event-source.ts';
import { natsEvent } from '../../gateway/triggers/sources/nats-source.ts';

const message = (over: Partial<SourceMessage> = {}): SourceMessage => ({
  id: 'orders:7', key: 'orders.eu.created', body: Buffer.from('{"id":1}'), attributes: { subject: 'orders.eu.created', 'X-Trace': 'abc' },
  deliveries: 1, publishedAt: 1_700_000_000_123, ...over,
});

describe('natsEvent', () => {
  it('makes one record a message, in order, with the stream as the source ARN', () => {
    const event = natsEvent([message(), message({ id: 'orders:8', key: 'orders.us.created' })], { stream: 'orders' });
    expect(event.Records).toHaveLength(2);
    expect(event.Records[0]).toEqual({
      eventSource: 'hearth:nats', eventSourceARN: 'nats:orders', messageId: 'orders:7', subject: 'orders.eu.created',
      body: '{"id":1}', attributes: { subject: 'orders.eu.created', 'X-Trace': 'abc' }, approximateArrivalTimestamp: 1_700_000_000_123,
    });
    expect(event.Records[1]!.messageId).toBe('orders:8');
    expect(event.Records[1]!.subject).toBe('orders.us.created');
  });

  it('keeps UTF-8 text as text and gives anything else base64 with bodyEncoding', () => {
    const text = natsEvent([message({ body: Buffer.from('héllo ✓ 🙂') })], { stream: 's' }).Records[0]!;
    expect(text.body).toBe('héllo ✓ 🙂');
    expect(text.bodyEncoding).toBeUndefined();
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]);
    const coded = natsEvent([message({ body: binary })], { stream: 's' }).Records[0]!;
    expect(coded.bodyEncoding).toBe('base64');
    expect(Buffer.from(coded.body, 'base64').equals(binary)).toBe(true);
    // A lone surrogate's bytes (CESU) and a cut multibyte character are not UTF-8 either.
    expect(natsEvent([message({ body: Buffer.from([0xed, 0xa0, 0x80]) })], { stream: 's' }).Records[0]!.bodyEncoding).toBe('base64');
    expect(natsEvent([message({ body: Buffer.from('✓').subarray(0, 2) })], { stream: 's' }).Records[0]!.bodyEncoding).toBe('base64');
  });

  it('gives an empty body as empty text, an unknown time as null, and no records for no messages', () => {
    const record = natsEvent([message({ body: Buffer.alloc(0), publishedAt: null })], { stream: 's' }).Records[0]!;
    expect(record.body).toBe('');
    expect(record.approximateArrivalTimestamp).toBeNull();
    expect(natsEvent([], { stream: 's' })).toEqual({ Records: [] });
  });

  it('serialises attributes named like prototype keys as plain data', () => {
    const attributes = Object.fromEntries([['__proto__', 'x'], ['constructor', 'y'], ['subject', 's.a']]);
    const json = JSON.stringify(natsEvent([message({ attributes })], { stream: 's' }));
    expect(JSON.parse(json).Records[0].attributes).toEqual(JSON.parse('{"__proto__":"x","constructor":"y","subject":"s.a"}'));
  });
});
