/**
 * The AWS Lambda API end to end, aliases: created, read, listed, updated
 * and deleted through `@aws-sdk/client-lambda` as Hearth's own aliases
 * (which Hearth's API then shows), invoked with a weighted second version
 * (each call names the version it ran in ExecutedVersion, and its record
 * the alias), provisioned concurrency on an alias onto its minWarm, and
 * versions deleted unless an alias holds them.
 */
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListAliasesCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { ARN_PREFIX, NODE_GREETER, createNode, failureOf, json, parsePayload, useLambdaPlatform } from '../helpers/lambda-sdk.ts';
import { uniqueName, zipOf } from '../helpers/packages.ts';
import { recordOf, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

describe('AWS Lambda API: aliases', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  useLambdaPlatform((started) => ({ platform, lambda } = started));

  /** A function with versions 1 (`v1`) and 2 (`v2`), 2 being $LATEST. */
  const twoVersions = async (base: string) => {
    const name = uniqueName(base);
    await createNode(lambda, name, { Publish: true });
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: await zipOf({ 'index.js': NODE_GREETER('v2') }), Publish: true }));
    return name;
  };

  it('creates, reads, lists, updates and deletes aliases as Hearth\'s own', async () => {
    const name = await twoVersions('lambda-alias');
    const created = await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1', Description: 'production' }));
    expect(created).toMatchObject({ AliasArn: `${ARN_PREFIX}${name}:live`, Name: 'live', FunctionVersion: '1', Description: 'production' });
    expect(created.$metadata.httpStatusCode).toBe(201);
    const hearth = await (await platform.api(`/v1/functions/${name}/aliases/live`)).json();
    expect(hearth).toMatchObject({ name: 'live', version: 1, weights: {}, description: 'production' });

    expect((await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }))).FunctionVersion).toBe('1');
    const listed = await lambda.send(new ListAliasesCommand({ FunctionName: name }));
    expect(listed.Aliases?.map((a) => a.Name)).toEqual(['live']);
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: 'live' }));
    expect(configuration).toMatchObject({ FunctionArn: `${ARN_PREFIX}${name}:live`, Version: '1' });

    const updated = await lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: 'live', RevisionId: created.RevisionId, RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } } }),
    );
    expect(updated).toMatchObject({ FunctionVersion: '1', Description: 'production', RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } } });
    const stale = await failureOf(lambda.send(new UpdateAliasCommand({ FunctionName: name, Name: 'live', RevisionId: created.RevisionId, Description: 'x' })));
    expect(stale.name).toBe('PreconditionFailedException');
    expect((await (await platform.api(`/v1/functions/${name}/aliases/live`)).json()).weights).toEqual({ '2': 0.3 });

    const twice = await failureOf(lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2' })));
    expect(twice.name).toBe('ResourceConflictException');
    const badName = await failureOf(lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'Live_Prod', FunctionVersion: '2' })));
    expect(badName.name).toBe('InvalidParameterValueException');
    const reserved = await failureOf(lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'latest', FunctionVersion: '2' })));
    expect(reserved.name).toBe('InvalidParameterValueException');

    await lambda.send(new DeleteAliasCommand({ FunctionName: name, Name: 'live' }));
    expect((await failureOf(lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' })))).name).toBe('ResourceNotFoundException');
    expect((await platform.api(`/v1/functions/${name}/aliases/live`)).status).toBe(404);
  });

  it('invokes an alias with a weighted second version: each call names the version it ran', async () => {
    const name = await twoVersions('lambda-split');
    await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'canary', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }));
    const seen = new Map<string, number>();
    let lastId: string | undefined;
    for (let i = 0; i < 40; i++) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'canary', Payload: json({ name: `call-${i}` }) }));
      const payload = parsePayload(out.Payload);
      // What ran is what the answer names: the v2 code is version 2.
      expect(payload).toMatchObject({ hello: `call-${i}`, version: out.ExecutedVersion, tag: out.ExecutedVersion === '2' ? 'v2' : 'v1' });
      seen.set(out.ExecutedVersion!, (seen.get(out.ExecutedVersion!) ?? 0) + 1);
      lastId = out.$metadata.requestId;
    }
    expect([...seen.keys()].sort()).toEqual(['1', '2']);
    expect(await recordOf(platform, lastId ?? null)).toMatchObject({ alias: 'canary' });
    // Unqualified calls run $LATEST (version 2), named as Lambda names it.
    expect((await lambda.send(new InvokeCommand({ FunctionName: name }))).ExecutedVersion).toBe('$LATEST');
    const missing = await failureOf(lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'nope' })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('provisions an alias\'s versions (minWarm) and deletes only versions no alias holds', async () => {
    const name = await twoVersions('lambda-provisioned');
    await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
    const put = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    expect(put.$metadata.httpStatusCode).toBe(202);
    expect(put.RequestedProvisionedConcurrentExecutions).toBe(1);
    expect((await (await platform.api(`/v1/functions/${name}/aliases/live`)).json()).minWarm).toBe(1);
    // The worker starts the container the alias asks for; the config turns READY once it reports it.
    await waitFor('the provisioned container of version 1', async () => {
      const config = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }));
      return config.Status === 'READY' && config.AllocatedProvisionedConcurrentExecutions === 1;
    });

    const held = await failureOf(lambda.send(new DeleteFunctionCommand({ FunctionName: name, Qualifier: '1' })));
    expect(held.name).toBe('ResourceConflictException');
    expect(held.$metadata.httpStatusCode).toBe(409);
    await lambda.send(new UpdateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2' }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name, Qualifier: '1' }));
    const versions = await (await platform.api(`/v1/functions/${name}/versions`)).json();
    expect(versions.items.map((v: { version: number }) => v.version)).toEqual([2]);
    // Its minWarm would otherwise be provisioned by every later worker of the run (one database).
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
  });
});
