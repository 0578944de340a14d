/**
 * Lambda's event source mappings over Hearth's triggers, in memory: Create,
 * Get, List, Update and DeleteEventSourceMapping, signed as the SDK signs.
 * A mapping is a trigger of its function (its UUID the trigger's id), made
 * through the trigger service, so the broker check runs (a fake broker
 * here that records what it was asked: host "unreachable" fails, a stream
 * or queue named "missing" does not exist) and a broker password is sealed,
 * never answered.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createCredentialSealer } from '../../gateway/lambda/credential-seal.ts';
import { SourceError } from '../../gateway/triggers/event-source.ts';
import type { SourceAdapter } from '../../gateway/triggers/source-adapters.ts';
import type { TriggerStatusBoard } from '../../gateway/triggers/trigger-leases.ts';
import { createTriggerService } from '../../gateway/triggers/trigger-service.ts';
import type { SourceSettings, TriggerBody } from '../../gateway/triggers/trigger-settings.ts';
import { ADMIN_KEY, PLATFORM_KEY, TENANT_KEY, accessKeyIdOf, createFakeGateway, type FakeGateway } from './fake-deps.ts';
import { createInMemoryTriggerStore } from './fakes/trigger-store.ts';
import { createTriggerStatusBoardInMemory } from './fakes/trigger-status.ts';
import { lambdaSigner } from '../helpers/sigv4-signer.ts';
import { ARN, REGION, expectJson, expectLambdaError, signedLambda } from './lambda-signed.ts';

const PASSWORD = 's3cret-pw-7781';
const REDIS_URL = `redis://hearth:${PASSWORD}@broker.example:6379/0`;
const AMQP_URL = `amqp://guest:${PASSWORD}@rabbit.example:5672/`;
const NATS_URL = 'nats://nats.example:4222';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MAPPINGS = '/2015-03-31/event-source-mappings/';
let g: FakeGateway;
let store: ReturnType<typeof createInMemoryTriggerStore>;
let status: TriggerStatusBoard;
/** Every settings the broker check was given (with the real URL). */
let checks: SourceSettings[];

beforeEach(async () => {
  g = await createFakeGateway();
  g.functions.seed('default', 'orders', {}, 2);
  g.functions.seed('default', 'billing');
  await g.functions.putAlias('default', 'orders', 'prod', { version: 1, weighted: null, description: '', minWarm: null });
  // The fake gateway's trigger service, rebuilt here to see what reached the broker check and the store.
  checks = [];
  store = createInMemoryTriggerStore(g.functions, createCredentialSealer({ apiKey: PLATFORM_KEY, adminKey: ADMIN_KEY }));
  status = createTriggerStatusBoardInMemory();
  const broker: SourceAdapter = {
    open: async () => Promise.reject(new SourceError('no brokers in API tests')),
    check: async (settings) => {
      checks.push(settings);
      // A broker error that quotes the URL it was given, secrets and all.
      if (new URL(settings.url).hostname === 'unreachable') throw new SourceError(`${settings.type}: cannot connect to ${settings.url}: ECONNREFUSED`);
      const name = 'stream' in settings ? settings.stream : 'queue' in settings ? settings.queue : settings.topic;
      if (name === 'missing') throw new SourceError(`${settings.type}: "missing" does not exist`);
    },
    eventOf: () => '{}',
  };
  g.deps.triggers = createTriggerService({
    ...{ store, status, adapters: { 'redis-stream': broker, amqp: broker, nats: broker }, refreshSources: async () => {} },
    schedules: { check: () => {}, apply: async () => ({ nextRunAt: null }), remove: async () => {} },
    outboundRefusal: async (url) => (url.hostname === '169.254.169.254' ? 'link-local addresses are not allowed' : null),
    functionTimeoutMs: async (ns, name) => (await g.functions.resolveVersion(ns, name))?.timeoutMs ?? null,
  });
});

const signed = signedLambda(() => g);
const redisArn = (stream: string) => `arn:hearth:redis-stream:${REGION}:000000000000:${stream}`;
const amqpArn = (queue: string) => `arn:hearth:amqp:${REGION}:000000000000:${queue}`;
const natsArn = (stream: string) => `arn:hearth:nats:${REGION}:000000000000:${stream}`;
const endpoint = (url: string) => ({ SelfManagedEventSource: { Endpoints: { URL: [url] } } });
const redisMapping = (extra: Record<string, unknown> = {}) => ({ FunctionName: 'orders', EventSourceArn: redisArn('orders-in'), ...endpoint(REDIS_URL), ...extra });
const create = (body: unknown) => signed('POST', MAPPINGS, body);
const created = async (body: unknown) => expectJson(await create(body), 202);

describe('CreateEventSourceMapping', () => {
  it('makes a trigger of the function named esm-<8 hex>, its id the UUID, and answers the mapping Creating', async () => {
    const before = Date.now() / 1000;
    const mapping = await created(redisMapping({ BatchSize: 25, MaximumBatchingWindowInSeconds: 2, StartingPosition: 'TRIM_HORIZON', MaximumRetryAttempts: 4, ScalingConfig: { MaximumConcurrency: 3 } }));
    expect(mapping).toMatchObject({
      EventSourceArn: redisArn('orders-in'),
      FunctionArn: `${ARN}orders`,
      EventSourceMappingArn: `arn:aws:lambda:${REGION}:000000000000:event-source-mapping:${mapping.UUID}`,
      ...{ State: 'Creating', StateTransitionReason: 'USER_INITIATED', LastProcessingResult: 'No records processed' },
      ...{ BatchSize: 25, MaximumBatchingWindowInSeconds: 2, StartingPosition: 'TRIM_HORIZON', MaximumRetryAttempts: 4, ScalingConfig: { MaximumConcurrency: 3 } },
      ...{ FunctionResponseTypes: ['ReportBatchItemFailures'], DestinationConfig: { OnFailure: {} } },
      SelfManagedEventSource: { Endpoints: { URL: ['redis://hearth:****@broker.example:6379/0'] } },
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'hearth' },
    });
    expect(mapping.UUID).toMatch(UUID);
    expect(mapping.LastModified).toBeTypeOf('number');
    expect(mapping.LastModified).toSatisfy((t: number) => t >= Math.floor(before) && t <= Date.now() / 1000 + 1);
    // The trigger the REST API shows: the settings the mapping's fields name.
    const triggers = (await g.deps.triggers.list('default', 'orders'));
    expect(triggers).toHaveLength(1);
    expect(triggers[0]!.name).toMatch(/^esm-[0-9a-f]{8}$/);
    expect(triggers[0]).toMatchObject({ type: 'redis-stream', stream: 'orders-in', start: 'earliest', batchSize: 25, batchWindowMs: 2000, maxRetries: 4, maxConcurrency: 3, enabled: true, target: { alias: 'latest' } });
    expect((await store.byId(mapping.UUID))?.name).toBe(triggers[0]!.name);
    // The broker was checked with the real URL; the store keeps it sealed.
    expect(checks.map((s) => s.url)).toEqual([REDIS_URL]);
    expect(store.openUrl((await store.byId(mapping.UUID))!)).toBe(REDIS_URL);
    expect(await expectJson(await signed('GET', `${MAPPINGS}${mapping.UUID}`))).toMatchObject({ UUID: mapping.UUID, State: 'Enabled', BatchSize: 25 });
  });

  it('targets the alias or version the FunctionName qualifies, by name or ARN', async () => {
    const byAlias = await created({ FunctionName: `${ARN}orders:prod`, EventSourceArn: amqpArn('jobs'), ...endpoint(AMQP_URL) });
    expect(byAlias).toMatchObject({ FunctionArn: `${ARN}orders:prod`, EventSourceArn: amqpArn('jobs') });
    expect(byAlias.StartingPosition).toBeUndefined();
    const byVersion = await created({ FunctionName: 'orders:2', EventSourceArn: amqpArn('jobs2'), ...endpoint(AMQP_URL) });
    expect(byVersion.FunctionArn).toBe(`${ARN}orders:2`);
    const latest = await created({ FunctionName: 'orders:$LATEST', EventSourceArn: amqpArn('jobs3'), ...endpoint(AMQP_URL), StartingPosition: 'LATEST' });
    expect(latest.FunctionArn).toBe(`${ARN}orders`);
    const targets = (await store.list('default', 'orders'))!.map((t) => t.target);
    expect(targets).toEqual(expect.arrayContaining([{ alias: 'prod' }, { version: 2 }, { alias: 'latest' }]));
  });

  it('takes a NATS stream with a subject filter, a durable name and a dead letter named by ARN or by name', async () => {
    const fields = {
      Topics: ['events.billing.>'],
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'billing-reader' },
      DestinationConfig: { OnFailure: { Destination: natsArn('events.dead') } },
    };
    const nats = await created({ FunctionName: 'billing', EventSourceArn: natsArn('EVENTS'), ...endpoint(NATS_URL), ...fields });
    expect(nats).toMatchObject({ StartingPosition: 'TRIM_HORIZON', ...fields });
    const amqp = await created({ FunctionName: 'billing', EventSourceArn: amqpArn('invoices'), ...endpoint(AMQP_URL), DestinationConfig: { OnFailure: { Destination: 'invoices-dead' } } });
    expect(amqp.DestinationConfig).toEqual({ OnFailure: { Destination: amqpArn('invoices-dead') } });
    expect((await store.byId(amqp.UUID))?.settings).toMatchObject({ deadLetter: 'invoices-dead', queue: 'invoices' });
  });

  it.each([
    ['BatchSize 0', { BatchSize: 0 }, /BatchSize/],
    ['BatchSize 1001', { BatchSize: 1001 }, /BatchSize/],
    ['BatchSize 1.5', { BatchSize: 1.5 }, /BatchSize/],
    ['BatchSize as text', { BatchSize: '10' }, /BatchSize/],
    ['a batching window past 300 s', { MaximumBatchingWindowInSeconds: 301 }, /MaximumBatchingWindowInSeconds/],
    ['endless retries', { MaximumRetryAttempts: -1 }, /MaximumRetryAttempts/],
    ['concurrency 0', { ScalingConfig: { MaximumConcurrency: 0 } }, /ScalingConfig\.MaximumConcurrency/],
    ['no EventSourceArn', { EventSourceArn: undefined }, /EventSourceArn is required/],
    ['an SQS queue', { EventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q' }, /EventSourceArn must be arn:hearth:/],
    ['an MQTT topic', { EventSourceArn: 'arn:hearth:mqtt:us-east-1:000000000000:t' }, /EventSourceArn/],
    ['a name with a space', { EventSourceArn: redisArn('two words') }, /EventSourceArn/],
    ['no endpoint', { SelfManagedEventSource: undefined }, /SelfManagedEventSource/],
    ['two URLs', { SelfManagedEventSource: { Endpoints: { URL: [REDIS_URL, REDIS_URL] } } }, /got 2 URLs/],
    ['a Kafka endpoint', { SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: ['b:9092'] } } }, /KAFKA_BOOTSTRAP_SERVERS/],
    ['an AMQP URL for a Redis stream', endpoint(`amqp://u:${PASSWORD}@rabbit.example/`), /Endpoints\.URL must be a redis:\/\/ or rediss:\/\//],
    ['a malformed URL', endpoint(`redis://u:${PASSWORD}@`), /Endpoints\.URL/],
    ['AT_TIMESTAMP', { StartingPosition: 'AT_TIMESTAMP' }, /AT_TIMESTAMP/],
    ['a filter', { FilterCriteria: { Filters: [{ Pattern: '{}' }] } }, /FilterCriteria/],
    ['bisecting', { BisectBatchOnFunctionError: true }, /BisectBatchOnFunctionError/],
    ['a tumbling window', { TumblingWindowInSeconds: 60 }, /TumblingWindowInSeconds/],
    ['secrets manager credentials', { SourceAccessConfigurations: [{ Type: 'BASIC_AUTH', URI: 'arn:aws:secretsmanager:x' }] }, /SourceAccessConfigurations/],
    ['an on-success destination', { DestinationConfig: { OnSuccess: { Destination: redisArn('ok') } } }, /OnSuccess/],
    ['a dead letter on another broker type', { DestinationConfig: { OnFailure: { Destination: amqpArn('dead') } } }, /OnFailure\.Destination/],
    ['a dead letter on SQS', { DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:1:q' } } }, /OnFailure\.Destination/],
    ['another response type', { FunctionResponseTypes: ['Everything'] }, /FunctionResponseTypes/],
    ['Topics on a Redis stream', { Topics: ['t'] }, /Topics applies to nats/],
    ['tags', { Tags: { team: 'a' } }, /Tags/],
  ])('refuses %s 400 InvalidParameterValueException naming the field, storing nothing and quoting no password', async (_what, extra, why) => {
    const res = await create(redisMapping(extra));
    const message = await expectLambdaError(res, 400, 'InvalidParameterValueException');
    expect(message).toMatch(why);
    expect(message).not.toContain(PASSWORD);
    expect(await store.list('default', 'orders')).toEqual([]);
  });

  it('refuses LATEST for NATS (a new durable starts at the first message) and a consumer group on a queue', async () => {
    expect(await expectLambdaError(await create({ FunctionName: 'billing', EventSourceArn: natsArn('S'), ...endpoint(NATS_URL), StartingPosition: 'LATEST' }), 400, 'InvalidParameterValueException')).toMatch(/TRIM_HORIZON/);
    const group = { FunctionName: 'billing', EventSourceArn: amqpArn('q'), ...endpoint(AMQP_URL), SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'g' } };
    expect(await expectLambdaError(await create(group), 400, 'InvalidParameterValueException')).toMatch(/ConsumerGroupId/);
  });

  it('answers an unknown function, version or alias 404 ResourceNotFoundException without asking the broker', async () => {
    for (const FunctionName of ['nope', 'orders:7', 'orders:staging', `${ARN}nope`]) {
      const message = await expectLambdaError(await create(redisMapping({ FunctionName })), 404, 'ResourceNotFoundException');
      expect(message).toContain('Function not found');
    }
    expect(checks).toEqual([]);
  });

  it('answers a broker that does not answer 400 with its reason, the password in it masked', async () => {
    const message = await expectLambdaError(await create(redisMapping(endpoint(`redis://hearth:${PASSWORD}@unreachable:6379`))), 400, 'InvalidParameterValueException');
    expect(message).toMatch(/cannot connect to redis:\/\/hearth:\*\*\*\*@unreachable:6379/);
    expect(message).not.toContain(PASSWORD);
    const missing = await expectLambdaError(await create(redisMapping({ EventSourceArn: redisArn('missing') })), 400, 'InvalidParameterValueException');
    expect(missing).toMatch(/"missing" does not exist/);
    const linkLocal = await expectLambdaError(await create(redisMapping(endpoint('redis://169.254.169.254:6379'))), 400, 'InvalidParameterValueException');
    expect(linkLocal).toMatch(/link-local/);
    expect(await store.list('default', 'orders')).toEqual([]);
  });

  it('refuses a 21st trigger of one function 409 ResourceConflictException', async () => {
    for (let i = 0; i < 20; i++) await put('orders', `t${i}`, { stream: `s${i}` });
    await expectLambdaError(await create(redisMapping()), 409, 'ResourceConflictException');
  });
});

describe('GetEventSourceMapping', () => {
  it('answers an unknown, malformed or other namespace\'s UUID 404 ResourceNotFoundException', async () => {
    const { UUID: uuid } = await created(redisMapping());
    for (const path of ['5f1c0c5e-0000-4000-8000-000000000000', '0b0c-1', 'x'.repeat(300), '%00']) {
      await expectLambdaError(await signed('GET', `${MAPPINGS}${path}`), 404, 'ResourceNotFoundException');
    }
    await expectLambdaError(await tenant('GET', `${MAPPINGS}${uuid}`), 404, 'ResourceNotFoundException');
    await expectLambdaError(await tenant('DELETE', `${MAPPINGS}${uuid}`), 404, 'ResourceNotFoundException');
    expect(await expectJson(await signed('GET', `${MAPPINGS}${uuid.toUpperCase()}`))).toMatchObject({ UUID: uuid });
  });

  it('does not answer a schedule as a mapping', async () => {
    await schedule('orders');
    const nightly = (await store.list('default', 'orders'))![0]!;
    await expectLambdaError(await signed('GET', `${MAPPINGS}${nightly.id}`), 404, 'ResourceNotFoundException');
    await expectLambdaError(await signed('DELETE', `${MAPPINGS}${nightly.id}`), 404, 'ResourceNotFoundException');
    expect(await expectJson(await signed('GET', MAPPINGS))).toEqual({ EventSourceMappings: [] });
  });

  it('reports the trigger\'s last processing: OK after a batch, PROBLEM with the broker\'s error (no password) when it failed', async () => {
    const { UUID: uuid } = await created(redisMapping());
    await status.update(uuid, { state: 'running', lastRunAt: Date.now(), batches: 1 });
    expect((await expectJson(await signed('GET', `${MAPPINGS}${uuid}`))).LastProcessingResult).toBe('OK');
    await status.update(uuid, { state: 'error', lastError: { message: `connection to redis://hearth:${PASSWORD}@broker.example lost`, at: Date.now() } });
    const text = await (await signed('GET', `${MAPPINGS}${uuid}`)).text();
    expect(text).not.toContain(PASSWORD);
    expect(JSON.parse(text).LastProcessingResult).toBe('PROBLEM: connection to redis://hearth:****@broker.example lost');
  });
});

describe('UpdateEventSourceMapping', () => {
  it('changes the batch settings, keeping the broker password the trigger holds', async () => {
    const { UUID: uuid } = await created(redisMapping());
    const updated = await expectJson(await signed('PUT', `${MAPPINGS}${uuid}`, { BatchSize: 100, MaximumBatchingWindowInSeconds: 5, FunctionResponseTypes: ['ReportBatchItemFailures'], DestinationConfig: { OnFailure: { Destination: redisArn('orders-dead') } } }), 202);
    expect(updated).toMatchObject({ UUID: uuid, State: 'Updating', BatchSize: 100, MaximumBatchingWindowInSeconds: 5, DestinationConfig: { OnFailure: { Destination: redisArn('orders-dead') } } });
    // The broker was checked again with the real URL, and the store still opens it.
    expect(checks.map((s) => s.url)).toEqual([REDIS_URL, REDIS_URL]);
    const record = (await store.byId(uuid))!;
    expect(store.openUrl(record)).toBe(REDIS_URL);
    expect(record.settings).toMatchObject({ batchSize: 100, batchWindowMs: 5000, deadLetter: 'orders-dead' });
    // An empty destination removes the dead letter.
    const cleared = await expectJson(await signed('PUT', `${MAPPINGS}${uuid}`, { DestinationConfig: { OnFailure: { Destination: '' } } }), 202);
    expect(cleared.DestinationConfig).toEqual({ OnFailure: {} });
    expect((await store.byId(uuid))!.settings).not.toHaveProperty('deadLetter');
  });

  it('disables and enables without asking the broker again', async () => {
    const { UUID: uuid } = await created(redisMapping());
    expect((await expectJson(await signed('PUT', `${MAPPINGS}${uuid}`, { Enabled: false }), 202)).State).toBe('Disabling');
    expect((await expectJson(await signed('GET', `${MAPPINGS}${uuid}`))).State).toBe('Disabled');
    expect((await store.byId(uuid))!.enabled).toBe(false);
    expect((await expectJson(await signed('PUT', `${MAPPINGS}${uuid}`, { Enabled: true }), 202)).State).toBe('Enabling');
    expect((await expectJson(await signed('GET', `${MAPPINGS}${uuid}`))).State).toBe('Enabled');
    expect(checks).toHaveLength(1);
  });

  it('moves the mapping to another alias of its function, and refuses another function with a clear message', async () => {
    const { UUID: uuid } = await created(redisMapping());
    expect((await expectJson(await signed('PUT', `${MAPPINGS}${uuid}`, { FunctionName: 'orders:prod' }), 202)).FunctionArn).toBe(`${ARN}orders:prod`);
    expect((await store.byId(uuid))!.target).toEqual({ alias: 'prod' });
    const message = await expectLambdaError(await signed('PUT', `${MAPPINGS}${uuid}`, { FunctionName: 'billing' }), 400, 'InvalidParameterValueException');
    expect(message).toMatch(/FunctionName: this mapping is a trigger of orders and cannot move to billing/);
    await expectLambdaError(await signed('PUT', `${MAPPINGS}${uuid}`, { FunctionName: 'orders:nope' }), 404, 'ResourceNotFoundException');
    expect((await store.byId(uuid))!.target).toEqual({ alias: 'prod' });
  });

  it.each([
    ['BatchSize 0', { BatchSize: 0 }, /BatchSize/],
    ['a new EventSourceArn', { EventSourceArn: redisArn('other') }, /EventSourceArn cannot be changed/],
    ['a new URL', endpoint('redis://elsewhere.example'), /SelfManagedEventSource cannot be changed/],
    ['another consumer group', { SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'other' } }, /ConsumerGroupId cannot be changed/],
    ['a filter', { FilterCriteria: { Filters: [{ Pattern: '{}' }] } }, /FilterCriteria/],
  ])('refuses %s 400, leaving the trigger as it was', async (_what, body, why) => {
    const { UUID: uuid } = await created(redisMapping({ BatchSize: 7 }));
    expect(await expectLambdaError(await signed('PUT', `${MAPPINGS}${uuid}`, body), 400, 'InvalidParameterValueException')).toMatch(why);
    expect((await store.byId(uuid))!.settings).toMatchObject({ batchSize: 7, stream: 'orders-in' });
  });

  it('answers an unknown UUID 404', async () => {
    await expectLambdaError(await signed('PUT', `${MAPPINGS}5f1c0c5e-0000-4000-8000-000000000000`, { BatchSize: 5 }), 404, 'ResourceNotFoundException');
  });
});

describe('DeleteEventSourceMapping', () => {
  it('removes the trigger and answers the mapping Deleting; then it is not found', async () => {
    const { UUID: uuid } = await created(redisMapping());
    const deleted = await expectJson(await signed('DELETE', `${MAPPINGS}${uuid}`), 202);
    expect(deleted).toMatchObject({ UUID: uuid, State: 'Deleting', EventSourceArn: redisArn('orders-in') });
    expect(await store.list('default', 'orders')).toEqual([]);
    await expectLambdaError(await signed('GET', `${MAPPINGS}${uuid}`), 404, 'ResourceNotFoundException');
    await expectLambdaError(await signed('DELETE', `${MAPPINGS}${uuid}`), 404, 'ResourceNotFoundException');
  });
});

describe('ListEventSourceMappings', () => {
  it('lists every source trigger of the namespace, REST-made ones included, schedules left out', async () => {
    const a = await created(redisMapping());
    const b = await created({ FunctionName: 'billing:$LATEST', EventSourceArn: amqpArn('invoices'), ...endpoint(AMQP_URL) });
    await put('billing', 'from-rest', { stream: 'orders-in' });
    await schedule('billing');
    const all = (await expectJson(await signed('GET', MAPPINGS))).EventSourceMappings;
    expect(all.map((m: { UUID: string }) => m.UUID).sort()).toEqual([a.UUID, b.UUID, (await store.get('default', 'billing', 'from-rest'))!.id].sort());
    expect(all.every((m: { State: string }) => m.State === 'Enabled')).toBe(true);
  });

  it('filters by FunctionName (name, ARN, qualifier) and by EventSourceArn', async () => {
    const latest = await created(redisMapping());
    const prod = await created(redisMapping({ FunctionName: 'orders:prod', EventSourceArn: redisArn('audit') }));
    const billing = await created({ FunctionName: 'billing', EventSourceArn: redisArn('audit'), ...endpoint(REDIS_URL) });
    const uuids = async (query: string) => ((await expectJson(await signed('GET', `${MAPPINGS}?${query}`))).EventSourceMappings as Array<{ UUID: string }>).map((m) => m.UUID).sort();
    expect(await uuids('FunctionName=orders')).toEqual([latest.UUID, prod.UUID].sort());
    expect(await uuids(`FunctionName=${encodeURIComponent(`${ARN}orders`)}`)).toEqual([latest.UUID, prod.UUID].sort());
    expect(await uuids(`FunctionName=${encodeURIComponent('orders:prod')}`)).toEqual([prod.UUID]);
    expect(await uuids(`FunctionName=${encodeURIComponent('orders:$LATEST')}`)).toEqual([latest.UUID]);
    expect(await uuids('FunctionName=orders:latest')).toEqual([]);
    expect(await uuids(`EventSourceArn=${encodeURIComponent(redisArn('audit'))}`)).toEqual([prod.UUID, billing.UUID].sort());
    // Another region or account in the ARN names the same stream.
    expect(await uuids(`EventSourceArn=${encodeURIComponent('arn:hearth:redis-stream:eu-west-1:123456789012:audit')}&FunctionName=billing`)).toEqual([billing.UUID]);
    expect(await uuids(`EventSourceArn=${encodeURIComponent(amqpArn('audit'))}`)).toEqual([]);
    expect(await uuids(`EventSourceArn=${encodeURIComponent('arn:aws:sqs:us-east-1:123456789012:q')}`)).toEqual([]);
    await expectLambdaError(await signed('GET', `${MAPPINGS}?EventSourceArn=not-an-arn`), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('GET', `${MAPPINGS}?FunctionName=nope`), 404, 'ResourceNotFoundException');
  });

  it('pages with MaxItems and Marker across functions, neither repeating nor skipping, at most 100 a page', async () => {
    for (let f = 0; f < 6; f++) {
      g.functions.seed('default', `fn-${f}`);
      for (let t = 0; t < 17; t++) await put(`fn-${f}`, `t-${String(t).padStart(2, '0')}`, { stream: `s-${f}-${t}` });
    }
    const first = await expectJson(await signed('GET', `${MAPPINGS}?MaxItems=500`));
    expect(first.EventSourceMappings).toHaveLength(100);
    expect(first.NextMarker).toBeTypeOf('string');
    const second = await expectJson(await signed('GET', `${MAPPINGS}?MaxItems=500&Marker=${encodeURIComponent(first.NextMarker)}`));
    expect(second.EventSourceMappings).toHaveLength(2);
    expect(second.NextMarker).toBeUndefined();

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await expectJson(await signed('GET', `${MAPPINGS}?MaxItems=7${marker ? `&Marker=${encodeURIComponent(marker)}` : ''}`));
      expect(page.EventSourceMappings.length).toBeLessThanOrEqual(7);
      seen.push(...page.EventSourceMappings.map((m: { UUID: string }) => m.UUID));
      marker = page.NextMarker;
      pages++;
    } while (marker && pages < 50);
    expect(seen).toHaveLength(102);
    expect(new Set(seen).size).toBe(102);
    const oneFunction = await expectJson(await signed('GET', `${MAPPINGS}?FunctionName=fn-3&MaxItems=10`));
    expect(oneFunction.EventSourceMappings).toHaveLength(10);
    const rest = await expectJson(await signed('GET', `${MAPPINGS}?FunctionName=fn-3&MaxItems=10&Marker=${encodeURIComponent(oneFunction.NextMarker)}`));
    expect(rest.EventSourceMappings).toHaveLength(7);
    expect(rest.NextMarker).toBeUndefined();
  });

  it.each(['0', '-1', '1.5', 'abc', '10001'])('refuses MaxItems=%s 400', async (max) => {
    await expectLambdaError(await signed('GET', `${MAPPINGS}?MaxItems=${max}`), 400, 'InvalidParameterValueException');
  });

  it.each([
    ['one letter', 'x'],
    ['not base64', '%'],
    ['a function without a trigger', Buffer.from('orders').toString('base64url')],
    ['5000 letters', 'x'.repeat(5000)],
  ])('refuses a Marker it never gave (%s) 400', async (_what, marker) => {
    await expectLambdaError(await signed('GET', `${MAPPINGS}?Marker=${encodeURIComponent(marker)}`), 400, 'InvalidParameterValueException');
  });
});

describe('broker passwords', () => {
  it('never come back from any operation', async () => {
    const texts: string[] = [];
    const keep = async (res: Response) => {
      texts.push(await res.text());
      expect(res.status, texts.at(-1)).toBeLessThan(300);
      return JSON.parse(texts.at(-1)!);
    };
    const { UUID: uuid } = await keep(await create(redisMapping()));
    await keep(await create({ FunctionName: 'billing', EventSourceArn: amqpArn('q'), ...endpoint(AMQP_URL) }));
    await keep(await create({ FunctionName: 'billing', EventSourceArn: natsArn('S'), ...endpoint(`nats://${PASSWORD}@nats.example:4222`) }));
    await keep(await signed('GET', `${MAPPINGS}${uuid}`));
    await keep(await signed('GET', MAPPINGS));
    await keep(await signed('PUT', `${MAPPINGS}${uuid}`, { BatchSize: 3 }));
    await keep(await signed('DELETE', `${MAPPINGS}${uuid}`));
    expect(texts).toHaveLength(7);
    for (const text of texts) expect(text).not.toContain(PASSWORD);
  });
});

/** A source trigger made through the service directly (as the REST API makes one). */
async function put(functionName: string, name: string, settings: { stream: string }): Promise<void> {
  const body = { type: 'redis-stream', url: REDIS_URL, group: 'hearth', start: 'latest', batchSize: 10, batchWindowMs: 0, maxConcurrency: 1, ordered: false, maxRetries: 2, target: { alias: 'latest' }, enabled: true, ...settings } as TriggerBody;
  await g.deps.triggers.put('default', functionName, name, body);
}

/** An hourly schedule of `functionName` (which is not an event source mapping). */
async function schedule(functionName: string): Promise<void> {
  await g.deps.triggers.put('default', functionName, 'nightly', { type: 'schedule', schedule: 'rate(1 hour)', timezone: 'UTC', target: { alias: 'latest' }, enabled: true });
}

/** A request signed with the tenant's key (namespace `acme`). */
async function tenant(method: string, path: string): Promise<Response> {
  const signer = lambdaSigner(accessKeyIdOf(g.tenantKeyId), TENANT_KEY, REGION);
  const url = new URL(`http://gw.example${path}`);
  const request = await signer.sign({ method, protocol: 'http:', hostname: 'gw.example', path: url.pathname, query: {}, headers: { host: 'gw.example' } });
  return g.app.request(url.toString(), { method, headers: request.headers as Record<string, string> });
}
