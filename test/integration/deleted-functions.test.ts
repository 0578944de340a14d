/**
 * A worker's view of the tombstones on real Redis, each test with its own
 * key prefix: once it has listed the tombstones and hears its own echo, a
 * check needs no round trip; a deletion is heard the moment it is written;
 * tombstones written while its connection was down are found (read per call
 * meanwhile, listed once back); and a subscription that goes deaf without
 * dropping stops vouching within its deadline, so checks read Redis again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { createDeletedFunctions, createFunctionTombstones, type DeletedFunctions } from '../../worker/common/redis/deleted-functions.ts';
import { openRedis, type RedisBehaviour } from '../../worker/common/redis/redis-client.ts';
import { silentLogger } from '../../worker/common/logger.ts';
import { waitFor } from '../helpers/wait.ts';

let clients: Redis[] = [];
let views: DeletedFunctions[] = [];
const client = (name: string, behaviour: RedisBehaviour) => {
  const opened = openRedis(redisOptionsFromUrl(inject('redisUrl')), name, behaviour, {}, silentLogger);
  clients.push(opened);
  return opened;
};

afterEach(async () => {
  await Promise.all(views.map((v) => v.close()));
  for (const c of clients) c.disconnect();
  views = [];
  clients = [];
});

/** A gateway's tombstones on `prefix`, once its client (which refuses commands while not connected) is ready. */
async function gatewayTombstones(prefix: string) {
  const keys = client('gateway keys', 'immediate');
  if (keys.status !== 'ready') await new Promise((resolve) => keys.once('ready', resolve));
  return createFunctionTombstones(keys, prefix);
}

/** A worker's view on a fresh prefix, with the commands it sends to Redis counted; `timings` as the worker's unless given. */
function open(prefix = `hearth-test-${randomBytes(4).toString('hex')}`, timings?: { echoMs: number; deafAfterMs: number }) {
  const commands = client('worker commands', 'commands');
  const subscriber = client('control subscriber', 'waiting');
  const sent: string[] = [];
  const send = commands.sendCommand.bind(commands);
  commands.sendCommand = ((command: { name: string }) => {
    sent.push(command.name);
    return send(command as Parameters<typeof send>[0]);
  }) as typeof commands.sendCommand;
  const view = createDeletedFunctions(commands, subscriber, prefix, timings);
  views.push(view);
  return { prefix, view, sent, commands, subscriber, gateway: () => gatewayTombstones(prefix) };
}

describe('deleted functions, as a worker sees them', () => {
  it('answers locally once it vouches, and hears a deletion as it is written', async () => {
    const { view, sent, gateway } = open();
    await waitFor('the view to vouch', () => view.vouches(), 10_000, 10);
    const before = sent.filter((c) => c === 'exists').length;
    for (let i = 0; i < 50; i++) expect(await view.isDeleted(randomUUID())).toBe(false);
    expect(sent.filter((c) => c === 'exists').length).toBe(before);

    const gone = randomUUID();
    await (await gateway()).markDeleted(gone);
    await waitFor('the deletion to be heard', () => view.isDeleted(gone), 2000, 1);
    expect(await view.isDeleted(randomUUID())).toBe(false);
  });

  it('finds tombstones that were there before it started', async () => {
    const prefix = `hearth-test-${randomBytes(4).toString('hex')}`;
    const earlier = await gatewayTombstones(prefix);
    const old = randomUUID();
    await earlier.markDeleted(old);
    const { view } = open(prefix);
    // Before it vouches a check reads Redis; after, the listing has it.
    expect(await view.isDeleted(old)).toBe(true);
    await waitFor('the view to vouch', () => view.vouches(), 10_000, 10);
    const other = open(prefix).view;
    await waitFor('a second view to vouch', () => other.vouches(), 10_000, 10);
    expect(await other.isDeleted(old)).toBe(true);
  });

  it('reads Redis while its connection is down, and lists what it missed once back', async () => {
    const { view, subscriber, commands, prefix } = open();
    await waitFor('the view to vouch', () => view.vouches(), 10_000, 10);
    const missed = randomUUID();
    // The connection drops; meanwhile a tombstone appears without a broadcast anyone hears.
    const dropped = new Promise<void>((resolve) => subscriber.once('close', () => resolve()));
    const reconnected = new Promise<void>((resolve) => subscriber.once('ready', () => resolve()));
    subscriber.disconnect(true);
    await dropped;
    expect(view.vouches()).toBe(false);
    await commands.set(`${prefix}:deleted-function:${missed}`, '1', 'EX', 60);
    expect(await view.isDeleted(missed)).toBe(true);
    await reconnected;
    await waitFor('the view to vouch again', () => view.vouches(), 10_000, 10);
    const alsoMissed = randomUUID();
    expect(await view.isDeleted(alsoMissed)).toBe(false);
  });

  it('stops vouching when it no longer hears its own echo, though the connection stays up', async () => {
    const { view, subscriber, commands, prefix } = open(undefined, { echoMs: 100, deafAfterMs: 400 });
    await waitFor('the view to vouch', () => view.vouches(), 10_000, 10);
    // Deaf: still connected, no longer subscribed. A tombstone written now is not heard.
    await subscriber.unsubscribe(`${prefix}:tombstones`);
    const unheard = randomUUID();
    await commands.set(`${prefix}:deleted-function:${unheard}`, '1', 'EX', 60);
    await waitFor('the view to stop vouching', () => !view.vouches(), 5000, 10);
    expect(await view.isDeleted(unheard)).toBe(true);
  });

  it('ignores what is not a function id on its channel', async () => {
    const { view, commands, prefix } = open();
    await waitFor('the view to vouch', () => view.vouches(), 10_000, 10);
    const forged = 'x'.repeat(70);
    await commands.publish(`${prefix}:tombstones`, forged);
    await commands.publish(`${prefix}:tombstones`, 'echo:someone-else');
    const id = randomUUID();
    await commands.publish(`${prefix}:tombstones`, id);
    await waitFor('the id to be heard', () => view.isDeleted(id), 2000, 1);
    expect(await view.isDeleted(forged)).toBe(false);
  });
});
