/**
 * The AWS Lambda API end to end, managing functions: get, update code and
 * configuration, publish, list versions and delete, as Hearth's own API
 * then sees them; and Lambda-shaped errors the SDK raises as its own types.
 * Driven by `@aws-sdk/client-lambda` itself against a real platform with
 * only the endpoint changed (SigV4 with Hearth keys as secrets).
 */
import {
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListFunctionsCommand,
  ListLayersCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { ARN_PREFIX, createNode, failureOf, json, useLambdaPlatform, NODE_GREETER, parsePayload } from '../helpers/lambda-sdk.ts';
import { uniqueName, zipOf } from '../helpers/packages.ts';
import { fetchWithoutKey, type Platform } from '../helpers/platform.ts';

describe('AWS Lambda API: managing functions', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  useLambdaPlatform((started) => ({ platform, lambda } = started));

  it('gets, updates code and configuration, publishes, lists versions and deletes', async () => {
    const name = uniqueName('lambda-life');
    await createNode(lambda, name, { Environment: { Variables: { GREETING: 'hi' } }, Publish: true });

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    expect(got.Configuration).toMatchObject({ FunctionName: name, Version: '$LATEST', FunctionArn: `${ARN_PREFIX}${name}` });
    expect(got.Code?.RepositoryType).toBe('S3');
    expect(got.Code?.Location).toBe(`${platform.url}/v1/functions/${name}`);

    const code = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: await zipOf({ 'index.js': NODE_GREETER('v2') }), Publish: true }),
    );
    expect(code).toMatchObject({ Version: '2', FunctionArn: `${ARN_PREFIX}${name}:2`, Environment: { Variables: { GREETING: 'hi' } } });
    expect(code.CodeSha256).not.toBe(got.Configuration?.CodeSha256);
    expect(parsePayload((await lambda.send(new InvokeCommand({ FunctionName: name }))).Payload).tag).toBe('v2');
    expect(parsePayload((await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: '1' }))).Payload).tag).toBe('v1');

    const configured = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 10, MemorySize: 256, Environment: { Variables: { GREETING: 'hello' } } }),
    );
    expect(configured).toMatchObject({ Version: '$LATEST', Timeout: 10, MemorySize: 256, CodeSha256: code.CodeSha256, Environment: { Variables: { GREETING: 'hello' } } });
    const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    expect(configuration).toMatchObject({ Timeout: 10, MemorySize: 256, Handler: 'index.handler', Runtime: 'nodejs20.x' });
    const after = parsePayload((await lambda.send(new InvokeCommand({ FunctionName: name }))).Payload);
    expect(after).toMatchObject({ tag: 'v2', greeting: 'hello', version: '3' });
    // Hearth made version 3 from version 2's code and the new settings.
    const hearth = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(hearth.latestVersion).toBe(3);
    expect(hearth.versions[0]).toMatchObject({ version: 3, timeoutMs: 10_000, memoryMb: 256, codeSha256: hearth.versions[1].codeSha256 });

    const published = await lambda.send(new PublishVersionCommand({ FunctionName: name, CodeSha256: configured.CodeSha256 }));
    expect(published).toMatchObject({ Version: '3', FunctionArn: `${ARN_PREFIX}${name}:3` });
    const stale = await failureOf(lambda.send(new PublishVersionCommand({ FunctionName: name, CodeSha256: got.Configuration?.CodeSha256 })));
    expect(stale.name).toBe('PreconditionFailedException');

    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2', '3']);
    expect(versions.NextMarker).toBeUndefined();
    const first = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name, MaxItems: 3 }));
    expect(first.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    const rest = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name, MaxItems: 3, Marker: first.NextMarker }));
    expect(rest.Versions?.map((v) => v.Version)).toEqual(['3']);
    expect(rest.NextMarker).toBeUndefined();
    const v1 = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: '1' }));
    expect(v1).toMatchObject({ Version: '1', Timeout: 3, FunctionArn: `${ARN_PREFIX}${name}:1` });

    const deleted = await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const gone = await failureOf(lambda.send(new GetFunctionCommand({ FunctionName: name })));
    expect(gone.name).toBe('ResourceNotFoundException');
    expect((await platform.api(`/v1/functions/${name}`)).status).toBe(404);
  });

  it('raises Lambda errors as the SDK types them', async () => {
    const missing = uniqueName('no-such-fn');
    const notFound = await failureOf(lambda.send(new InvokeCommand({ FunctionName: missing, Payload: json({}) })));
    expect(notFound.name).toBe('ResourceNotFoundException');
    expect(notFound.$metadata.httpStatusCode).toBe(404);
    expect(notFound.message).toBe(`Function not found: ${ARN_PREFIX}${missing}`);
    expect((await failureOf(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: missing })))).name).toBe('ResourceNotFoundException');
    expect((await failureOf(lambda.send(new DeleteFunctionCommand({ FunctionName: missing })))).name).toBe('ResourceNotFoundException');

    const badRuntime = await failureOf(createNode(lambda, uniqueName('lambda-java'), { Runtime: 'java21' }));
    expect(badRuntime.name).toBe('InvalidParameterValueException');
    expect(badRuntime.$metadata.httpStatusCode).toBe(400);
    expect(badRuntime.message).toContain('java21');

    const name = uniqueName('lambda-twice');
    await createNode(lambda, name);
    const twice = await failureOf(createNode(lambda, name));
    expect(twice.name).toBe('ResourceConflictException');
    expect(twice.$metadata.httpStatusCode).toBe(409);
    const noVersion = await failureOf(lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: '7' })));
    expect(noVersion.name).toBe('ResourceNotFoundException');
    // Past the largest version there can be: a caller's mistake, not a platform fault.
    const pastLast = await failureOf(lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: '9999999999' })));
    expect(pastLast.name).toBe('InvalidParameterValueException');
    expect(pastLast.$metadata.httpStatusCode).toBe(400);
    const badPage = await failureOf(lambda.send(new ListFunctionsCommand({ MaxItems: 10_001 })));
    expect(badPage.name).toBe('InvalidParameterValueException');
    expect(badPage.message).toContain('from 1 to 10000');
    const badJson = await failureOf(lambda.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode('{nope') })));
    expect(badJson.name).toBe('InvalidRequestContentException');
    const noHandler = await failureOf(createNode(lambda, uniqueName('lambda-nohandler'), { Handler: 'missing.handler' }));
    expect(noHandler.name).toBe('InvalidParameterValueException');
    // Starts like a zip ("PK\x03") but is not one.
    const notZip = await failureOf(createNode(lambda, uniqueName('lambda-notzip'), { Code: { ZipFile: Buffer.from('PK\x03\x07exports.handler = 1;') } }));
    expect(notZip.name).toBe('InvalidParameterValueException');
    expect(notZip.message).toContain('Could not unzip');
    const unserved = await failureOf(lambda.send(new ListLayersCommand({})));
    expect(unserved.name).toBe('UnknownOperationException');
    expect(unserved.$metadata.httpStatusCode).toBe(404);

    // On the wire: Lambda's body and error-type header, not the platform's { error } shape.
    const raw = await fetchWithoutKey(`${platform.url}/2015-03-31/functions/`);
    expect(raw.status).toBe(403);
    expect(raw.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(raw.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await raw.json()).toEqual({ Type: 'User', message: 'Missing Authentication Token' });
  });
});
