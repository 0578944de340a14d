/**
 * The Redis Streams trigger source against a real Redis: batches and
 * windows, acks, redelivery to the next holder of the consumer name, touch
 * against another consumer's XAUTOCLAIM, taking over entries others left
 * idle, dead letters, `start`, lag, the set-up check's sentences, hostile
 * entries (a 100 MB field, binary bytes, 10,000 fields), and a throughput
 * measurement against a bare XREADGROUP + XACK loop. Every test uses its own
 * streams (random suffix), deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, type EventSource, type SourceMessage } from '../../gateway/triggers/event-source.ts';
import {
  checkRedisStreamSettings, MAX_BODY_BYTES, openRedisStreamPublisher, openRedisStreamSource, redisStreamEvent,
} from '../../gateway/triggers/sources/redis-stream-source.ts';
import type { RedisStreamSettings } from '../../gateway/triggers/trigger-settings.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

const URL_ = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('redis-stream source', () => {
  let redis: Redis;
  const keys: string[] = [];
  const sources: EventSource[] = [];

  beforeAll(() => {
    redis = new Redis(URL_);
  });
  afterEach(async () => {
    for (const source of sources.splice(0)) await source.close().catch(() => {});
    if (keys.length > 0) await redis.del(...keys.splice(0));
  });
  afterAll(async () => {
    await redis.quit();
  });

  const name = (label = 's') => {
    const key = `hearth-test-${label}-${randomBytes(4).toString('hex')}`;
    keys.push(key);
    return key;
  };
  /** A stream with `count` entries `{body: "m<i>", n: "<i>"}` (a stream must exist before a trigger reads it). */
  const newStream = async (count = 0, label = 's') => {
    const stream = name(label);
    await redis.xadd(stream, '*', 'body', 'seed', 'n', '-1');
    await redis.xtrim(stream, 'MAXLEN', 0);
    await add(stream, count);
    return stream;
  };
  const add = async (stream: string, count: number, from = 0) => {
    const pipeline = redis.pipeline();
    for (let i = from; i < from + count; i++) pipeline.xadd(stream, '*', 'body', `m${i}`, 'n', String(i));
    return (await pipeline.exec())!.map(([, id]) => id as string);
  };
  const settings = (stream: string, extra: Partial<RedisStreamSettings> = {}): RedisStreamSettings => ({
    type: 'redis-stream', url: URL_, stream, group: 'hearth', start: 'earliest',
    batchSize: 10, batchWindowMs: 0, maxConcurrency: 1, ordered: false, maxRetries: 2, ...extra,
  });
  const open = async (stream: string, extra: Partial<RedisStreamSettings> = {}, consumer = 'trigger-1') => {
    const source = await openRedisStreamSource(settings(stream, extra), { consumer });
    sources.push(source);
    return source;
  };
  const texts = (messages: SourceMessage[]) => messages.map((m) => m.body.toString());
  const pendingOf = async (stream: string, group = 'hearth') => (await redis.xpending(stream, group))[0] as number;
  it('hands over entries in order, in batches of at most max, with id, key, deliveries and publish time', async () => {
    const stream = await newStream(25);
    const source = await open(stream);
    const batches = [await source.pull(10, 0), await source.pull(10, 0), await source.pull(10, 0)];
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const all = batches.flat();
    expect(texts(all)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    const [first] = all;
    expect(first!.key).toBe(stream);
    expect(first!.attributes).toEqual({ n: '0' });
    expect(first!.deliveries).toBe(1);
    expect(first!.publishedAt).toBe(Number(first!.id.split('-')[0]));
    expect(Math.abs(first!.publishedAt! - Date.now())).toBeLessThan(60_000);
    expect(await pendingOf(stream)).toBe(25);
  });

  it('waits about a second when there is nothing, and up to windowMs to fill a batch once one entry came', async () => {
    const stream = await newStream();
    const source = await open(stream);
    let started = Date.now();
    expect(await source.pull(10, 0)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3_000);

    const batch = source.pull(5, 20_000);
    await add(stream, 1, 0);
    await waitFor('the first entry taken', async () => (await pendingOf(stream)) === 1);
    await add(stream, 4, 1);
    started = Date.now();
    expect(texts(await batch)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(Date.now() - started).toBeLessThan(5_000); // full: did not wait out the 20 s window

    const partial = source.pull(5, 700);
    await add(stream, 2, 5);
    expect(texts(await partial)).toEqual(['m5', 'm6']);
  });

  it('forgets acked entries and never hands a held entry over twice', async () => {
    const stream = await newStream(6);
    const source = await open(stream);
    const batch = await source.pull(4, 0);
    await source.ack(batch.slice(0, 3));
    expect(await pendingOf(stream)).toBe(1);
    expect(texts(await source.pull(10, 0))).toEqual(['m4', 'm5']);
    await source.ack([batch[3]!]);
    expect(await pendingOf(stream)).toBe(2);
  });

  it('hands entries a closed source took and never acked to the next source of that consumer name, ids unchanged', async () => {
    const stream = await newStream(5);
    const first = await open(stream);
    const taken = await first.pull(10, 0);
    await first.close();
    await expect(first.pull(1, 0)).rejects.toBeInstanceOf(SourceError);
    // An entry the dead holder took, deleted from the stream since: dropped from the pending list, not handed over.
    const [gone] = await add(stream, 1, 5);
    await redis.xreadgroup('GROUP', 'hearth', 'trigger-1', 'COUNT', 1, 'STREAMS', stream, '>');
    await redis.xdel(stream, gone!);
    await add(stream, 2, 6);
    const second = await open(stream);
    const again = await second.pull(10, 0);
    expect(again.slice(0, 5).map((m) => m.id)).toEqual(taken.map((m) => m.id));
    expect(again.slice(0, 5).every((m) => m.deliveries === 2)).toBe(true);
    expect(texts(again.slice(5))).toEqual(['m6', 'm7']);
    expect(again.slice(5).every((m) => m.deliveries === 1)).toBe(true);
    expect(await second.pull(10, 0)).toEqual([]);
    await second.ack(again);
    expect(await pendingOf(stream)).toBe(0);
    const other = await open(stream, {}, 'trigger-2');
    expect(await other.pull(10, 0)).toEqual([]); // another consumer name gets nothing held by trigger-1
  });

  it('touch keeps held entries from another consumer\'s XAUTOCLAIM', async () => {
    const stream = await newStream(4);
    const source = await open(stream);
    const batch = await source.pull(10, 0);
    await waitFor('entries idle 300 ms', async () => {
      const rows = (await redis.xpending(stream, 'hearth', '-', '+', 10)) as [string, string, number, number][];
      return rows.length === 4 && rows.every((row) => row[2] >= 300);
    });
    await source.touch(batch.slice(0, 2));
    const [, claimed] = (await redis.xautoclaim(stream, 'hearth', 'thief', 300, '0-0', 'COUNT', 10)) as [string, [string, string[]][]];
    expect(claimed.map(([id]) => id)).toEqual(batch.slice(2).map((m) => m.id));
    const owners = (await redis.xpending(stream, 'hearth', '-', '+', 10)) as [string, string][];
    expect(owners.map(([, consumer]) => consumer)).toEqual(['trigger-1', 'trigger-1', 'thief', 'thief']);
  });

  it('takes over entries another consumer left idle over 60 s', async () => {
    const stream = await newStream(3);
    await redis.xgroup('CREATE', stream, 'hearth', '0');
    const read = (await redis.xreadgroup('GROUP', 'hearth', 'old-gateway', 'COUNT', 2, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
    const ids = read[0]![1].map(([id]) => id);
    await redis.xclaim(stream, 'hearth', 'old-gateway', 0, ...ids, 'IDLE', 120_000, 'JUSTID');
    const source = await open(stream);
    const batch = await source.pull(10, 0);
    expect(texts(batch)).toEqual(['m0', 'm1', 'm2']);
    expect(batch.map((m) => m.deliveries)).toEqual([2, 2, 1]);
    const owners = (await redis.xpending(stream, 'hearth', '-', '+', 10)) as [string, string][];
    expect(owners.every(([, consumer]) => consumer === 'trigger-1')).toBe(true);
  });

  it('dead-letters entries whole to the dead-letter stream with reason and source id, and says false without one', async () => {
    const stream = await newStream(0);
    const dlq = name('dlq');
    await redis.xadd(stream, '*', 'body', 'bad', 'kind', 'order', 'trace', 'abc');
    await redis.xadd(stream, '*', 'body', 'trimmed', 'kind', 'x');
    const source = await open(stream, { deadLetter: dlq });
    const batch = await source.pull(10, 0);
    await redis.xdel(stream, batch[1]!.id); // gone from the stream: written from what the source held
    expect(await source.deadLetter(batch, 'function failed 3 times')).toBe(true);
    const letters = (await redis.xrange(dlq, '-', '+')) as [string, string[]][];
    expect(letters.map(([, fields]) => fields)).toEqual([
      ['body', 'bad', 'kind', 'order', 'trace', 'abc', 'hearth-reason', 'function failed 3 times', 'hearth-source-id', batch[0]!.id],
      ['body', 'trimmed', 'kind', 'x', 'hearth-reason', 'function failed 3 times', 'hearth-source-id', batch[1]!.id],
    ]);
    const plain = await open(await newStream(1), {}, 'trigger-3');
    expect(await plain.deadLetter(await plain.pull(1, 0), 'x')).toBe(false);
  });

  it('starts a new group at the end of the stream for start: latest and at its beginning for earliest', async () => {
    const stream = await newStream(2);
    const latest = await open(stream, { group: 'g-latest', start: 'latest' });
    const earliest = await open(stream, { group: 'g-earliest', start: 'earliest' });
    await add(stream, 1, 2);
    expect(texts(await latest.pull(10, 0))).toEqual(['m2']);
    expect(texts(await earliest.pull(10, 0))).toEqual(['m0', 'm1', 'm2']);
  });

  it('reports lag: entries the group has not taken yet', async () => {
    const stream = name('lag');
    await add(stream, 5);
    const source = await open(stream);
    expect(await source.lag()).toBe(5);
    await source.pull(2, 0);
    expect(await source.lag()).toBe(3);
  });

  it('checks settings with sentences a user understands, never showing the password', async () => {
    const stream = await newStream(1);
    await expect(checkRedisStreamSettings(settings(stream))).resolves.toBeUndefined();
    const missing = `hearth-test-missing-${randomBytes(4).toString('hex')}`;
    await expect(checkRedisStreamSettings(settings(missing))).rejects.toThrow(`redis-stream: stream "${missing}" does not exist on 127.0.0.1:6379`);
    await expect(openRedisStreamSource(settings(missing), { consumer: 'c' })).rejects.toBeInstanceOf(SourceError);
    expect(await redis.exists(missing)).toBe(0); // never created for the user
    const text = name('text');
    await redis.set(text, 'x');
    await expect(checkRedisStreamSettings(settings(text))).rejects.toThrow(`stream "${text}" on 127.0.0.1:6379 is a string, not a stream`);
    await expect(checkRedisStreamSettings(settings(stream, { deadLetter: text }))).rejects.toThrow('dead-letter stream');
    const started = Date.now();
    const refused = await checkRedisStreamSettings(settings(stream, { url: 'redis://app:s3cr3t-pass@127.0.0.1:1' })).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(SourceError);
    expect((refused as Error).message).toMatch(/^redis-stream: cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect((refused as Error).message).not.toContain('s3cr3t');
    expect(Date.now() - started).toBeLessThan(3_500);
  });

  it('cuts a 100 MB field on the server: the process never holds it whole, and the source goes on', async () => {
    const stream = await newStream(0);
    const source = await open(stream);
    // 100 MB built inside Redis (SETRANGE pads with zero bytes), so this process never has it either.
    const zeros = name('zeros');
    await redis.setrange(zeros, 100 * 1024 * 1024 - 1, '\0');
    const before = process.memoryUsage().arrayBuffers;
    await redis.eval(`redis.call('XADD', KEYS[1], '*', 'body', redis.call('GET', KEYS[2]), 'meta', string.rep('y', 5000))`, 2, stream, zeros);
    let started = Date.now();
    const [big] = await source.pull(10, 0);
    console.log(`redis-stream: pull of a 100 MB entry took ${Date.now() - started} ms`);
    expect(big!.body.length).toBe(MAX_BODY_BYTES);
    expect(big!.deliveries).toBe(2); // the plain read was cut off; the take script cut it on the server
    expect(big!.attributes).toEqual({ meta: 'y'.repeat(1024), 'hearth-truncated': 'true' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(40 * 1024 * 1024);
    await source.ack([big!]);
    // Arriving while a pull waits: the wake-up read is cut off, the entry is taken cut to size.
    const waiting = source.pull(10, 0);
    await redis.eval(`redis.call('XADD', KEYS[1], '*', 'blob', redis.call('GET', KEYS[2]))`, 2, stream, zeros);
    started = Date.now();
    const [blob] = await waiting;
    console.log(`redis-stream: wake-up and pull of a 100 MB entry took ${Date.now() - started} ms after the XADD`);
    expect(blob!.body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(blob!.body.subarray(0, 9).toString()).toBe('{"blob":"');
    expect(blob!.attributes['hearth-truncated']).toBe('true');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(60 * 1024 * 1024);
    await add(stream, 1);
    expect(texts(await source.pull(10, 0))).toEqual(['m0']);
  }, 90_000);

  it('rejects with SourceError while Redis is away, then goes on without handing a held entry over twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-redis-stream-'));
    const server = await RedisServer.start(dir, join(dir, 'redis.log'), { appendfsync: 'always' });
    const admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    try {
      const stream = `hearth-test-away-${randomBytes(4).toString('hex')}`;
      for (const body of ['a', 'b']) await admin.xadd(stream, '*', 'body', body);
      const source = await openRedisStreamSource(settings(stream, { url: server.url }), { consumer: 'c' });
      sources.push(source);
      const held = await source.pull(10, 0);
      expect(texts(held)).toEqual(['a', 'b']);
      await server.stop();
      await expect(source.pull(10, 0)).rejects.toBeInstanceOf(SourceError);
      await expect(source.ack(held)).rejects.toBeInstanceOf(SourceError);
      await server.start();
      await waitFor('admin reconnected', async () => (await admin.xadd(stream, '*', 'body', 'c')) !== null);
      const got: SourceMessage[] = [];
      await waitFor('the source reconnected', async () => {
        got.push(...(await source.pull(10, 0)));
        return got.length > 0;
      });
      expect(texts(got)).toEqual(['c']);
      await source.ack([...held, ...got]);
      expect((await admin.xpending(stream, 'hearth'))[0]).toBe(0);
    } finally {
      admin.disconnect();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes back, whole and in order, the entries of a read cut off for size (1 MB entries, batches of 100)', async () => {
    const stream = await newStream(0);
    const bodies = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1024 * 1024, 97 + i));
    for (const body of bodies) await redis.xadd(stream, '*', 'body', body);
    const source = await open(stream);
    const all: SourceMessage[] = [];
    for (let pulls = 0; all.length < 20 && pulls < 50; pulls++) all.push(...(await source.pull(100, 0)));
    expect(all.map((m) => m.body.toString('latin1', 0, 1))).toEqual(bodies.map((b) => b.toString('latin1', 0, 1)));
    expect(all.every((m, i) => m.body.equals(bodies[i]!) && m.attributes['hearth-truncated'] === undefined)).toBe(true);
    expect(all.some((m) => m.deliveries === 2)).toBe(true); // taken back after the cut-off read
    await source.ack(all);
    expect(await pendingOf(stream)).toBe(0);
  });

  it('hands over binary bodies byte for byte and bounds an entry of 10,000 fields', async () => {
    const stream = await newStream(0);
    const dlq = name('dlq');
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x7f]);
    await redis.xadd(stream, '*', 'body', binary, '__proto__', 'p', 'bin', Buffer.from([0xc3]));
    const many = Array.from({ length: 10_000 }, (_, i) => [`f${i}`, `v${i}`]).flat();
    await redis.xadd(stream, '*', ...many);
    await redis.xadd(stream, '*', 'body', 'b', ...many);
    const source = await open(stream, { deadLetter: dlq });
    const [bin, wide, wideWithBody] = await source.pull(10, 0);
    expect(bin!.body.equals(binary)).toBe(true);
    expect(Object.keys(bin!.attributes)).toEqual(['__proto__', 'bin']);
    const record = redisStreamEvent([bin!], { stream, group: 'hearth' }).Records[0]!;
    expect(record).toMatchObject({ body: binary.toString('base64'), bodyEncoding: 'base64' });
    const fields = JSON.parse(wide!.body.toString()) as Record<string, string>;
    expect(Object.keys(fields)).toHaveLength(10_000);
    expect(fields.f9999).toBe('v9999');
    expect(Object.keys(wideWithBody!.attributes)).toHaveLength(64);
    expect(wideWithBody!.attributes['hearth-truncated']).toBe('true');
    expect(await source.deadLetter([wide!], 'too wide')).toBe(true);
    const letter = ((await redis.xrange(dlq, '-', '+')) as [string, string[]][])[0]![1];
    expect(letter!.length).toBe(7_800 + 6);
    expect(letter!.slice(-6)).toEqual(['hearth-truncated', 'true', 'hearth-reason', 'too wide', 'hearth-source-id', wide!.id]);
  });

  it('publishes the body and headers (as h- fields) to a stream', async () => {
    const stream = name('out');
    const publisher = await openRedisStreamPublisher(URL_, stream);
    await publisher.publish(Buffer.from('{"ok":true}'), { source: 'fn', 'content-type': 'application/json' });
    await publisher.close();
    const fields = ((await redis.xrange(stream, '-', '+')) as [string, string[]][])[0]![1];
    expect(fields).toEqual(['body', '{"ok":true}', 'h-source', 'fn', 'h-content-type', 'application/json']);
  });

  it('measures pull + ack of 10,000 entries in batches of 100 against a bare XREADGROUP + XACK loop', async () => {
    const stream = await newStream(0);
    for (let i = 0; i < 10_000; i += 1_000) await add(stream, 1_000, i);
    await redis.xgroup('CREATE', stream, 'bare', '0');
    let started = performance.now();
    let bare = 0;
    for (;;) {
      const reply = (await redis.xreadgroup('GROUP', 'bare', 'c', 'COUNT', 100, 'STREAMS', stream, '>')) as [string, [string, string[]][]][] | null;
      if (!reply) break;
      const ids = reply[0]![1].map(([id]) => id);
      await redis.xack(stream, 'bare', ...ids);
      bare += ids.length;
    }
    const bareMs = performance.now() - started;
    const source = await open(stream);
    started = performance.now();
    let count = 0;
    const seen = new Set<string>();
    while (count < 10_000) {
      const batch = await source.pull(100, 0);
      for (const m of batch) seen.add(m.id);
      await source.ack(batch);
      count += batch.length;
    }
    const sourceMs = performance.now() - started;
    console.log(`redis-stream 10,000 entries, batches of 100: source ${Math.round(10_000 / (sourceMs / 1000))} msg/s (${sourceMs.toFixed(0)} ms), bare XREADGROUP+XACK ${Math.round(bare / (bareMs / 1000))} msg/s (${bareMs.toFixed(0)} ms)`);
    expect(bare).toBe(10_000);
    expect(seen.size).toBe(10_000);
    expect(await pendingOf(stream)).toBe(0);
  });
});
