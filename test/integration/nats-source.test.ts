/**
 * The NATS JetStream source against a real server (nats://127.0.0.1:4222):
 * batches and windows, acks, hand-back on close and on a killed connection,
 * touch against ack_wait, filters, dead letters, lag and the settings check.
 * Hostile messages, sizes and throughput are nats-source-limits.test.ts's.
 * Each test makes its own stream (`<name>.>`) and deletes it.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { connect, headers as natsHeaders, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SourceError, type EventSource, type SourceMessage } from '../../gateway/triggers/event-source.ts';
import { natsSettings, type NatsSettings } from '../../gateway/triggers/trigger-settings.ts';
import { checkNatsSettings, openNatsPublisher, openNatsSource } from '../../gateway/triggers/sources/nats-source.ts';
import { waitFor } from '../helpers/wait.ts';

const URL_ = 'nats://127.0.0.1:4222';
let nc: NatsConnection;
let jsm: JetStreamManager;
let cleanups: Array<() => Promise<unknown>> = [];
const warnings: string[] = [];
const log = { warn: (msg: string) => { warnings.push(msg); } };

beforeAll(async () => {
  nc = await connect({ servers: '127.0.0.1:4222' });
  jsm = await nc.jetstreamManager();
});
afterAll(async () => { await nc.drain(); });
afterEach(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
  cleanups = [];
});

/** A fresh stream capturing `<name>.>`, deleted after the test. */
async function makeStream(extra: Record<string, unknown> = {}): Promise<string> {
  const name = `hearth${randomBytes(5).toString('hex')}`;
  await jsm.streams.add({ name, subjects: [`${name}.>`], ...extra });
  cleanups.push(() => jsm.streams.delete(name));
  return name;
}

function settingsFor(stream: string, more: Partial<NatsSettings> = {}): NatsSettings {
  return natsSettings.parse({ type: 'nats', url: URL_, stream, ...more });
}

async function open(settings: NatsSettings, options: { durable?: string; ackWaitMs?: number } = {}): Promise<EventSource> {
  const source = await openNatsSource(settings, { durable: options.durable ?? 'hearth-test', log, ackWaitMs: options.ackWaitMs });
  cleanups.push(() => source.close());
  return source;
}

async function publish(subject: string, count: number, body = (i: number) => `m${i}`) {
  const js = nc.jetstream();
  for (let i = 0; i < count; i++) await js.publish(subject, new TextEncoder().encode(body(i)));
}

const seqs = (messages: SourceMessage[]) => messages.map((m) => Number(m.id.split(':').at(-1)));
const timed = async <T>(work: Promise<T>) => { const start = Date.now(); const value = await work; return { value, ms: Date.now() - start }; };
const ackPending = async (stream: string, durable = 'hearth-test') => (await jsm.consumers.info(stream, durable)).num_ack_pending;

describe('nats source: batches and windows', () => {
  it('hands over `max` at once when that many wait, in stream order, with ids, keys and times', async () => {
    const stream = await makeStream();
    await publish(`${stream}.orders`, 10);
    const source = await open(settingsFor(stream));
    const first = await timed(source.pull(5, 0));
    expect(seqs(first.value)).toEqual([1, 2, 3, 4, 5]);
    expect(first.ms).toBeLessThan(500);
    const m = first.value[0]!;
    expect(m.id).toBe(`${stream}:1`);
    expect(m.key).toBe(`${stream}.orders`);
    expect(m.body.toString()).toBe('m0');
    expect(m.attributes).toEqual({ subject: `${stream}.orders` });
    expect(m.deliveries).toBe(1);
    expect(Math.abs(m.publishedAt! - Date.now())).toBeLessThan(60_000);
    expect(seqs(await source.pull(100, 0))).toEqual([6, 7, 8, 9, 10]);
  });

  it('returns a lone message at once with no window, and nothing after about a second', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 1);
    const source = await open(settingsFor(stream));
    const lone = await timed(source.pull(10, 0));
    expect(seqs(lone.value)).toEqual([1]);
    expect(lone.ms).toBeLessThan(500);
    const none = await timed(source.pull(10, 0));
    expect(none.value).toEqual([]);
    expect(none.ms).toBeGreaterThanOrEqual(900);
    expect(none.ms).toBeLessThan(2500);
  });

  it('waits about the window after the first message, taking what arrives meanwhile', async () => {
    const stream = await makeStream();
    const source = await open(settingsFor(stream));
    await publish(`${stream}.a`, 1);
    const pulling = timed(source.pull(10, 1500));
    await publish(`${stream}.a`, 2);
    const { value, ms } = await pulling;
    expect(seqs(value)).toEqual([1, 2, 3]);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(3000);
    // A window under the client's one-second fetch minimum is kept too.
    await publish(`${stream}.a`, 1);
    const short = await timed(source.pull(10, 400));
    expect(seqs(short.value)).toEqual([4]);
    expect(short.ms).toBeGreaterThanOrEqual(350);
    expect(short.ms).toBeLessThan(1000);
  });

  it('stops waiting once the batch is full', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 10);
    const source = await open(settingsFor(stream));
    const { value, ms } = await timed(source.pull(10, 20_000));
    expect(value).toHaveLength(10);
    expect(ms).toBeLessThan(1000);
  });
});

describe('nats source: acks and hand-back', () => {
  it('acked messages are gone for the next holder', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 3);
    const source = await open(settingsFor(stream));
    const batch = await source.pull(10, 0);
    expect(await ackPending(stream)).toBe(3);
    await source.ack(batch);
    expect(await ackPending(stream)).toBe(0);
    await source.ack(batch); // twice is harmless
    await source.close();
    const next = await open(settingsFor(stream));
    expect(await next.pull(10, 0)).toEqual([]);
  });

  it('a source closed without ack hands its messages to the next holder at once', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 4);
    const source = await open(settingsFor(stream));
    const batch = await source.pull(3, 0);
    expect(seqs(batch)).toEqual([1, 2, 3]);
    await source.close();
    const next = await open(settingsFor(stream));
    // ack_wait is 30 s: these come from the close's naks.
    const { value, ms } = await timed(next.pull(10, 0));
    expect(seqs(value).sort()).toEqual([1, 2, 3, 4]);
    expect(ms).toBeLessThan(3000);
    expect(value.find((m) => m.id === `${stream}:1`)!.deliveries).toBe(2);
    await next.ack(value);
    expect(await ackPending(stream)).toBe(0);
  });

  it('a killed connection fails a pull at once; its messages come back to the next holder after ack_wait', async () => {
    const stream = await makeStream();
    const proxy = await tcpProxy(4222);
    cleanups.push(() => proxy.kill());
    await publish(`${stream}.a`, 2);
    const settings = settingsFor(stream, { url: `nats://127.0.0.1:${proxy.port}` });
    const source = await open(settings, { ackWaitMs: 2000 });
    expect(seqs(await source.pull(2, 0))).toEqual([1, 2]);
    const pulling = source.pull(10, 0);
    const failed = pulling.then(() => null, (err: unknown) => ({ err, at: Date.now() }));
    await waitFor('the pull to be waiting', async () => (await jsm.consumers.info(stream, 'hearth-test')).num_waiting > 0, 5000, 20);
    const killedAt = Date.now();
    proxy.kill();
    const outcome = await failed;
    expect(outcome?.err).toBeInstanceOf(SourceError);
    expect(outcome!.at - killedAt).toBeLessThan(500);
    await expect(source.pull(1, 0)).rejects.toBeInstanceOf(SourceError);
    await expect(source.ack([])).resolves.toBeUndefined();
    const next = await open(settingsFor(stream), { ackWaitMs: 2000 });
    const again: SourceMessage[] = [];
    await waitFor('the redelivery', async () => { again.push(...await next.pull(10, 0)); return again.length >= 2; }, 10_000, 10);
    expect(seqs(again).sort()).toEqual([1, 2]);
    expect(again.every((m) => m.deliveries === 2)).toBe(true);
  });

  it('after a blip the connection comes back: held messages can still be acked and pulls work again', async () => {
    const stream = await makeStream();
    const proxy = await tcpProxy(4222);
    cleanups.push(() => proxy.kill());
    await publish(`${stream}.a`, 3);
    const source = await open(settingsFor(stream, { url: `nats://127.0.0.1:${proxy.port}` }));
    const before = await source.pull(2, 0);
    proxy.cut();
    await expect(source.pull(10, 0)).rejects.toBeInstanceOf(SourceError);
    let after: SourceMessage[] = [];
    await waitFor('pulls to work again', async () => { after = await source.pull(10, 0); return after.length > 0; }, 10_000, 50);
    expect(seqs(after)).toEqual([3]);
    await source.ack([...before, ...after]);
    expect(await ackPending(stream)).toBe(0);
  });

  it('a close while a pull waits ends the pull with a SourceError and hands nothing out', async () => {
    const stream = await makeStream();
    const source = await open(settingsFor(stream));
    const pulling = source.pull(10, 0).then(() => 'resolved', (err: unknown) => err);
    await waitFor('the pull to be waiting', async () => (await jsm.consumers.info(stream, 'hearth-test')).num_waiting > 0, 5000, 20);
    await source.close();
    expect(await pulling).toBeInstanceOf(SourceError);
    await expect(source.pull(1, 0)).rejects.toThrow(/closed/);
  });

  it('touch keeps a held message from redelivery past ack_wait; without it the message comes back', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 1);
    const holder = await open(settingsFor(stream), { ackWaitMs: 2000 });
    const other = await open(settingsFor(stream), { ackWaitMs: 2000 });
    const [held] = await holder.pull(1, 0);
    expect(held).toBeDefined();
    const until = Date.now() + 6000; // three times ack_wait
    while (Date.now() < until) {
      await holder.touch([held!]);
      expect(await other.pull(10, 0)).toEqual([]); // about a second each
    }
    // Not touched any more: ack_wait runs out and the other reader gets it again.
    let back: SourceMessage[] = [];
    await waitFor('the redelivery', async () => { back = await other.pull(10, 0); return back.length > 0; }, 10_000, 10);
    expect(back[0]!.id).toBe(held!.id);
    expect(back[0]!.deliveries).toBe(2);
  });
});

describe('nats source: consumer settings', () => {
  it('reads only the filter subject, and follows a changed filter on the same durable', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 2);
    await publish(`${stream}.b`, 2);
    const onA = await open(settingsFor(stream, { subject: `${stream}.a` }));
    const a = await onA.pull(10, 0);
    expect(a.map((m) => m.key)).toEqual([`${stream}.a`, `${stream}.a`]);
    await onA.ack(a);
    expect(await onA.lag()).toBe(0);
    await onA.close();
    const onB = await open(settingsFor(stream, { subject: `${stream}.b` }));
    expect(warnings.some((w) => w.includes('updating'))).toBe(true);
    expect((await jsm.consumers.info(stream, 'hearth-test')).config.filter_subject).toBe(`${stream}.b`);
    expect((await onB.pull(10, 0)).map((m) => m.key)).toEqual([`${stream}.b`, `${stream}.b`]);
  });

  it('creates the consumer with explicit acks and room for every batch in flight; the durable setting wins', async () => {
    const stream = await makeStream();
    await open(settingsFor(stream, { durable: 'mine', batchSize: 500, maxConcurrency: 4 }));
    const ci = await jsm.consumers.info(stream, 'mine');
    expect(ci.config.ack_policy).toBe('explicit');
    expect(ci.config.deliver_policy).toBe('all');
    expect(ci.config.max_ack_pending).toBeGreaterThanOrEqual(2000);
    expect(ci.config.ack_wait).toBe(30_000_000_000);
  });

  it('refuses a push consumer of the same name', async () => {
    const stream = await makeStream();
    await jsm.consumers.add(stream, { durable_name: 'pushy', deliver_subject: `${stream}-deliver`, ack_policy: 'explicit' as never });
    await expect(openNatsSource(settingsFor(stream, { durable: 'pushy' }), { durable: 'x' })).rejects.toThrow(/push consumer/);
    await expect(checkNatsSettings(settingsFor(stream, { durable: 'pushy' }))).rejects.toThrow(/push consumer/);
  });

  it('reports lag as messages not yet taken', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 5);
    const source = await open(settingsFor(stream));
    expect(await source.lag()).toBe(5);
    await source.pull(2, 0);
    expect(await source.lag()).toBe(3);
  });
});

describe('nats source: dead letters and publishing', () => {
  it('puts dead letters on the deadLetter subject with their headers and the reason, awaiting the PubAck', async () => {
    const stream = await makeStream();
    const dlq = await makeStream();
    const h = natsHeaders();
    h.set('X-Order', '42');
    h.set('Nats-Expected-Stream', stream); // would fail the dead-letter publish if copied
    await nc.jetstream().publish(`${stream}.a`, new Uint8Array([0xff, 0x00, 0x01]), { headers: h });
    const source = await open(settingsFor(stream, { deadLetter: `${dlq}.dead` }));
    const batch = await source.pull(10, 0);
    expect(await source.deadLetter(batch, 'failed 3 times:\r\nTypeError')).toBe(true);
    await source.deadLetter(batch, 'again'); // a retry is dropped by the duplicate window
    await source.ack(batch);
    expect((await jsm.streams.info(dlq)).state.messages).toBe(1);
    const dead = await jsm.streams.getMessage(dlq, { seq: 1 });
    expect([...dead.data]).toEqual([0xff, 0x00, 0x01]);
    expect(dead.header.get('X-Order')).toBe('42');
    expect(dead.header.get('Hearth-Reason')).toBe('failed 3 times: TypeError');
    expect(dead.header.get('Hearth-Subject')).toBe(`${stream}.a`);
    expect(dead.header.get('Nats-Expected-Stream')).toBe('');
    const none = await open(settingsFor(stream), { durable: 'other' });
    expect(await none.deadLetter(batch, 'x')).toBe(false);
  });

  it('a dead letter to a subject no stream captures fails with a SourceError', async () => {
    const stream = await makeStream();
    await publish(`${stream}.a`, 1);
    const source = await open(settingsFor(stream, { deadLetter: `nowhere${randomBytes(4).toString('hex')}` }));
    const batch = await source.pull(1, 0);
    await expect(source.deadLetter(batch, 'x')).rejects.toBeInstanceOf(SourceError);
  });

  it('the publisher resolves on the PubAck and fails for an uncaptured subject', async () => {
    const stream = await makeStream();
    const publisher = await openNatsPublisher(URL_, `${stream}.out`);
    cleanups.push(() => publisher.close());
    await publisher.publish(Buffer.from('hello'), { 'X-A': '1', 'bad key': 'dropped', 'X-B': 'line\r\nbreak' });
    const got = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(new TextDecoder().decode(got.data)).toBe('hello');
    expect(got.header.get('X-B')).toBe('line break');
    const lost = await openNatsPublisher(URL_, `nowhere${randomBytes(4).toString('hex')}`);
    cleanups.push(() => lost.close());
    await expect(lost.publish(Buffer.from('x'), {})).rejects.toBeInstanceOf(SourceError);
  });
});

describe('nats settings check', () => {
  it('passes for a stream that exists and names what is wrong otherwise', async () => {
    const stream = await makeStream();
    await expect(checkNatsSettings(settingsFor(stream))).resolves.toBeUndefined();
    await expect(checkNatsSettings(settingsFor('nosuchstream'))).rejects.toThrow('nats: stream "nosuchstream" does not exist on 127.0.0.1:4222');
    await expect(openNatsSource(settingsFor('nosuchstream'), { durable: 'x' })).rejects.toThrow('nats: stream "nosuchstream" does not exist on 127.0.0.1:4222');
    await expect(checkNatsSettings(settingsFor(stream, { deadLetter: `${stream}.dead` }))).rejects.toThrow(/would come back/);
    await expect(checkNatsSettings(settingsFor(stream, { subject: `${stream}.in`, deadLetter: `${stream}.dead` }))).resolves.toBeUndefined();
    await expect(checkNatsSettings(settingsFor(stream, { deadLetter: `unclaimed${randomBytes(3).toString('hex')}` }))).rejects.toThrow(/no stream/);
    await expect(checkNatsSettings(settingsFor(stream, { deadLetter: 'dead.*' }))).rejects.toThrow(/without wildcards/);
    await expect(checkNatsSettings(settingsFor(stream, { subject: `${stream}.*.eu` }))).resolves.toBeUndefined();
    await expect(checkNatsSettings(settingsFor(stream, { subject: 'elsewhere.>' }))).rejects.toThrow(`nats: subject "elsewhere.>" matches none of stream "${stream}"'s subjects (${stream}.>)`);
    await expect(checkNatsSettings(settingsFor(stream, { subject: stream }))).rejects.toThrow(/matches none/);
  });

  it('an unreachable broker is a SourceError naming host:port, never the password', async () => {
    const started = Date.now();
    const err = await checkNatsSettings(settingsFor('s', { url: 'nats://alice:s3cret-pass@127.0.0.1:1' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(String((err as Error).message)).toContain('127.0.0.1:1');
    expect(String((err as Error).message)).not.toContain('s3cret');
    expect(Date.now() - started).toBeLessThan(4000);
    const token = await openNatsSource(settingsFor('s', { url: 'nats://tok3n-value@127.0.0.1:1' }), { durable: 'x' }).catch((e: unknown) => e);
    expect(token).toBeInstanceOf(SourceError);
    expect(String((token as Error).message)).not.toContain('tok3n');
  });
});

/** A TCP relay to `port`: `cut` drops every connection (a blip), `kill` also stops listening (the broker vanishes). */
async function tcpProxy(port: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => { for (const s of sockets) s.destroy(); },
    kill: async () => { server.close(); for (const s of sockets) s.destroy(); },
  };
}
