import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { amqpEvent, amqpEventContext, clip, toSourceMessage } from '../../gateway/triggers/sources/amqp-event.ts';

/** A delivery as amqplib decodes it. */
function delivery(body: string | Buffer, properties: Record<string, unknown> = {}, fields: Record<string, unknown> = {}): ConsumeMessage {
  return {
    content: Buffer.isBuffer(body) ? body : Buffer.from(body),
    fields: { deliveryTag: 1, redelivered: false, exchange: 'orders', routingKey: 'orders.eu', consumerTag: 'c', ...fields },
    properties: { headers: {}, ...properties },
  } as unknown as ConsumeMessage;
}

describe('amqp messages', () => {
  it('takes the messageId as id, at most 200 characters and never half a surrogate pair', () => {
    expect(toSourceMessage(delivery('x', { messageId: 'order-7' })).id).toBe('order-7');
    expect(toSourceMessage(delivery('x', { messageId: 'a'.repeat(255) })).id).toBe('a'.repeat(200));
    expect(toSourceMessage(delivery('x', { messageId: `${'a'.repeat(199)}😀` })).id).toBe('a'.repeat(199));
    expect(toSourceMessage(delivery('x', { messageId: '' })).id).toMatch(/^sha256:/);
  });

  it('digests body and headers without one: order-independent, blind to what the broker adds on redelivery', () => {
    const id = (body: string, headers: Record<string, unknown>) => toSourceMessage(delivery(body, { headers })).id;
    const first = id('body', { a: '1', b: { y: 2, x: Buffer.from([1]) } });
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(id('body', { b: { x: Buffer.from([1]), y: 2 }, a: '1', 'x-delivery-count': 3, 'x-death': [{ count: 1 }] })).toBe(first);
    expect(id('body!', { a: '1', b: { y: 2, x: Buffer.from([1]) } })).not.toBe(first);
    expect(id('body', { a: '2', b: { y: 2, x: Buffer.from([1]) } })).not.toBe(first);
    expect(id('body', { a: '1', b: { y: 2, x: Buffer.from([2]) } })).not.toBe(first);
  });

  it('counts deliveries from the redelivered flag, or a quorum queue’s x-delivery-count when it is a sane number', () => {
    const deliveries = (headers: Record<string, unknown>, redelivered = false) =>
      toSourceMessage(delivery('x', { headers }, { redelivered })).deliveries;
    expect(deliveries({})).toBe(1);
    expect(deliveries({}, true)).toBe(2);
    expect(deliveries({ 'x-delivery-count': 4 }, true)).toBe(5);
    expect(deliveries({ 'x-delivery-count': '9' }, true)).toBe(2);
    expect(deliveries({ 'x-delivery-count': -3 })).toBe(1);
    expect(deliveries({ 'x-delivery-count': 1e300 }, true)).toBe(2);
  });

  it('reads the timestamp as seconds, and ignores one no date can hold', () => {
    expect(toSourceMessage(delivery('x', { timestamp: 1_700_000_000 })).publishedAt).toBe(1_700_000_000_000);
    expect(toSourceMessage(delivery('x', { timestamp: 2 ** 62 })).publishedAt).toBeNull();
    expect(toSourceMessage(delivery('x', { timestamp: 'soon' })).publishedAt).toBeNull();
    expect(toSourceMessage(delivery('x')).publishedAt).toBeNull();
  });

  it('bounds attributes: fields and properties first, headers never override them, 64 entries of at most 1 KB', () => {
    const headers: Record<string, unknown> = { exchange: 'forged', long: 'é'.repeat(5000), raw: Buffer.from('hi'), table: { n: [1, 'a'] } };
    for (let i = 0; i < 5000; i++) headers[`h${i}`] = i;
    const message = toSourceMessage(delivery('x', { contentType: 'text/plain', priority: 4, headers }));
    const entries = Object.entries(message.attributes);
    expect(entries).toHaveLength(64);
    for (const [key, value] of entries) expect(Buffer.byteLength(key) + Buffer.byteLength(value)).toBeLessThanOrEqual(2048);
    expect(message.attributes).toMatchObject({
      exchange: 'orders', routingKey: 'orders.eu', redelivered: 'false', contentType: 'text/plain', priority: '4',
      long: 'é'.repeat(512), raw: 'aGk=', table: '{"n":[1,"a"]}', h0: '0',
    });
    expect(message.key).toBe('orders.eu');
  });

  it('keeps a header named __proto__ as an ordinary attribute', () => {
    const headers = JSON.parse('{"__proto__": "x", "polluted": "y"}');
    const message = toSourceMessage(delivery('x', { headers }));
    expect(Object.getPrototypeOf(message.attributes)).toBe(Object.prototype);
    expect(Object.hasOwn(message.attributes, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('clips text to a byte budget without cutting a character', () => {
    expect(clip('abc', 10)).toBe('abc');
    expect(clip('é'.repeat(10), 5)).toBe('éé');
    expect(clip('😀😀', 5)).toBe('😀');
    expect(clip('😀', 3)).toBe('');
  });
});

describe('amqp event', () => {
  const text = toSourceMessage(delivery('{"a":1}', { messageId: 'm1', contentType: 'application/json', deliveryMode: 2, timestamp: 1, headers: { tenant: 'acme' } }));
  const binary = toSourceMessage(delivery(Buffer.from([0xff, 0x00]), {}, { redelivered: true }));

  it('is shaped like Lambda’s RabbitMQ event, keyed queue::vhost, with Records as every source has them', () => {
    const event = amqpEvent([text, binary], { queue: 'orders' });
    expect(event.eventSource).toBe('hearth:amqp');
    expect(event.eventSourceArn).toBe('amqp:orders');
    expect(Object.keys(event.rmqMessagesByQueue)).toEqual(['orders::/']);
    const [first, second] = event.rmqMessagesByQueue['orders::/']!;
    expect(first).toEqual({
      basicProperties: {
        contentType: 'application/json', contentEncoding: null, headers: { tenant: 'acme' }, deliveryMode: 2, priority: null,
        correlationId: null, replyTo: null, expiration: null, messageId: 'm1', timestamp: '1970-01-01T00:00:01.000Z',
        type: null, userId: null, appId: null, clusterId: null, bodySize: 7,
      },
      redelivered: false,
      data: Buffer.from('{"a":1}').toString('base64'),
    });
    expect(second).toMatchObject({ redelivered: true, data: '/wA=', basicProperties: { bodySize: 2, timestamp: null } });
    expect(event.Records).toEqual([
      { messageId: 'm1', body: '{"a":1}', attributes: text.attributes },
      { messageId: binary.id, body: '/wA=', bodyEncoding: 'base64', attributes: binary.attributes },
    ]);
  });

  it('takes the vhost from the URL path', () => {
    expect(amqpEventContext({ url: 'amqp://u:p@host:5672', queue: 'q' })).toEqual({ queue: 'q', vhost: '/' });
    expect(amqpEventContext({ url: 'amqp://host/prod', queue: 'q' })).toEqual({ queue: 'q', vhost: 'prod' });
    expect(amqpEventContext({ url: 'amqp://host/%2F', queue: 'q' })).toEqual({ queue: 'q', vhost: '/' });
    expect(amqpEventContext({ url: 'amqp://host/%E0%A4%A', queue: 'q' }).vhost).toBe('%E0%A4%A');
    expect(Object.keys(amqpEvent([], { queue: 'q', vhost: 'prod' }).rmqMessagesByQueue)).toEqual(['q::prod']);
  });
});
