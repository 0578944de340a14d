/**
 * Custom runtimes (`provided`) without a cold start, and through the Lambda
 * API: a worker pre-warming the `provided` class (`provided:128=1`, as
 * HEARTH_PREWARM=provided:128=1 sets it) hands its container to a freshly
 * deployed C, Rust or shell bootstrap; `minWarm` has a version's container
 * initialised before its first call; CreateFunction with Runtime
 * provided.al2023 and Invoke, as the AWS SDK sends them. Real gateway,
 * worker, Docker, Redis and Postgres.
 */
import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapZip, type BootstrapLanguage } from '../fixtures/provided/build-bootstraps.ts';
import { ADMIN, json, lambdaClients, parsePayload } from '../helpers/lambda-sdk.ts';
import { deploy, invoke, uniqueName, type DeployFields } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

describe('custom runtimes (provided): pre-warmed, provisioned, and through the Lambda API', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  const sdk = lambdaClients(() => platform.url);

  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN, prewarm: [{ runtime: 'provided', memoryMb: 128, count: 1 }] });
    lambda = sdk.clientWith('HEARTHDEFAULT', platform.apiKey);
    // Build all three before any clock starts.
    await Promise.all((['c', 'rust', 'shell'] as const).map((l) => bootstrapZip(l)));
  }, 120_000);
  /** Functions with minWarm: deleted at the end, or every later worker of the run (one database) would keep provisioning them. */
  const provisioned: string[] = [];
  afterAll(async () => {
    sdk.destroyAll();
    for (const name of provisioned) await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await platform?.stop();
  });

  const deployBootstrap = async (language: BootstrapLanguage, name: string, fields: Partial<DeployFields> = {}) => {
    const res = await deploy(platform, name, { bytes: await bootstrapZip(language), filename: 'function.zip' }, {
      runtime: 'provided',
      memoryMb: 128,
      timeoutMs: 3000,
      env: { GREETING: `warm ${language}` },
      ...fields,
    });
    expect(res.status, await res.clone().text()).toBe(201);
  };

  /** Pre-warmed `provided` containers idle in the pool, their agents connected. */
  const prewarmedProvided = () => platform.worker.stats().byRuntime.provided?.prewarmed ?? 0;

  it.each(['c', 'rust', 'shell'] as const)('gives a new %s function the pre-warmed provided container: its first call is not a cold start', async (language) => {
    await waitFor('a pre-warmed provided container', () => prewarmedProvided() >= 1, 30_000, 20);
    const name = uniqueName(`prov-pre-${language}`);
    await deployBootstrap(language, name, { handler: `pre.${language}` });
    const res = await invoke(platform, name, { op: 'echo' });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('x-start-kind')).toBe('prewarmed');
    // The container was started before the function existed; its bootstrap still sees this function.
    expect(JSON.parse(text)).toMatchObject({
      invocations: 1,
      env: { _HANDLER: `pre.${language}`, GREETING: `warm ${language}`, AWS_LAMBDA_FUNCTION_NAME: name, LAMBDA_TASK_ROOT: '/var/task' },
    });
    const record = await recordOf(platform, res.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'succeeded', startKind: 'prewarmed' });
    expect(record.logs).toContain(`${language}: handling ${res.headers.get('x-invocation-id')}`);
    // The pool tops itself up for the next function.
    await waitFor('the pre-warmed provided container replaced', () => prewarmedProvided() >= 1, 30_000, 20);
  });

  it('initialises a minWarm version of a bootstrap before its first call', async () => {
    const name = uniqueName('prov-minwarm');
    provisioned.push(name);
    await deployBootstrap('c', name, { memoryMb: 256, minWarm: 1 });
    await waitFor('the provisioned provided container', async () => {
      const { workers } = await (await platform.api('/v1/workers', { headers: { authorization: `Bearer ${ADMIN}` } })).json();
      const mine = (workers as { workerId: string; warm: { functionName: string; idle: number }[] }[]).find((w) => w.workerId === platform.workerId);
      return (mine?.warm.find((e) => e.functionName === name)?.idle ?? 0) >= 1;
    }, 30_000, 100);
    const res = await invoke(platform, name, { op: 'echo' });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('x-start-kind')).toBe('warm');
    expect(res.headers.get('x-cold-start')).toBe('false');
    expect(JSON.parse(text)).toMatchObject({ lang: 'c', invocations: 1, env: { GREETING: 'warm c' } });
    const record = await recordOf(platform, res.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'succeeded', coldStart: false, timings: { initMs: 0 } });
  });

  it('creates a provided.al2023 function with the Lambda API and invokes it: payload, log tail, function error', async () => {
    const name = uniqueName('lambda-provided');
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'provided.al2023',
        Handler: 'my.handler',
        Role: 'arn:aws:iam::123456789012:role/lambda-test',
        Code: { ZipFile: await bootstrapZip('rust') },
        Environment: { Variables: { GREETING: 'from the sdk' } },
        MemorySize: 128,
        Timeout: 3,
      }),
    );
    expect(created).toMatchObject({ FunctionName: name, Runtime: 'provided.al2023', Handler: 'my.handler', State: 'Active' });
    expect((await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration).toMatchObject({ Runtime: 'provided.al2023' });

    const result = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: json({ op: 'echo', via: 'sdk' }), LogType: 'Tail' }));
    expect(result.StatusCode).toBe(200);
    expect(result.FunctionError).toBeUndefined();
    const payload = parsePayload(result.Payload);
    expect(payload).toMatchObject({
      lang: 'rust',
      requestId: result.$metadata.requestId,
      env: { _HANDLER: 'my.handler', GREETING: 'from the sdk', AWS_LAMBDA_FUNCTION_NAME: name },
      event: { op: 'echo', via: 'sdk' },
    });
    const log = Buffer.from(result.LogResult!, 'base64').toString('utf8');
    expect(log).toContain(`rust: handling ${result.$metadata.requestId}`);

    const failed = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: json({ op: 'error' }) }));
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(parsePayload(failed.Payload)).toMatchObject({ errorType: 'Custom.RustBootstrapError', errorMessage: 'rust bootstrap failed on purpose' });
  });
});
