/**
 * A source trigger runs in one place at a time: with two gateways, one holds
 * its lease and reads; when that gateway goes, the other takes the lease
 * within seconds and goes on reading, and no message is lost or recorded
 * twice across the hand-over. Real gateways, worker, RabbitMQ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { startExtraGateway, type ExtraGateway } from '../helpers/extra-gateway.ts';
import { amqpKit, type BrokerKit } from '../helpers/broker-kits.ts';
import { waitFor } from '../helpers/wait.ts';

const CONSUMER = 'exports.handler = async (event) => ({ seen: (event.Records || []).map((r) => r.body) });\n';

describe('a source trigger across two gateways', () => {
  let platform: Platform;
  let second: ExtraGateway;
  let kit: BrokerKit;
  const name = uniqueName('failover');

  beforeAll(async () => {
    kit = await amqpKit();
    platform = await startPlatform({ outboundAllowHosts: ['127.0.0.1'], triggerLeaseMs: 3000 });
    const res = await deploy(platform, name, { bytes: Buffer.from(CONSUMER), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect(res.status, await res.clone().text()).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await second?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await second?.stop();
    await platform?.stop();
    await kit?.close();
  });

  const status = async (api: Platform['api']) => (await (await api(`/v1/functions/${name}/triggers/orders`)).json()).status;
  const seen = async () => {
    const { rows } = await platform.database.pool.query(`select result from invocations where function_name = $1 and status = 'succeeded'`, [name]);
    return rows.flatMap((row) => JSON.parse(row.result).seen as string[]);
  };

  it('is read by one gateway, taken over by the other when it goes, losing and repeating nothing', async () => {
    const put = await platform.api(`/v1/functions/${name}/triggers/orders`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'amqp', ...kit.settings, batchSize: 5, batchWindowMs: 50 }),
    });
    expect(put.status, await put.clone().text()).toBe(201);
    // The platform's gateway took the lease first (its PUT re-read the triggers at once); the second one waits.
    await waitFor('the platform gateway to hold the trigger', async () => (await status(platform.api)).state === 'running', 30_000, 100);
    const firstHolder = (await status(platform.api)).holder as string;
    second = await startExtraGateway(platform, { outboundAllowHosts: ['127.0.0.1'], triggerLeaseMs: 3000 });

    for (let i = 0; i < 40; i++) await kit.publish(`before-${i}`);
    await waitFor('the first 40 to run', async () => (await seen()).length >= 40, 60_000, 200);
    // Still one reader: the second gateway never took it while the first renewed its lease.
    expect((await status(second.api)).holder).toBe(firstHolder);

    const publishing = (async () => {
      for (let i = 0; i < 40; i++) await kit.publish(`during-${i}`);
    })();
    await platform.stopGateway();
    await publishing;
    await waitFor(
      'the second gateway to hold it',
      async () => {
        const now = await status(second.api);
        return now.state === 'running' && now.holder !== firstHolder;
      },
      30_000,
      100,
    );
    await waitFor('every message to run', async () => new Set(await seen()).size === 80, 60_000, 200);
    const all = await seen();
    expect(all.length).toBe(80); // none recorded twice
    const expected = [...Array.from({ length: 40 }, (_, i) => `before-${i}`), ...Array.from({ length: 40 }, (_, i) => `during-${i}`)];
    expect(new Set(all)).toEqual(new Set(expected));
  }, 180_000);
});
