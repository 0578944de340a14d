/**
 * An open-source deploy tool from npm against Hearth's Lambda API:
 * `node-lambda` (its own CLI, unchanged, with aws-sdk v2 inside), given
 * only Hearth's endpoint (`--endpoint`) and a Hearth key as its AWS
 * credentials. Its first deploy creates the function; each later one reads
 * the function and its event source mappings, updates the configuration,
 * polls `LastUpdateStatus`, updates the code with `Publish` and replaces
 * the tags, which is the path that once failed on
 * `GET /2015-03-31/event-source-mappings/`. What it did is then read back
 * through the AWS SDK and Hearth's own API.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetFunctionCommand, InvokeCommand, ListTagsCommand, ListVersionsByFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARN_PREFIX, NODE_GREETER, REGION, parsePayload, useLambdaPlatform } from '../helpers/lambda-sdk.ts';
import { uniqueName } from '../helpers/packages.ts';
import type { Platform } from '../helpers/platform.ts';

const execFileAsync = promisify(execFile);
const NODE_LAMBDA = resolve(import.meta.dirname, '..', '..', 'node_modules', 'node-lambda', 'bin', 'node-lambda');

describe('a deploy tool from npm (node-lambda) against the Lambda API', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  useLambdaPlatform((started) => ({ platform, lambda } = started));
  let project: string;
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'node-lambda-project-'));
    await mkdir(join(project, 'build'));
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  /** `node-lambda deploy` of `build/` as a user runs it, pointed at Hearth; resolves with its output, rejects when it fails. */
  const deploy = async (name: string, options: string[]) => {
    const args = [NODE_LAMBDA, 'deploy', '--endpoint', platform.url, '--accessKey', 'HEARTHDEFAULT', '--secretKey', platform.apiKey, '--region', REGION];
    args.push('--functionName', name, '--handler', 'index.handler', '--runtime', 'nodejs20.x', '--role', 'arn:aws:iam::123456789012:role/deploy');
    args.push('--prebuiltDirectory', join(project, 'build'), '--publish', 'true', ...options);
    // A home of its own: no AWS profile or config of this machine's is read.
    const env = { PATH: process.env.PATH ?? '', HOME: project };
    const { stdout, stderr } = await execFileAsync(process.execPath, args, { cwd: project, env, timeout: 120_000 }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`node-lambda failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    return `${stdout}\n${stderr}`;
  };
  /** Fails the test with node-lambda's output unless it ended well (it sets exit code 1 and prints the error otherwise). */
  const expectDeployed = (output: string) => {
    expect(output, output).toContain('=> Done uploading');
    expect(output, output).not.toMatch(/UnknownOperationException|ResourceNotFoundException|InvalidParameterValueException|Error:/);
  };

  it('creates, then updates code and configuration and publishes, as on AWS', async () => {
    const name = uniqueName('node-lambda');
    await writeFile(join(project, 'build', 'index.js'), NODE_GREETER('v1'));
    await writeFile(join(project, 'deploy.env'), 'GREETING=hello\n');
    expectDeployed(await deploy(name, ['--memorySize', '128', '--timeout', '5', '--configFile', join(project, 'deploy.env'), '--tags', 'team=hearth']));

    const created = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    expect(created.Configuration).toMatchObject({ FunctionName: name, MemorySize: 128, Timeout: 5, Environment: { Variables: { GREETING: 'hello' } } });
    expect(parsePayload((await lambda.send(new InvokeCommand({ FunctionName: name }))).Payload)).toMatchObject({ tag: 'v1', greeting: 'hello' });
    expect(created.Tags).toEqual({ team: 'hearth' });

    // The second deploy: new code, new settings, other tags.
    await writeFile(join(project, 'build', 'index.js'), NODE_GREETER('v2'));
    await writeFile(join(project, 'deploy.env'), 'GREETING=again\n');
    const output = await deploy(name, ['--memorySize', '256', '--timeout', '9', '--configFile', join(project, 'deploy.env'), '--tags', 'team=platform,stage=prod']);
    expectDeployed(output);

    const updated = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    expect(updated.Configuration).toMatchObject({ MemorySize: 256, Timeout: 9, Environment: { Variables: { GREETING: 'again' } }, State: 'Active', LastUpdateStatus: 'Successful' });
    expect(updated.Configuration?.CodeSha256).not.toBe(created.Configuration?.CodeSha256);
    const invoked = await lambda.send(new InvokeCommand({ FunctionName: name }));
    expect(parsePayload(invoked.Payload)).toMatchObject({ tag: 'v2', greeting: 'again' });
    expect((await lambda.send(new ListTagsCommand({ Resource: `${ARN_PREFIX}${name}` }))).Tags).toEqual({ team: 'platform', stage: 'prod' });

    // Published: create made 1; the update made 2 (configuration) and 3 (code, published), which $LATEST is.
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2', '3']);
    const v3 = parsePayload((await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: '3' }))).Payload);
    expect(v3).toMatchObject({ tag: 'v2', greeting: 'again', version: '3' });
    const hearth = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(hearth).toMatchObject({ latestVersion: 3 });
    expect(hearth.versions[0]).toMatchObject({ version: 3, memoryMb: 256, timeoutMs: 9000, env: { GREETING: 'again' } });
  });
});
