/**
 * An event source mapping made with the AWS SDK against the real platform
 * and a real RabbitMQ queue: CreateEventSourceMapping (the queue named by
 * `arn:hearth:amqp:…`, the broker by SelfManagedEventSource) makes a
 * trigger whose messages run the function in batches, a failed one goes to
 * the dead letter the mapping names, Update pauses it and Delete removes
 * it, all read back through the SDK and Hearth's own API.
 */
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpKit, AMQP_URL, type BrokerKit } from '../helpers/broker-kits.ts';
import { ADMIN, ARN_PREFIX, REGION, createNode, failureOf, lambdaClients } from '../helpers/lambda-sdk.ts';
import { uniqueName, zipOf } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

/** Reports every body it saw, and those starting with "bad" as failed. */
const CONSUMER = `
exports.handler = async (event) => {
  const records = event.Records || [];
  return {
    seen: records.map((r) => r.body),
    batchItemFailures: records.filter((r) => String(r.body).startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId })),
  };
};
`;

describe('Lambda event source mappings on a RabbitMQ queue', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  let kit: BrokerKit;
  const sdk = lambdaClients(() => platform.url);
  const name = uniqueName('esm-amqp');

  beforeAll(async () => {
    kit = await amqpKit();
    platform = await startPlatform({ adminKey: ADMIN, outboundAllowHosts: ['127.0.0.1'] });
    lambda = sdk.clientWith('HEARTHDEFAULT', platform.apiKey);
    await createNode(lambda, name, { Code: { ZipFile: await zipOf({ 'index.js': CONSUMER }) } });
  }, 120_000);
  afterAll(async () => {
    sdk.destroyAll();
    await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await platform?.stop();
    await kit?.close();
  });

  /** Bodies seen by succeeded invocations of `trigger`. */
  const seenBodies = async (trigger: string) => {
    const { rows } = await platform.database.pool.query(`select result, mode, trigger from invocations where function_name = $1 and status = 'succeeded'`, [name]);
    for (const row of rows) expect(row).toMatchObject({ mode: 'event', trigger });
    return rows.flatMap((row) => (JSON.parse(row.result).seen as string[]).filter((b) => !b.startsWith('bad')));
  };

  it('runs the queue\'s messages through a mapping made with the SDK, dead-letters the failed one, pauses and deletes', async () => {
    const queue = kit.settings.queue as string;
    const deadLetter = kit.settings.deadLetter as string;
    const arn = `arn:hearth:amqp:${REGION}:000000000000:${queue}`;
    const created = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: name,
        EventSourceArn: arn,
        // Hearth's broker URL, in the shape of Lambda's self-managed Kafka endpoints.
        SelfManagedEventSource: { Endpoints: { URL: [AMQP_URL] } as never },
        BatchSize: 5,
        MaximumRetryAttempts: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: `arn:hearth:amqp:${REGION}:000000000000:${deadLetter}` } },
      }),
    );
    expect(created.$metadata.httpStatusCode).toBe(202);
    expect(created).toMatchObject({ EventSourceArn: arn, FunctionArn: `${ARN_PREFIX}${name}`, State: 'Creating', BatchSize: 5, MaximumRetryAttempts: 1 });
    expect(created.SelfManagedEventSource?.Endpoints).toEqual({ URL: ['amqp://guest:****@127.0.0.1:5672'] });
    expect(created.LastModified).toBeInstanceOf(Date);
    const uuid = created.UUID!;

    // The mapping is the function's trigger esm-<8 hex>, in Hearth's own API.
    const { triggers } = await (await platform.api(`/v1/functions/${name}/triggers`)).json();
    expect(triggers).toHaveLength(1);
    const trigger = triggers[0].name as string;
    expect(trigger).toMatch(/^esm-[0-9a-f]{8}$/);
    expect(triggers[0]).toMatchObject({ type: 'amqp', queue, deadLetter, batchSize: 5, maxRetries: 1, url: 'amqp://guest:****@127.0.0.1:5672' });
    const status = async () => (await (await platform.api(`/v1/functions/${name}/triggers/${trigger}`)).json()).status;
    await waitFor('the mapping to run', async () => (await status()).state === 'running', 30_000);
    expect((await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State).toBe('Enabled');

    const bodies = ['good-1', 'good-2', 'bad-3', 'good-4', 'good-5', 'good-6', 'good-7'];
    for (const body of bodies) await kit.publish(body);
    const good = bodies.filter((b) => b.startsWith('good'));
    await waitFor('every good message to run', async () => new Set(await seenBodies(trigger)).size === good.length, 60_000, 250);
    await waitFor('the bad one to be dead-lettered', async () => (await kit.deadLetters()).includes('bad-3'), 60_000, 250);
    expect(new Set(await seenBodies(trigger))).toEqual(new Set(good));
    await waitFor('the mapping to report its processing', async () => (await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).LastProcessingResult === 'OK', 30_000, 250);

    const listed = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: name }));
    expect(listed.EventSourceMappings?.map((m) => m.UUID)).toEqual([uuid]);
    const byArn = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: arn }));
    expect(byArn.EventSourceMappings?.map((m) => m.UUID)).toEqual([uuid]);

    // Paused: a message waits on the queue and runs once resumed.
    expect((await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }))).State).toBe('Disabling');
    await waitFor('the mapping to be idle', async () => (await status()).state === 'idle', 30_000, 200);
    expect((await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).State).toBe('Disabled');
    await kit.publish('good-while-paused');
    await waitFor('the message to wait on the queue', async () => (await kit.unacknowledged()) >= 1, 10_000, 100);
    expect(await seenBodies(trigger)).not.toContain('good-while-paused');
    expect((await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true, BatchSize: 2 }))).State).toBe('Enabling');
    await waitFor('the paused message to run once resumed', async () => (await seenBodies(trigger)).includes('good-while-paused'), 60_000, 250);

    const deleted = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    expect(deleted).toMatchObject({ UUID: uuid, State: 'Deleting' });
    expect((await failureOf(lambda.send(new GetEventSourceMappingCommand({ UUID: uuid })))).name).toBe('ResourceNotFoundException');
    expect((await (await platform.api(`/v1/functions/${name}/triggers`)).json()).triggers).toEqual([]);
  }, 180_000);

  it('refuses a queue that does not exist and an unknown function through the SDK', async () => {
    const missing = await failureOf(
      lambda.send(
        new CreateEventSourceMappingCommand({
          FunctionName: name,
          EventSourceArn: `arn:hearth:amqp:${REGION}:000000000000:${uniqueName('no-such-queue')}`,
          SelfManagedEventSource: { Endpoints: { URL: [AMQP_URL] } as never },
        }),
      ),
    );
    expect(missing).toMatchObject({ name: 'InvalidParameterValueException', $metadata: { httpStatusCode: 400 } });
    const unknown = await failureOf(
      lambda.send(new CreateEventSourceMappingCommand({ FunctionName: uniqueName('nope'), EventSourceArn: `arn:hearth:amqp:${REGION}:000000000000:q`, SelfManagedEventSource: { Endpoints: { URL: [AMQP_URL] } as never } })),
    );
    expect(unknown.name).toBe('ResourceNotFoundException');
  });
});
