/**
 * The NATS JetStream source at its limits, against a real server
 * (nats://127.0.0.1:4222): hostile messages (too many and too long headers,
 * a spoofed subject, binary and near-max_payload bodies, a header block the
 * client would never write), a dead letter too big to keep its headers, and
 * the throughput of pull and ack against a bare client loop. Apart from
 * nats-source.test.ts so each file stays one concern; each test makes its
 * own stream (`<name>.>`) and deletes it.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { connect, headers as natsHeaders, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventSource, SourceMessage } from '../../gateway/triggers/event-source.ts';
import { natsSettings, type NatsSettings } from '../../gateway/triggers/trigger-settings.ts';
import { natsEvent, openNatsSource } from '../../gateway/triggers/sources/nats-source.ts';
import { waitFor } from '../helpers/wait.ts';

const URL_ = 'nats://127.0.0.1:4222';
let nc: NatsConnection;
let jsm: JetStreamManager;
let cleanups: Array<() => Promise<unknown>> = [];
const log = { warn: () => {} };

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

async function open(settings: NatsSettings): Promise<EventSource> {
  const source = await openNatsSource(settings, { durable: 'hearth-test', log });
  cleanups.push(() => source.close());
  return source;
}

const ackPending = async (stream: string, durable = 'hearth-test') => (await jsm.consumers.info(stream, durable)).num_ack_pending;

describe('nats source: hostile messages', () => {
  it('bounds headers, keeps binary and large bodies, and survives malformed headers', async () => {
    const stream = await makeStream();
    const many = natsHeaders();
    for (let i = 0; i < 200; i++) many.set(`X-H${i}`, 'v'.repeat(i === 0 ? 5000 : 10));
    many.set('subject', 'spoofed');
    const big = Buffer.alloc(nc.info!.max_payload - 16 * 1024, 0xab);
    const js = nc.jetstream();
    await js.publish(`${stream}.many`, new Uint8Array([0xc3, 0x28]), { headers: many });
    await js.publish(`${stream}.big`, big);
    await rawPublish(`${stream}.raw`, 'NATS/1.0\r\nbad key: v\r\nok: 1\r\n\r\n', 'raw');
    const source = await open(settingsFor(stream));
    const batch = await source.pull(10, 0);
    expect(batch.map((m) => m.key)).toEqual([`${stream}.many`, `${stream}.big`, `${stream}.raw`]);
    const [hostile, large, raw] = batch as [SourceMessage, SourceMessage, SourceMessage];
    expect(Object.keys(hostile.attributes)).toHaveLength(64);
    expect(hostile.attributes.subject).toBe(`${stream}.many`);
    expect(Buffer.byteLength(hostile.attributes['X-H0']!)).toBe(1024);
    expect([...hostile.body]).toEqual([0xc3, 0x28]);
    expect(large.body.equals(big)).toBe(true);
    expect(raw.body.toString()).toBe('raw');
    expect(raw.attributes.subject).toBe(`${stream}.raw`);
    const event = natsEvent(batch, { stream });
    expect(event.Records[0]).toMatchObject({ body: Buffer.from([0xc3, 0x28]).toString('base64'), bodyEncoding: 'base64' });
    await source.ack(batch);
    expect(await ackPending(stream)).toBe(0);
  });
});

describe('nats source: a dead letter too big', () => {
  it('goes without its original headers', async () => {
    const stream = await makeStream();
    const dlq = await makeStream();
    const h = natsHeaders();
    h.set('X-Pad', 'p'.repeat(1000));
    const body = Buffer.alloc(nc.info!.max_payload - 1100, 0x61);
    await nc.jetstream().publish(`${stream}.a`, body, { headers: h });
    const source = await open(settingsFor(stream, { deadLetter: `${dlq}.dead` }));
    const batch = await source.pull(1, 0);
    await source.deadLetter(batch, 'too big to keep everything');
    const dead = await jsm.streams.getMessage(dlq, { seq: 1 });
    expect(Buffer.from(dead.data).equals(body)).toBe(true);
    expect(dead.header.get('Hearth-Reason')).toBe('too big to keep everything');
    expect(dead.header.get('X-Pad')).toBe('');
  });
});

describe('nats source: throughput', () => {
  it('pulls and acks 10,000 messages in batches of 100, against a bare fetch and ack loop', async () => {
    const total = 10_000;
    const filled = async (extra: Record<string, unknown> = {}) => {
      const stream = await makeStream(extra);
      for (let i = 0; i < total; i++) nc.publish(`${stream}.a`, new TextEncoder().encode(`message ${i}`));
      await nc.flush();
      await waitFor('the stream to hold them', async () => (await jsm.streams.info(stream)).state.messages === total, 20_000);
      return stream;
    };
    const throughSource = async (stream: string) => {
      const source = await open(settingsFor(stream, { batchSize: 100 }));
      const seen = new Set<string>();
      const started = Date.now();
      while (seen.size < total) {
        const batch = await source.pull(100, 0);
        await source.ack(batch);
        for (const m of batch) seen.add(m.id);
      }
      const rate = total / ((Date.now() - started) / 1000);
      expect(seen.size).toBe(total);
      expect(await ackPending(stream)).toBe(0);
      return rate;
    };
    const plain = await filled();
    const sourceRate = await throughSource(plain);
    // With the stream's max_msg_size at 64 KiB a fetch may ask for a whole batch within the pull's byte budget.
    const smallRate = await throughSource(await filled({ max_msg_size: 64 * 1024 }));

    await jsm.consumers.add(plain, { durable_name: 'bare', ack_policy: 'explicit' as never, deliver_policy: 'all' as never, max_ack_pending: 1000 });
    const bare = await nc.jetstream().consumers.get(plain, 'bare');
    let count = 0;
    const started = Date.now();
    while (count < total) {
      const iter = await bare.fetch({ max_messages: 100, expires: 1000 });
      for await (const m of iter) { m.ack(); count++; }
    }
    await nc.flush();
    const bareRate = total / ((Date.now() - started) / 1000);
    console.log(`nats pull+ack of ${total} in batches of 100: ${Math.round(sourceRate)} messages/s through the source `
      + `(${Math.round(smallRate)} with max_msg_size 64 KiB), ${Math.round(bareRate)} with a bare fetch+ack loop`);
    expect((await jsm.consumers.info(plain, 'bare')).num_ack_pending).toBe(0);
  }, 120_000);
});

/** Publishes with a header block written by hand (the client refuses to write a bad one). */
async function rawPublish(subject: string, header: string, payload: string) {
  const socket = net.connect(4222, '127.0.0.1');
  const pong = new Promise<void>((resolve, reject) => {
    let seen = '';
    socket.on('data', (d) => { seen += d.toString(); if (seen.includes('PONG')) resolve(); if (seen.includes('-ERR')) reject(new Error(seen)); });
    socket.on('error', reject);
  });
  const total = Buffer.byteLength(header) + Buffer.byteLength(payload);
  socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\nHPUB ${subject} ${Buffer.byteLength(header)} ${total}\r\n${header}${payload}\r\nPING\r\n`);
  await pong;
  socket.destroy();
}
