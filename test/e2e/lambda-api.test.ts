/**
 * The AWS Lambda API subset end to end, driven by `@aws-sdk/client-lambda`
 * itself (and the AWS CLI when installed) against a real platform with only
 * the endpoint changed: SigV4 with Hearth keys as secrets, functions made
 * and changed through Lambda operations, invocations that Hearth's own API
 * then finds, and Lambda-shaped errors the SDK raises as its own types.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type CreateFunctionCommandInput,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, zipOf } from '../helpers/packages.ts';
import { fetchWithoutKey, recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

const ADMIN = 'lambda-admin-key-0123456789abcdef';
const REGION = 'us-east-1';
const ARN_PREFIX = `arn:aws:lambda:${REGION}:000000000000:function:`;

const NODE_GREETER = (tag: string) => `
exports.handler = async (event, context) => {
  console.log('called by', event.name);
  if (event.fail) throw new TypeError('boom: ' + event.fail);
  return { hello: event.name ?? 'world', greeting: process.env.GREETING ?? null, tag: ${JSON.stringify(tag)}, version: context.functionVersion };
};
`;

const PYTHON_HANDLER = `
def lambda_handler(event, context):
    print("python got", event.get("n"))
    return {"doubled": event.get("n", 0) * 2, "name": context.function_name}
`;

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parsePayload = (payload: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(payload));

/** The error an SDK call rejects with (so a test can assert on its name and status). */
async function failureOf(work: Promise<unknown>): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await work;
  } catch (err) {
    return err as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

const execFileAsync = promisify(execFile);

/** The `aws` CLI on PATH (and its major version), or null. */
async function findAwsCli(): Promise<{ major: number } | null> {
  try {
    const { stdout, stderr } = await execFileAsync('aws', ['--version'], { timeout: 30_000 });
    const match = /aws-cli\/(\d+)\./.exec(stdout + stderr);
    return match ? { major: Number(match[1]) } : null;
  } catch {
    return null;
  }
}
const awsCli = await findAwsCli();

describe('AWS Lambda API', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  const clients: LambdaClient[] = [];

  const clientWith = (accessKeyId: string, secretAccessKey: string, extra: { systemClockOffset?: number } = {}) => {
    const client = new LambdaClient({
      endpoint: platform.url,
      region: REGION,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
      ...extra,
    });
    clients.push(client);
    return client;
  };

  const createNode = async (client: LambdaClient, name: string, overrides: Partial<CreateFunctionCommandInput> = {}) =>
    client.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: 'arn:aws:iam::123456789012:role/lambda-test',
        Code: { ZipFile: await zipOf({ 'index.js': NODE_GREETER('v1') }) },
        ...overrides,
      }),
    );

  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN });
    lambda = clientWith('HEARTHDEFAULT', platform.apiKey);
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await platform?.stop();
  });

  it('creates a Node function from a zip and invokes it: payload, log tail, executed version', async () => {
    const name = uniqueName('lambda-node');
    const created = await createNode(lambda, name, {
      MemorySize: 128,
      Timeout: 5,
      Environment: { Variables: { GREETING: 'hi' } },
      Publish: true,
    });
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({
      FunctionName: name,
      FunctionArn: `${ARN_PREFIX}${name}:1`,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: 'arn:aws:iam::123456789012:role/lambda-test',
      MemorySize: 128,
      Timeout: 5,
      Version: '1',
      Environment: { Variables: { GREETING: 'hi' } },
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
    });
    expect(created.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(created.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    // The same function, as Hearth's own API sees it.
    const hearth = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(hearth.latest).toMatchObject({ version: 1, runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 5000, memoryMb: 128, env: { GREETING: 'hi' } });

    const result = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: json({ name: 'Ada' }), LogType: 'Tail' }));
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBeUndefined();
    expect(result.ExecutedVersion).toBe('$LATEST');
    expect(parsePayload(result.Payload)).toEqual({ hello: 'Ada', greeting: 'hi', tag: 'v1', version: '1' });
    const log = Buffer.from(result.LogResult!, 'base64').toString('utf8');
    expect(log).toContain('called by Ada');
    expect(log).toMatch(/^START RequestId: [0-9a-f-]{36} Version: 1\n/);
    expect(log).toMatch(/END RequestId: [0-9a-f-]{36}\nREPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms/);
    // The request id is Hearth's invocation id.
    const record = await recordOf(platform, result.$metadata.requestId!);
    expect(record).toMatchObject({ status: 'succeeded', functionName: name, version: 1 });

    const pinned = await lambda.send(new InvokeCommand({ FunctionName: `${ARN_PREFIX}${name}`, Qualifier: '1', Payload: json({}) }));
    expect(pinned.ExecutedVersion).toBe('1');
    expect(pinned.LogResult).toBeUndefined();
    expect(parsePayload(pinned.Payload).hello).toBe('world');
  });

  it('creates a Python function from a zip and invokes it', async () => {
    const name = uniqueName('lambda-py');
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'python3.12',
        Handler: 'lambda_function.lambda_handler',
        Role: 'arn:aws:iam::123456789012:role/lambda-test',
        Code: { ZipFile: await zipOf({ 'lambda_function.py': PYTHON_HANDLER }) },
      }),
    );
    expect(created).toMatchObject({ FunctionName: name, Runtime: 'python3.11', Version: '$LATEST', FunctionArn: `${ARN_PREFIX}${name}` });
    const result = await lambda.send(new InvokeCommand({ FunctionName: `${name}:$LATEST`, Payload: json({ n: 21 }), LogType: 'Tail' }));
    expect(parsePayload(result.Payload)).toEqual({ doubled: 42, name });
    expect(Buffer.from(result.LogResult!, 'base64').toString('utf8')).toContain('python got 21');
  });

  it('queues an Event invocation (202), recorded like any other; DryRun only checks (204)', async () => {
    const name = uniqueName('lambda-event');
    await createNode(lambda, name);
    const queued = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: json({ name: 'async' }) }));
    expect(queued.StatusCode).toBe(202);
    expect(queued.Payload?.length ?? 0).toBe(0);
    const record = await recordOf(platform, queued.$metadata.requestId!, 30_000);
    expect(record).toMatchObject({ status: 'succeeded', mode: 'async', functionName: name });
    expect(record.result).toMatchObject({ hello: 'async' });

    const dry = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
  });

  it("answers a function's own error as Lambda does: 200, FunctionError Unhandled, the error document", async () => {
    const name = uniqueName('lambda-error');
    await createNode(lambda, name);
    const result = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: json({ fail: 'on purpose' }) }));
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBe('Unhandled');
    const error = parsePayload(result.Payload);
    expect(error).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom: on purpose' });
    expect(Array.isArray(error.stackTrace)).toBe(true);
    expect(error.stackTrace.join('\n')).toContain('index.js');

    const slow = uniqueName('lambda-slow');
    await createNode(lambda, slow, { Timeout: 1, Code: { ZipFile: await zipOf({ 'index.js': 'exports.handler = () => new Promise((r) => setTimeout(r, 5000));' }) } });
    const timedOut = await lambda.send(new InvokeCommand({ FunctionName: slow }));
    expect(timedOut.FunctionError).toBe('Unhandled');
    expect(parsePayload(timedOut.Payload)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('timed out') });
  });

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
    const unserved = await failureOf(lambda.send(new ListAliasesCommand({ FunctionName: name })));
    expect(unserved.name).toBe('UnknownOperationException');
    expect(unserved.$metadata.httpStatusCode).toBe(404);

    // On the wire: Lambda's body and error-type header, not the platform's { error } shape.
    const raw = await fetchWithoutKey(`${platform.url}/2015-03-31/functions/`);
    expect(raw.status).toBe(403);
    expect(raw.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(raw.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await raw.json()).toEqual({ Type: 'User', message: 'Missing Authentication Token' });
  });

  it('refuses a wrong secret, an unknown key id, a changed body and a stale signature', async () => {
    const tampered = await failureOf(clientWith('HEARTHDEFAULT', `${platform.apiKey}x`).send(new ListFunctionsCommand({})));
    expect(tampered.name).toBe('InvalidSignatureException');
    expect(tampered.$metadata.httpStatusCode).toBe(403);
    // The admin key signs only as HEARTHADMIN.
    expect((await failureOf(clientWith('HEARTHDEFAULT', ADMIN).send(new ListFunctionsCommand({})))).name).toBe('InvalidSignatureException');
    expect((await clientWith('HEARTHADMIN', ADMIN).send(new ListFunctionsCommand({}))).Functions).toBeDefined();

    const unknown = await failureOf(clientWith('AKIAIOSFODNN7EXAMPLE', platform.apiKey).send(new ListFunctionsCommand({})));
    expect(unknown.name).toBe('UnrecognizedClientException');
    expect(unknown.$metadata.httpStatusCode).toBe(403);
    const unknownKey = await failureOf(clientWith(`HK${'0'.repeat(32)}`, platform.apiKey).send(new ListFunctionsCommand({})));
    expect(unknownKey.name).toBe('UnrecognizedClientException');

    // A body swapped after signing: the signature covers its hash.
    const name = uniqueName('lambda-swap');
    await createNode(lambda, name);
    const swapping = clientWith('HEARTHDEFAULT', platform.apiKey);
    type Middleware = Parameters<LambdaClient['middlewareStack']['addRelativeTo']>[0];
    const swapBody = (next: (args: { request: { body: unknown; headers: Record<string, string> } }) => Promise<unknown>) =>
      async (args: { request: { body: unknown; headers: Record<string, string> } }) => {
        const body = new TextEncoder().encode(JSON.stringify({ name: 'Mallory' }));
        args.request.body = body;
        args.request.headers['content-length'] = String(body.length);
        return next(args);
      };
    swapping.middlewareStack.addRelativeTo(swapBody as unknown as Middleware, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'swapBody',
    });
    const swapped = await failureOf(swapping.send(new InvokeCommand({ FunctionName: name, Payload: json({ name: 'Alice' }) })));
    expect(swapped.name).toBe('InvalidSignatureException');

    // The scope's region ends up in every ARN: one not shaped like AWS's is refused.
    for (const region of ['moon', `us-${'x'.repeat(40)}-1`]) {
      const client = new LambdaClient({ endpoint: platform.url, region, credentials: { accessKeyId: 'HEARTHDEFAULT', secretAccessKey: platform.apiKey }, maxAttempts: 1 });
      clients.push(client);
      const odd = await failureOf(client.send(new ListFunctionsCommand({})));
      expect(odd.name).toBe('InvalidSignatureException');
      expect(odd.$metadata.httpStatusCode).toBe(403);
    }

    // Signed 20 minutes ago: outside the 15-minute window.
    const stale = await failureOf(clientWith('HEARTHDEFAULT', platform.apiKey, { systemClockOffset: -20 * 60_000 }).send(new ListFunctionsCommand({})));
    expect(stale.name).toBe('InvalidSignatureException');
    expect(stale.message).toContain('Signature expired');
  });

  it('gives a namespace key its own access key id; it sees only its namespace, pages its list, and stops at revocation', async () => {
    const admin = (path: string, body: unknown, method = 'POST') =>
      platform.api(path, { method, headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(body) });
    const tenant = uniqueName('lambda-tenant');
    expect((await admin('/v1/namespaces', { name: tenant })).status).toBe(201);
    const created = await (await admin(`/v1/namespaces/${tenant}/keys`, { name: 'sdk' })).json();
    expect(created.lambdaAccessKeyId).toBe(`HK${created.id.replace(/-/g, '').toUpperCase()}`);
    // Stored sealed, never in the clear.
    const { rows } = await platform.database.pool.query('select lambda_secret from api_keys where id = $1', [created.id]);
    expect(rows[0].lambda_secret).toMatch(/^v1\./);
    expect(rows[0].lambda_secret).not.toContain(created.key);

    const tenantLambda = clientWith(created.lambdaAccessKeyId, created.key);
    const names = ['c', 'a', 'b', 'd', 'e'].map((letter) => `${letter}-${uniqueName('fn')}`);
    for (const name of names) await createNode(tenantLambda, name);
    const mine = await tenantLambda.send(new InvokeCommand({ FunctionName: names[0], Payload: json({ name: 'tenant' }) }));
    expect(parsePayload(mine.Payload).hello).toBe('tenant');

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await tenantLambda.send(new ListFunctionsCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }));
      expect(page.Functions!.length).toBeLessThanOrEqual(2);
      seen.push(...page.Functions!.map((f) => f.FunctionName!));
      marker = page.NextMarker;
      pages += 1;
    } while (marker);
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);

    // The default namespace does not see the tenant's functions, and the tenant does not see default's.
    expect((await failureOf(lambda.send(new GetFunctionCommand({ FunctionName: names[0] })))).name).toBe('ResourceNotFoundException');
    const defaultName = uniqueName('lambda-default-only');
    await createNode(lambda, defaultName);
    expect((await failureOf(tenantLambda.send(new InvokeCommand({ FunctionName: defaultName })))).name).toBe('ResourceNotFoundException');

    expect((await admin(`/v1/namespaces/${tenant}/keys/${created.id}`, undefined, 'DELETE')).status).toBe(204);
    const revoked = await failureOf(tenantLambda.send(new ListFunctionsCommand({})));
    expect(revoked.name).toBe('UnrecognizedClientException');
  });

  it.skipIf(!awsCli)(
    `works with the AWS CLI's lambda invoke${awsCli ? '' : ' (skipped: no `aws` on PATH; Debian: apt-get install awscli)'}`,
    async () => {
      const name = uniqueName('lambda-cli');
      await createNode(lambda, name);
      const dir = await mkdtemp(join(tmpdir(), 'hearth-aws-cli-'));
      try {
        const out = join(dir, 'out.json');
        const args = ['lambda', 'invoke', '--endpoint-url', platform.url, '--function-name', name, '--payload', '{"name":"cli"}', '--log-type', 'Tail'];
        // CLI v2 reads --payload as base64 unless told otherwise; v1 takes it as is.
        if (awsCli!.major >= 2) args.push('--cli-binary-format', 'raw-in-base64-out');
        const { stdout } = await execFileAsync('aws', [...args, out], {
          timeout: 60_000,
          env: {
            // The caller's environment minus its AWS settings (HOME stays: pyenv shims need it).
            ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
            AWS_ACCESS_KEY_ID: 'HEARTHDEFAULT',
            AWS_SECRET_ACCESS_KEY: platform.apiKey,
            AWS_DEFAULT_REGION: REGION,
            AWS_CONFIG_FILE: join(dir, 'config'),
            AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
            AWS_EC2_METADATA_DISABLED: 'true',
            AWS_PAGER: '',
          },
        });
        const answer = JSON.parse(stdout);
        expect(answer).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
        expect(Buffer.from(answer.LogResult, 'base64').toString('utf8')).toContain('called by cli');
        expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ hello: 'cli', tag: 'v1' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
