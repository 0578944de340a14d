/**
 * Lambda configuration operations in memory: UpdateFunctionConfiguration
 * with the fields deploy tools send (ignored when Hearth has no use for
 * them, refused when it cannot honour them), the states tools poll,
 * RevisionId checks, reserved concurrency onto maxConcurrency and
 * provisioned concurrency onto the minWarm of an alias or a version.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { zipOf } from '../helpers/code-fixtures.ts';
import { createFakeGateway, workerReport, type FakeGateway } from './fake-deps.ts';
import { ARN, expectJson, expectLambdaError, signedLambda } from './lambda-signed.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});
const signed = signedLambda(() => g);
const latest = async () => (await g.functions.get('default', 'f'))!;

describe('Lambda UpdateFunctionConfiguration as deploy tools send it', () => {
  it('takes what Hearth has and ignores what it has no use for', async () => {
    g.functions.seed('default', 'f', { maxConcurrency: 4, keepAliveMs: 60_000 });
    const body = {
      Timeout: 7,
      MemorySize: 256,
      Description: 'd',
      Role: 'arn:aws:iam::1:role/r',
      VpcConfig: { SubnetIds: [], SecurityGroupIds: [] },
      KMSKeyArn: '',
      DeadLetterConfig: {},
      TracingConfig: { Mode: 'Active' },
      Layers: [],
      EphemeralStorage: { Size: 1024 },
      SnapStart: { ApplyOn: 'None' },
    };
    const configured = await expectJson(await signed('PUT', '/2015-03-31/functions/f/configuration', body));
    expect(configured).toMatchObject({ Timeout: 7, MemorySize: 256, State: 'Active', LastUpdateStatus: 'Successful', PackageType: 'Zip' });
    expect((await latest()).latest).toMatchObject({ version: 2, timeoutMs: 7000, memoryMb: 256, maxConcurrency: 4, keepAliveMs: 60_000 });
    const polled = await expectJson(await signed('GET', '/2015-03-31/functions/f'));
    expect(polled.Configuration).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful', VpcConfig: { SubnetIds: [] } });
  });

  it.each([
    ['layers', { Layers: ['arn:aws:lambda:us-east-1:1:layer:x:1'] }],
    ['subnets', { VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] } }],
    ['a file system', { FileSystemConfigs: [{ Arn: 'x', LocalMountPath: '/mnt/x' }] }],
    ['an ephemeral storage Lambda refuses', { EphemeralStorage: { Size: 100 } }],
  ])('refuses %s with 400 InvalidParameterValueException, making no version', async (_what, body) => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/configuration', body), 400, 'InvalidParameterValueException');
    expect((await latest()).latestVersion).toBe(1);
  });

  it('refuses an update against an older RevisionId 412 and takes the current one', async () => {
    g.functions.seed('default', 'f');
    const { RevisionId } = await expectJson(await signed('GET', '/2015-03-31/functions/f/configuration'));
    await expectJson(await signed('PUT', '/2015-03-31/functions/f/configuration', { Timeout: 5, RevisionId }));
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/configuration', { Timeout: 6, RevisionId }), 412, 'PreconditionFailedException');
    const zip = (await zipOf([{ path: 'index.js', data: 'exports.handler = async () => 1;' }])).toString('base64');
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/code', { ZipFile: zip, RevisionId }), 412, 'PreconditionFailedException');
    expect((await latest()).latestVersion).toBe(2);
  });
});

describe('Lambda reserved concurrency', () => {
  it('puts, gets and deletes maxConcurrency, each change a new version', async () => {
    g.functions.seed('default', 'f');
    expect(await expectJson(await signed('GET', '/2019-09-30/functions/f/concurrency'))).toEqual({});
    expect(await expectJson(await signed('PUT', '/2017-10-31/functions/f/concurrency', { ReservedConcurrentExecutions: 5 }))).toEqual({ ReservedConcurrentExecutions: 5 });
    expect((await latest()).latest).toMatchObject({ version: 2, maxConcurrency: 5 });
    expect(await expectJson(await signed('GET', '/2019-09-30/functions/f/concurrency'))).toEqual({ ReservedConcurrentExecutions: 5 });
    expect((await expectJson(await signed('GET', '/2015-03-31/functions/f'))).Concurrency).toEqual({ ReservedConcurrentExecutions: 5 });
    await expectJson(await signed('PUT', '/2017-10-31/functions/f/concurrency', { ReservedConcurrentExecutions: 5 }));
    expect((await latest()).latestVersion).toBe(2);
    expect((await signed('DELETE', '/2017-10-31/functions/f/concurrency')).status).toBe(204);
    expect((await latest()).latest).toMatchObject({ version: 3, maxConcurrency: null });
  });

  it('refuses 0 and values past Hearth\'s limit 400, and a missing function 404', async () => {
    g.functions.seed('default', 'f');
    for (const n of [0, 10_001, -1]) {
      await expectLambdaError(await signed('PUT', '/2017-10-31/functions/f/concurrency', { ReservedConcurrentExecutions: n }), 400, 'InvalidParameterValueException');
    }
    await expectLambdaError(await signed('GET', '/2019-09-30/functions/nope/concurrency'), 404, 'ResourceNotFoundException');
  });
});

describe('Lambda provisioned concurrency', () => {
  const path = (qualifier?: string) => `/2019-09-30/functions/f/provisioned-concurrency${qualifier === undefined ? '' : `?Qualifier=${qualifier}`}`;
  beforeEach(async () => {
    g.functions.seed('default', 'f', {}, 2);
    await g.functions.putAlias('default', 'f', 'live', { version: 1, weighted: { version: 2, weight: 0.2 }, description: 'd', minWarm: null });
  });

  it('sets an alias\'s minWarm, keeping where it points, and reports what the workers hold', async () => {
    const put = await expectJson(await signed('PUT', path('live'), { ProvisionedConcurrentExecutions: 2 }), 202);
    expect(put).toMatchObject({ RequestedProvisionedConcurrentExecutions: 2, AllocatedProvisionedConcurrentExecutions: 0, Status: 'IN_PROGRESS' });
    expect(await g.functions.getAlias('default', 'f', 'live')).toMatchObject({ version: 1, weighted: { version: 2, weight: 0.2 }, description: 'd', minWarm: 2 });
    expect(g.announced.at(-1)).toEqual({ type: 'function-changed', namespace: 'default', name: 'f' });
    const warm = (version: number, total: number) => ({ key: `x@${version}`, namespace: 'default', functionName: 'f', version, idle: total, total });
    g.workers.push({ ...workerReport('w1'), warm: [warm(1, 2), warm(2, 2)] });
    expect(await expectJson(await signed('GET', path('live')))).toMatchObject({ AllocatedProvisionedConcurrentExecutions: 2, Status: 'READY' });
    expect((await signed('DELETE', path('live'))).status).toBe(204);
    expect((await g.functions.getAlias('default', 'f', 'live'))?.minWarm).toBeNull();
    await expectLambdaError(await signed('GET', path('live')), 404, 'ProvisionedConcurrencyConfigNotFoundException');
  });

  it('sets a version\'s own minWarm and lists every config', async () => {
    await expectJson(await signed('PUT', path('2'), { ProvisionedConcurrentExecutions: 3 }), 202);
    expect((await g.functions.getVersion('default', 'f', 2))?.minWarm).toBe(3);
    await expectJson(await signed('PUT', path('live'), { ProvisionedConcurrentExecutions: 1 }), 202);
    const listed = await expectJson(await signed('GET', '/2019-09-30/functions/f/provisioned-concurrency?List=ALL'));
    expect(listed.ProvisionedConcurrencyConfigs.map((p: { FunctionArn: string; RequestedProvisionedConcurrentExecutions: number }) => [p.FunctionArn, p.RequestedProvisionedConcurrentExecutions])).toEqual([
      [`${ARN}f:2`, 3],
      [`${ARN}f:live`, 1],
    ]);
    expect((await signed('DELETE', path('2'))).status).toBe(204);
    expect((await g.functions.getVersion('default', 'f', 2))?.minWarm).toBe(0);
  });

  it.each([
    ['no qualifier', undefined, 400, 'InvalidParameterValueException'],
    ['$LATEST', '$LATEST', 400, 'InvalidParameterValueException'],
    ['a missing alias', 'gone', 404, 'ResourceNotFoundException'],
    ['a missing version', '9', 404, 'ResourceNotFoundException'],
  ])('refuses %s', async (_what, qualifier, status, type) => {
    await expectLambdaError(await signed('PUT', path(qualifier), { ProvisionedConcurrentExecutions: 1 }), status, type);
  });

  it('refuses more than Hearth keeps warm, 400', async () => {
    await expectLambdaError(await signed('PUT', path('live'), { ProvisionedConcurrentExecutions: 1001 }), 400, 'InvalidParameterValueException');
  });
});
