/**
 * The AWS Lambda API end to end, configuration beside the code, through
 * `@aws-sdk/client-lambda`: UpdateFunctionConfiguration with the fields
 * tools send, reserved concurrency onto maxConcurrency, tags, a function
 * URL that answers without a key on the function origin, async invoke
 * configuration (carried by the async calls queued after it), the resource policy, account settings and event source
 * mappings, each as Hearth's own API then sees it.
 */
import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteFunctionUrlConfigCommand,
  GetAccountSettingsCommand,
  GetEventSourceMappingCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  InvokeCommand,
  ListEventSourceMappingsCommand,
  ListTagsCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  RemovePermissionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { createPostgresFunctionStore } from '../../gateway/store/functions-store.ts';
import { ARN_PREFIX, createNode, failureOf, json, useLambdaPlatform } from '../helpers/lambda-sdk.ts';
import { uniqueName } from '../helpers/packages.ts';
import { fetchWithoutKey, recordOf, type Platform } from '../helpers/platform.ts';

describe('AWS Lambda API: configuration beside the code', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  useLambdaPlatform((started) => ({ platform, lambda } = started));
  const hearth = async (name: string) => (await platform.api(`/v1/functions/${name}`)).json();

  it('updates the configuration with what tools send, and sets reserved concurrency', async () => {
    const name = uniqueName('lambda-config');
    await createNode(lambda, name, { Tags: { team: 'a' } });
    const configured = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: name,
        Timeout: 8,
        VpcConfig: { SubnetIds: [], SecurityGroupIds: [] },
        DeadLetterConfig: {},
        TracingConfig: { Mode: 'Active' },
        Layers: [],
        KMSKeyArn: '',
        EphemeralStorage: { Size: 1024 },
      }),
    );
    expect(configured).toMatchObject({ Timeout: 8, State: 'Active', LastUpdateStatus: 'Successful' });
    const refused = await failureOf(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Layers: ['arn:aws:lambda:us-east-1:1:layer:l:1'] })));
    expect(refused.name).toBe('InvalidParameterValueException');

    await lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 3 }));
    expect((await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }))).ReservedConcurrentExecutions).toBe(3);
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    expect(got.Concurrency?.ReservedConcurrentExecutions).toBe(3);
    expect(got.Tags).toEqual({ team: 'a' });
    expect((await hearth(name)).latest).toMatchObject({ version: 3, timeoutMs: 8000, maxConcurrency: 3 });
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
    expect((await hearth(name)).latest.maxConcurrency).toBeNull();
  });

  it('tags a function and gives it a URL that answers without a key while AuthType is NONE', async () => {
    const name = uniqueName('lambda-url');
    const { FunctionArn } = await createNode(lambda, name);
    await lambda.send(new TagResourceCommand({ Resource: FunctionArn!, Tags: { team: 'a', stage: 'dev' } }));
    await lambda.send(new UntagResourceCommand({ Resource: FunctionArn!, TagKeys: ['stage'] }));
    expect((await lambda.send(new ListTagsCommand({ Resource: FunctionArn! }))).Tags).toEqual({ team: 'a' });

    const url = await lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }));
    expect(url).toMatchObject({ FunctionUrl: `${platform.fnUrl}/fn/${name}/`, FunctionArn: `${ARN_PREFIX}${name}`, AuthType: 'NONE' });
    expect((await fetchWithoutKey(url.FunctionUrl!)).status).toBe(200);
    expect((await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name }))).AuthType).toBe('NONE');
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: name }));
    expect((await fetchWithoutKey(url.FunctionUrl!)).status).toBe(401);
    expect((await failureOf(lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name })))).name).toBe('ResourceNotFoundException');
  });

  it('keeps async invoke configuration and the resource policy, and answers account settings and event sources', async () => {
    const name = uniqueName('lambda-extras');
    await createNode(lambda, name);
    await lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 }));
    await lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: name, MaximumRetryAttempts: 1 }));
    const config = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name }));
    expect(config).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 300, FunctionArn: `${ARN_PREFIX}${name}:$LATEST` });
    expect(config.LastModified).toBeInstanceOf(Date);
    // Async calls take it: the read that builds their jobs carries it, and the worker runs such a job.
    const resolved = await createPostgresFunctionStore(platform.database.db).resolveVersion('default', name);
    expect(resolved).toMatchObject({ asyncRetries: 1, maxEventAgeMs: 300_000 });
    const queued = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: json({ name: 'later' }) }));
    expect(queued.StatusCode).toBe(202);
    expect(await recordOf(platform, queued.$metadata.requestId ?? null, 30_000)).toMatchObject({ status: 'succeeded' });

    const added = await lambda.send(new AddPermissionCommand({ FunctionName: name, StatementId: 'events', Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com' }));
    expect(JSON.parse(added.Statement!)).toMatchObject({ Sid: 'events', Principal: { Service: 'events.amazonaws.com' }, Resource: `${ARN_PREFIX}${name}` });
    const policy = await lambda.send(new GetPolicyCommand({ FunctionName: name }));
    expect(JSON.parse(policy.Policy!).Statement).toHaveLength(1);
    await lambda.send(new RemovePermissionCommand({ FunctionName: name, StatementId: 'events', RevisionId: policy.RevisionId }));
    expect((await failureOf(lambda.send(new GetPolicyCommand({ FunctionName: name })))).name).toBe('ResourceNotFoundException');

    const account = await lambda.send(new GetAccountSettingsCommand({}));
    expect(account.AccountUsage?.FunctionCount).toBeGreaterThanOrEqual(1);
    expect(account.AccountLimit?.ConcurrentExecutions).toBeGreaterThan(0);
    expect((await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: name }))).EventSourceMappings).toEqual([]);
    expect((await failureOf(lambda.send(new GetEventSourceMappingCommand({ UUID: '5f1c0c5e-0000-4000-8000-000000000000' })))).name).toBe('ResourceNotFoundException');
  });
});
