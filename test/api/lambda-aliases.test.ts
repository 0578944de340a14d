/**
 * Lambda's aliases in memory: CreateAlias, GetAlias, UpdateAlias (with
 * RoutingConfig), DeleteAlias and ListAliases onto Hearth's aliases
 * (announced through the function service), Hearth's naming rule and its
 * own `latest` alias kept out; qualifiers naming an alias in Invoke,
 * GetFunctionConfiguration and DeleteFunction.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeGateway, type FakeGateway } from './fake-deps.ts';
import { ARN, expectJson, expectLambdaError, signedLambda } from './lambda-signed.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});
const signed = signedLambda(() => g);
const aliases = (fn = 'f') => `/2015-03-31/functions/${fn}/aliases`;

describe('Lambda CreateAlias', () => {
  it('creates an alias on a version, with a weighted second version, and announces it', async () => {
    g.functions.seed('default', 'f', {}, 3);
    const created = await expectJson(
      await signed('POST', aliases(), { Name: 'live', FunctionVersion: '2', Description: 'prod', RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } } }),
      201,
    );
    expect(created).toMatchObject({
      AliasArn: `${ARN}f:live`,
      Name: 'live',
      FunctionVersion: '2',
      Description: 'prod',
      RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } },
    });
    expect(created.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await g.functions.getAlias('default', 'f', 'live')).toMatchObject({ version: 2, weighted: { version: 3, weight: 0.1 }, description: 'prod', minWarm: null });
    expect(g.announced).toEqual([{ type: 'function-changed', namespace: 'default', name: 'f' }]);
    await expectLambdaError(await signed('POST', aliases(), { Name: 'live', FunctionVersion: '1' }), 409, 'ResourceConflictException');
  });

  it.each([
    ['a name Hearth does not take', { Name: 'Live_1', FunctionVersion: '1' }],
    ["Hearth's own latest", { Name: 'latest', FunctionVersion: '1' }],
    ['$LATEST as its version', { Name: 'live', FunctionVersion: '$LATEST' }],
    ['two additional versions', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } } }],
    ['a weight past 1', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } }],
    ['its own version as the additional one', { Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } } }],
    ['no Name', { FunctionVersion: '1' }],
    ['a description Postgres cannot store', { Name: 'live', FunctionVersion: '1', Description: 'a\u0000b' }],
    ['a description with a lone surrogate', { Name: 'live', FunctionVersion: '1', Description: '\ud800' }],
  ])('refuses %s with 400 InvalidParameterValueException, storing nothing', async (_what, body) => {
    g.functions.seed('default', 'f', {}, 3);
    await expectLambdaError(await signed('POST', aliases(), body), 400, 'InvalidParameterValueException');
    expect((await g.functions.listAliases('default', 'f'))?.map((a) => a.name)).toEqual(['latest']);
    expect(g.announced).toEqual([]);
  });

  it('answers a missing function or version 404 ResourceNotFoundException', async () => {
    await expectLambdaError(await signed('POST', aliases('nope'), { Name: 'live', FunctionVersion: '1' }), 404, 'ResourceNotFoundException');
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('POST', aliases(), { Name: 'live', FunctionVersion: '9' }), 404, 'ResourceNotFoundException');
  });
});

describe('Lambda GetAlias, ListAliases, UpdateAlias, DeleteAlias', () => {
  beforeEach(async () => {
    g.functions.seed('default', 'f', {}, 3);
    await expectJson(await signed('POST', aliases(), { Name: 'live', FunctionVersion: '1' }), 201);
    await expectJson(await signed('POST', aliases(), { Name: 'beta', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { '3': 0.5 } } }), 201);
  });

  it('gets one alias and lists them by name without Hearth\'s latest, filtered and paged', async () => {
    expect(await expectJson(await signed('GET', `${aliases()}/live`))).toMatchObject({ Name: 'live', FunctionVersion: '1', AliasArn: `${ARN}f:live` });
    await expectLambdaError(await signed('GET', `${aliases()}/latest`), 404, 'ResourceNotFoundException');
    expect(await expectLambdaError(await signed('GET', `${aliases()}/gone`), 404, 'ResourceNotFoundException')).toBe(`Alias not found: ${ARN}f:gone`);
    const all = await expectJson(await signed('GET', aliases()));
    expect(all.Aliases.map((a: { Name: string }) => a.Name)).toEqual(['beta', 'live']);
    expect(all.NextMarker).toBeUndefined();
    const onThree = await expectJson(await signed('GET', `${aliases()}?FunctionVersion=3`));
    expect(onThree.Aliases.map((a: { Name: string }) => a.Name)).toEqual(['beta']);
    expect((await expectJson(await signed('GET', `${aliases()}?FunctionVersion=$LATEST`))).Aliases).toEqual([]);
    const first = await expectJson(await signed('GET', `${aliases()}?MaxItems=1`));
    expect(first.Aliases.map((a: { Name: string }) => a.Name)).toEqual(['beta']);
    const rest = await expectJson(await signed('GET', `${aliases()}?MaxItems=1&Marker=${first.NextMarker}`));
    expect(rest.Aliases.map((a: { Name: string }) => a.Name)).toEqual(['live']);
    await expectLambdaError(await signed('GET', aliases('nope')), 404, 'ResourceNotFoundException');
  });

  it('updates what it is given and keeps the rest; promoting the weighted version drops the split', async () => {
    const moved = await expectJson(await signed('PUT', `${aliases()}/live`, { RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } }));
    expect(moved).toMatchObject({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    const described = await expectJson(await signed('PUT', `${aliases()}/live`, { Description: 'canary' }));
    expect(described).toMatchObject({ FunctionVersion: '1', Description: 'canary', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    const promoted = await expectJson(await signed('PUT', `${aliases()}/live`, { FunctionVersion: '2' }));
    expect(promoted.RoutingConfig).toBeUndefined();
    expect(await g.functions.getAlias('default', 'f', 'live')).toMatchObject({ version: 2, weighted: null, description: 'canary' });
    const cleared = await expectJson(await signed('PUT', `${aliases()}/beta`, { RoutingConfig: { AdditionalVersionWeights: {} } }));
    expect(cleared.RoutingConfig).toBeUndefined();
  });

  it('refuses an update against another RevisionId 412, and writes to latest 400', async () => {
    const before = await expectJson(await signed('GET', `${aliases()}/live`));
    await expectJson(await signed('PUT', `${aliases()}/live`, { Description: 'x' }));
    await expectLambdaError(await signed('PUT', `${aliases()}/live`, { Description: 'y', RevisionId: before.RevisionId }), 412, 'PreconditionFailedException');
    await expectLambdaError(await signed('PUT', `${aliases()}/latest`, { FunctionVersion: '1' }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('DELETE', `${aliases()}/latest`), 400, 'InvalidParameterValueException');
    expect((await g.functions.getAlias('default', 'f', 'latest'))?.version).toBe(3);
  });

  it('deletes an alias and announces it; one that is not there is already deleted', async () => {
    const announced = g.announced.length;
    expect((await signed('DELETE', `${aliases()}/live`)).status).toBe(204);
    expect(await g.functions.getAlias('default', 'f', 'live')).toBeNull();
    expect(g.announced).toHaveLength(announced + 1);
    expect((await signed('DELETE', `${aliases()}/live`)).status).toBe(204);
    await expectLambdaError(await signed('DELETE', `${aliases('nope')}/live`), 404, 'ResourceNotFoundException');
  });
});

describe('qualifiers naming an alias', () => {
  beforeEach(async () => {
    g.functions.seed('default', 'f', {}, 2);
    await expectJson(await signed('POST', aliases(), { Name: 'live', FunctionVersion: '1' }), 201);
  });

  it('invokes the alias\'s version and names it in X-Amz-Executed-Version', async () => {
    const res = await signed('POST', '/2015-03-31/functions/f/invocations?Qualifier=live', { hi: 1 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-executed-version')).toBe('1');
    expect(g.queue.enqueued.at(-1)).toMatchObject({ version: 1, alias: 'live' });
    const unqualified = await signed('POST', '/2015-03-31/functions/f/invocations', {});
    expect(unqualified.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(g.queue.enqueued.at(-1)).toMatchObject({ version: 2, alias: 'latest' });
    await expectLambdaError(await signed('POST', '/2015-03-31/functions/f/invocations?Qualifier=latest', {}), 404, 'ResourceNotFoundException');
  });

  it('reads the configuration of the alias\'s version under the alias\'s ARN', async () => {
    const configuration = await expectJson(await signed('GET', '/2015-03-31/functions/f/configuration?Qualifier=live'));
    expect(configuration).toMatchObject({ FunctionArn: `${ARN}f:live`, Version: '1', State: 'Active', LastUpdateStatus: 'Successful' });
    const fn = await expectJson(await signed('GET', '/2015-03-31/functions/f:live'));
    expect(fn.Configuration).toMatchObject({ FunctionArn: `${ARN}f:live`, Version: '1' });
    await expectLambdaError(await signed('GET', '/2015-03-31/functions/f?Qualifier=gone'), 404, 'ResourceNotFoundException');
  });

  it('deletes a version no alias points at; one an alias holds is a conflict', async () => {
    g.functions.seed('default', 'f');
    expect((await signed('DELETE', '/2015-03-31/functions/f?Qualifier=2')).status).toBe(204);
    expect(await g.functions.getVersion('default', 'f', 2)).toBeNull();
    expect(await expectLambdaError(await signed('DELETE', '/2015-03-31/functions/f?Qualifier=1'), 409, 'ResourceConflictException')).toContain('"live"');
    await expectLambdaError(await signed('DELETE', '/2015-03-31/functions/f?Qualifier=7'), 404, 'ResourceNotFoundException');
    await expectLambdaError(await signed('DELETE', '/2015-03-31/functions/f?Qualifier=$LATEST'), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('DELETE', '/2015-03-31/functions/f?Qualifier=live'), 400, 'InvalidParameterValueException');
    expect(await g.functions.get('default', 'f')).not.toBeNull();
  });
});
