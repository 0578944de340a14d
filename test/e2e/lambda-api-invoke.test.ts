/**
 * The AWS Lambda API end to end, making and calling functions: Node and
 * Python functions created from a zip and invoked (payload, log tail,
 * executed version), Event and DryRun invocations that Hearth's own API then
 * finds, a function's own failure answered as Lambda does, and the AWS CLI.
 * Driven by `@aws-sdk/client-lambda` itself against a real platform with
 * only the endpoint changed (SigV4 with Hearth keys as secrets).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { ARN_PREFIX, createNode, json, useLambdaPlatform, parsePayload, REGION } from '../helpers/lambda-sdk.ts';
import { uniqueName, zipOf } from '../helpers/packages.ts';
import { recordOf, type Platform } from '../helpers/platform.ts';

const PYTHON_HANDLER = `
def lambda_handler(event, context):
    print("python got", event.get("n"))
    return {"doubled": event.get("n", 0) * 2, "name": context.function_name}
`;

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

describe('AWS Lambda API: creating and invoking functions', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  useLambdaPlatform((started) => ({ platform, lambda } = started));

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
