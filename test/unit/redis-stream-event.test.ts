/**
 * What a stream entry becomes (`toMessage`: body field or all fields as
 * JSON, bounded attributes, the truncation mark) and the event a batch
 * becomes (`redisStreamEvent`), fed hostile entries: binary bytes, cut UTF-8,
 * `__proto__` fields, 10,000 fields, values past every cap.
 */
import { describe, expect, it } from 'vitest';
import type { SourceMessage } from '../../gateway/triggers/event-source.ts';
import {
  clipBytes, fieldsJson, MAX_BODY_BYTES, MAX_NAME_BYTES, MAX_VALUE_BYTES, toMessage,
} from '../../gateway/triggers/sources/redis-stream-entry.ts';
import { redisStreamEvent } from '../../gateway/triggers/sources/redis-stream-event.ts';

const b = (text: string | number[]) => (typeof text === 'string' ? Buffer.from(text) : Buffer.from(text));
const fields = (...pairs: Array<string | Buffer>) => pairs.map((p) => (Buffer.isBuffer(p) ? p : b(p)));

describe('redis-stream entry', () => {
  it('takes the body field as the body and the other fields as attributes', () => {
    const m = toMessage('1700000000123-4', fields('kind', 'order', 'body', '{"id":1}', 'trace', 'abc'), 1, false, 'orders');
    expect(m).toMatchObject({ id: '1700000000123-4', key: 'orders', deliveries: 1, publishedAt: 1700000000123 });
    expect(m.body.toString()).toBe('{"id":1}');
    expect({ ...m.attributes }).toEqual({ kind: 'order', trace: 'abc' });
  });

  it('makes an entry without a body field all body: its fields as one JSON object, a later duplicate winning', () => {
    const m = toMessage('5-0', fields('a', '1', 'b', 'say "hi"\n', 'a', '2'), 1, false, 's');
    expect(JSON.parse(m.body.toString())).toEqual({ a: '2', b: 'say "hi"\n' });
    expect({ ...m.attributes }).toEqual({});
  });

  it('keeps a __proto__ field as data, never as a prototype', () => {
    const m = toMessage('1-0', fields('body', 'x', '__proto__', 'polluted', 'constructor', 'c'), 1, false, 's');
    expect(Object.keys(m.attributes)).toEqual(['__proto__', 'constructor']);
    expect(m.attributes['__proto__']).toBe('polluted');
    const json = toMessage('1-1', fields('__proto__', 'p'), 1, false, 's');
    expect(Object.keys(JSON.parse(json.body.toString()))).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bounds attributes: 63 of them, names at 256 bytes, values at 1 KB, and says so', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => [`f${i}`, `v${i}`]).flat();
    const wide = toMessage('1-0', fields('body', 'b', ...many), 1, false, 's');
    expect(Object.keys(wide.attributes)).toHaveLength(64);
    expect(wide.attributes['hearth-truncated']).toBe('true');
    const long = toMessage('1-0', fields('body', 'b', 'n'.repeat(1000), 'v'.repeat(5000)), 1, false, 's');
    const [name, value] = Object.entries(long.attributes)[0]!;
    expect(name).toBe('n'.repeat(MAX_NAME_BYTES));
    expect(value).toBe('v'.repeat(MAX_VALUE_BYTES));
    const exact = toMessage('1-0', fields('body', 'b', 'k', 'v'.repeat(MAX_VALUE_BYTES)), 1, false, 's');
    expect(exact.attributes['hearth-truncated']).toBeUndefined();
  });

  it('cuts a body past 6 MB, and marks an entry the server already cut', () => {
    const big = toMessage('1-0', [b('body'), Buffer.alloc(MAX_BODY_BYTES + 10, 120)], 1, false, 's');
    expect(big.body.length).toBe(MAX_BODY_BYTES);
    expect(big.attributes['hearth-truncated']).toBe('true');
    const serverCut = toMessage('1-0', fields('body', 'short'), 2, true, 's');
    expect(serverCut.attributes['hearth-truncated']).toBe('true');
  });

  it('drops an entry\'s own hearth-truncated field, so the mark means what it says', () => {
    const m = toMessage('1-0', fields('body', 'x', 'hearth-truncated', 'true'), 1, false, 's');
    expect(m.attributes['hearth-truncated']).toBeUndefined();
  });

  it('keeps the JSON body within 6 MB even when escaping grows it sixfold', () => {
    const json = fieldsJson([b('k'), Buffer.alloc(MAX_BODY_BYTES, 1)]); // each \x01 escapes to 6 bytes
    expect(Buffer.byteLength(json.text)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(json.cut).toBe(true);
    expect(JSON.parse(json.text).k.length).toBeGreaterThan(MAX_BODY_BYTES / 7);
    const wide = fieldsJson(Array.from({ length: 10_000 }, (_, i) => [b(`f${i}`), b(`v${i}`)]).flat());
    expect(Object.keys(JSON.parse(wide.text))).toHaveLength(10_000);
    expect(wide.cut).toBe(false);
  });

  it('cuts UTF-8 on a character boundary and binary at the byte asked', () => {
    expect(clipBytes(b('aé'), 2).toString()).toBe('a'); // é is 2 bytes: never half of it
    expect(clipBytes(b('€uro'), 2).length).toBe(0);
    expect(clipBytes(b([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), 4).length).toBe(4);
    const text = b('ab');
    expect(clipBytes(text, 5)).toBe(text);
  });

  it('reads the publish time from the id, and none from an id that has none', () => {
    expect(toMessage('0-1', fields('body', 'x'), 1, false, 's').publishedAt).toBeNull();
    expect(toMessage('99999999999999999999-0', fields('body', 'x'), 1, false, 's').publishedAt).toBeNull();
  });
});

describe('redis-stream event', () => {
  const message = (body: Buffer, extra: Partial<SourceMessage> = {}): SourceMessage => ({
    id: '1700000000123-0', key: 'orders', body, attributes: { kind: 'order' }, deliveries: 1, publishedAt: 1700000000123, ...extra,
  });

  it('has one Kinesis-like record per message, the body as text', () => {
    const event = redisStreamEvent([message(b('{"id":1}')), message(b('two'), { id: '1700000000124-0', deliveries: 3 })], { stream: 'orders', group: 'hearth' });
    expect(event.Records).toHaveLength(2);
    expect(event.Records[0]).toEqual({
      eventSource: 'hearth:redis-stream',
      eventSourceARN: 'redis-stream:orders',
      messageId: '1700000000123-0',
      body: '{"id":1}',
      attributes: { kind: 'order' },
      approximateArrivalTimestamp: 1700000000.123,
      redis: { stream: 'orders', group: 'hearth', deliveries: 1 },
    });
    expect(event.Records[1]!.redis.deliveries).toBe(3);
  });

  it('gives a body that is not UTF-8 as base64 and says so', () => {
    const bytes = b([0xff, 0xfe, 0x00, 0xc3]);
    const [record] = redisStreamEvent([message(bytes)], { stream: 's', group: 'g' }).Records;
    expect(record!.bodyEncoding).toBe('base64');
    expect(Buffer.from(record!.body, 'base64').equals(bytes)).toBe(true);
    const [text] = redisStreamEvent([message(b('héllo'))], { stream: 's', group: 'g' }).Records;
    expect(text).not.toHaveProperty('bodyEncoding');
  });

  it('copies attributes (a __proto__ one stays data) and has a null time when unknown', () => {
    const attributes: Record<string, string> = Object.create(null);
    attributes['__proto__'] = 'x';
    const [record] = redisStreamEvent([message(b(''), { attributes, publishedAt: null })], { stream: 's', group: 'g' }).Records;
    expect(Object.keys(record!.attributes)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(record!.attributes)).toBe(Object.prototype);
    expect(record!.approximateArrivalTimestamp).toBeNull();
    expect(JSON.parse(JSON.stringify(record)).attributes).toEqual(JSON.parse('{"__proto__":"x"}'));
  });
});
