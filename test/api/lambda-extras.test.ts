/**
 * What Lambda keeps beside a function's code, in memory: tags (also from
 * CreateFunction, shown by GetFunction), function URLs onto `/fn` and its
 * public flag, async invoke configuration, the resource policy, account
 * settings and the (empty) event source mappings; deleting a function
 * takes its extras with it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { zipOf } from '../helpers/code-fixtures.ts';
import { createFakeGateway, type FakeGateway } from './fake-deps.ts';
import { ARN, expectJson, expectLambdaError, signedLambda } from './lambda-signed.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});
const signed = signedLambda(() => g);
const tags = (name = 'f') => `/2017-03-31/tags/${encodeURIComponent(`${ARN}${name}`)}`;

describe('Lambda tags', () => {
  it('tags, lists, untags; GetFunction shows them; CreateFunction stores its Tags', async () => {
    g.functions.seed('default', 'f');
    expect((await signed('POST', tags(), { Tags: { team: 'a', env: 'dev' } })).status).toBe(204);
    expect((await signed('POST', tags(), { Tags: { env: 'prod' } })).status).toBe(204);
    expect(await expectJson(await signed('GET', tags()))).toEqual({ Tags: { team: 'a', env: 'prod' } });
    expect((await signed('DELETE', `${tags()}?tagKeys=team&tagKeys=nope`)).status).toBe(204);
    expect((await expectJson(await signed('GET', '/2015-03-31/functions/f'))).Tags).toEqual({ env: 'prod' });

    const zip = (await zipOf([{ path: 'index.js', data: 'exports.handler = async () => 1;' }])).toString('base64');
    const create = { FunctionName: 'g', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'r', Code: { ZipFile: zip }, Tags: { made: 'by-create' } };
    await expectJson(await signed('POST', '/2015-03-31/functions', create), 201);
    expect(await expectJson(await signed('GET', tags('g')))).toEqual({ Tags: { made: 'by-create' } });
  });

  it('refuses reserved keys, too many tags and qualified ARNs 400; a missing function 404', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('POST', tags(), { Tags: { 'aws:x': '1' } }), 400, 'InvalidParameterValueException');
    // What Postgres would refuse is the caller's mistake (400), never a 500.
    await expectLambdaError(await signed('POST', tags(), '{"Tags":{"k":"a\\u0000b"}}'), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', tags(), '{"Tags":{"\\ud800":"v"}}'), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', tags(), '{"Tags":{"__proto__":"v"}}'), 400, 'InvalidParameterValueException');
    await expectJson(await signed('POST', tags(), { Tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])) }), 204);
    await expectLambdaError(await signed('POST', tags(), { Tags: { one: 'more' } }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('GET', `/2017-03-31/tags/${encodeURIComponent(`${ARN}f:1`)}`), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('DELETE', tags()), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('GET', tags('nope')), 404, 'ResourceNotFoundException');
  });
});

describe('Lambda function URLs', () => {
  const url = '/2021-10-31/functions/f/url';
  it('creates one onto /fn/f/ with NONE turning the public flag on; updates, lists and deletes it', async () => {
    g.functions.seed('default', 'f');
    const created = await expectJson(await signed('POST', url, { AuthType: 'NONE', Cors: { AllowOrigins: ['*'] } }), 201);
    expect(created).toMatchObject({ FunctionUrl: 'http://gw.example:8081/fn/f/', FunctionArn: `${ARN}f`, AuthType: 'NONE', InvokeMode: 'BUFFERED', Cors: { AllowOrigins: ['*'] } });
    expect((await g.functions.get('default', 'f'))?.latest).toMatchObject({ version: 2, public: true });
    const anonymous = await g.functionApp.request('http://gw.example/fn/f/');
    expect(anonymous.status).toBe(200);
    await expectLambdaError(await signed('POST', url, { AuthType: 'NONE' }), 409, 'ResourceConflictException');

    const updated = await expectJson(await signed('PUT', url, { AuthType: 'AWS_IAM' }));
    expect(updated).toMatchObject({ AuthType: 'AWS_IAM', Cors: { AllowOrigins: ['*'] } });
    expect((await g.functions.get('default', 'f'))?.latest.public).toBe(false);
    expect((await expectJson(await signed('GET', '/2021-10-31/functions/f/urls'))).FunctionUrlConfigs).toHaveLength(1);
    expect((await signed('DELETE', url)).status).toBe(204);
    await expectLambdaError(await signed('GET', url), 404, 'ResourceNotFoundException');
  });

  it('refuses a qualifier and streaming 400', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('POST', `${url}?Qualifier=live`, { AuthType: 'NONE' }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', url, { AuthType: 'NONE', InvokeMode: 'RESPONSE_STREAM' }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', url, { AuthType: 'KEY' }), 400, 'InvalidParameterValueException');
  });
});

describe('Lambda async invoke configuration', () => {
  const path = '/2019-09-25/functions/f/event-invoke-config';
  it('puts (replacing), updates (merging), gets, lists and deletes it', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('GET', path), 404, 'ResourceNotFoundException');
    await expectLambdaError(await signed('POST', path, { MaximumRetryAttempts: 1 }), 404, 'ResourceNotFoundException');
    const put = await expectJson(await signed('PUT', path, { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 120 }));
    expect(put).toMatchObject({ FunctionArn: `${ARN}f:$LATEST`, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 120 });
    expect(put.LastModified).toBeTypeOf('number');
    expect(await expectJson(await signed('POST', path, { MaximumRetryAttempts: 2 }))).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 });
    expect(await expectJson(await signed('PUT', path, { MaximumEventAgeInSeconds: 60 }))).not.toHaveProperty('MaximumRetryAttempts');
    expect((await expectJson(await signed('GET', `${path}/list`))).FunctionEventInvokeConfigs).toHaveLength(1);
    expect((await signed('DELETE', path)).status).toBe(204);
    expect((await g.functionExtras.get('default', 'f'))?.eventInvokeConfig).toBeNull();
  });

  it.each([
    ['too many retries', { MaximumRetryAttempts: 3 }],
    ['too short an age', { MaximumEventAgeInSeconds: 59 }],
    ['a destination', { DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:1:q' } } }],
  ])('refuses %s 400', async (_what, body) => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('PUT', path, body), 400, 'InvalidParameterValueException');
  });
});

describe('Lambda resource policy', () => {
  const policy = '/2015-03-31/functions/f/policy';
  it('adds statements as Lambda writes them, answers the policy, removes them', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('GET', policy), 404, 'ResourceNotFoundException');
    const added = await expectJson(
      await signed('POST', policy, { StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com', SourceArn: 'arn:aws:s3:::b', SourceAccount: '123456789012' }),
      201,
    );
    expect(JSON.parse(added.Statement)).toEqual({
      Sid: 's3',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `${ARN}f`,
      Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' }, ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::b' } },
    });
    await expectJson(await signed('POST', policy, { StatementId: 'acct', Action: 'lambda:*', Principal: '123456789012' }), 201);
    await expectLambdaError(await signed('POST', policy, { StatementId: 's3', Action: 'lambda:InvokeFunction', Principal: '*' }), 409, 'ResourceConflictException');
    const got = await expectJson(await signed('GET', policy));
    const document = JSON.parse(got.Policy);
    expect(document.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['s3', 'acct']);
    expect(document.Statement[1].Principal).toEqual({ AWS: 'arn:aws:iam::123456789012:root' });
    await expectLambdaError(await signed('DELETE', `${policy}/s3?RevisionId=stale`), 412, 'PreconditionFailedException');
    expect((await signed('DELETE', `${policy}/s3?RevisionId=${got.RevisionId}`)).status).toBe(204);
    await expectLambdaError(await signed('DELETE', `${policy}/s3`), 404, 'ResourceNotFoundException');
    // A version keeps a policy of its own.
    await expectLambdaError(await signed('GET', `${policy}?Qualifier=1`), 404, 'ResourceNotFoundException');
  });

  it('refuses a bad statement id or action 400 and a policy past 20 KB', async () => {
    g.functions.seed('default', 'f');
    await expectLambdaError(await signed('POST', policy, { StatementId: 'a b', Action: 'lambda:InvokeFunction', Principal: '*' }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', policy, { StatementId: 'a', Action: 's3:GetObject', Principal: '*' }), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', policy, '{"StatementId":"a","Action":"lambda:*","Principal":"x\\u0000"}'), 400, 'InvalidParameterValueException');
    await expectLambdaError(await signed('POST', '/2021-10-31/functions/f/url', { AuthType: 'NONE', Cors: { AllowOrigins: ['\ud800'] } }), 400, 'InvalidParameterValueException');
    const long = (i: number) => ({ StatementId: `s${i}`, Action: 'lambda:InvokeFunction', Principal: '*', SourceArn: `arn:aws:s3:::${'b'.repeat(900)}` });
    let refused = '';
    for (let i = 0; i < 30 && !refused; i++) {
      const res = await signed('POST', policy, long(i));
      if (res.status !== 201) refused = await expectLambdaError(res, 400, 'PolicyLengthExceededException');
    }
    expect(refused).toContain('20480');
  });
});

describe('Lambda account settings and event source mappings', () => {
  it('reports the namespace as the account', async () => {
    g.functions.seed('default', 'f');
    const settings = await expectJson(await signed('GET', '/2016-08-19/account-settings'));
    expect(settings.AccountUsage).toMatchObject({ FunctionCount: 1 });
    expect(settings.AccountLimit).toMatchObject({ CodeSizeZipped: 50 * 1024 * 1024, CodeSizeUnzipped: 250 * 1024 * 1024 });
  });

  it('lists no event source mappings and finds none by UUID', async () => {
    g.functions.seed('default', 'f');
    expect(await expectJson(await signed('GET', '/2015-03-31/event-source-mappings/?FunctionName=f'))).toEqual({ EventSourceMappings: [] });
    expect(await expectJson(await signed('GET', '/2015-03-31/event-source-mappings'))).toEqual({ EventSourceMappings: [] });
    await expectLambdaError(await signed('GET', '/2015-03-31/event-source-mappings/?FunctionName=nope'), 404, 'ResourceNotFoundException');
    await expectLambdaError(await signed('GET', '/2015-03-31/event-source-mappings/0b0c-1'), 404, 'ResourceNotFoundException');
  });
});

describe('settings Hearth has one answer for', () => {
  it('reads code signing, recursion and runtime management as fixed', async () => {
    g.functions.seed('default', 'f');
    expect(await expectJson(await signed('GET', '/2020-06-30/functions/f/code-signing-config'))).toEqual({ CodeSigningConfigArn: '', FunctionName: 'f' });
    expect(await expectJson(await signed('GET', '/2024-08-31/functions/f/recursion-config'))).toEqual({ RecursiveLoop: 'Terminate' });
    expect(await expectJson(await signed('GET', '/2021-07-20/functions/f/runtime-management-config?Qualifier=1'))).toEqual({ UpdateRuntimeOn: 'Auto', FunctionArn: `${ARN}f:1` });
    await expectLambdaError(await signed('GET', '/2024-08-31/functions/nope/recursion-config'), 404, 'ResourceNotFoundException');
  });
});

describe('deleting a function', () => {
  it('takes its tags, policy and configs with it', async () => {
    g.functions.seed('default', 'f');
    await signed('POST', tags(), { Tags: { a: '1' } });
    await signed('PUT', '/2019-09-25/functions/f/event-invoke-config', { MaximumRetryAttempts: 0 });
    expect((await signed('DELETE', '/2015-03-31/functions/f')).status).toBe(204);
    g.functions.seed('default', 'f');
    expect(await g.functionExtras.get('default', 'f')).toEqual({ tags: {}, policy: [], urlConfig: null, eventInvokeConfig: null });
  });
});
