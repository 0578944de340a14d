/**
 * What issue 12 added (aliases, rollouts, per-version metrics, deleting
 * versions, the new Lambda operations), tried by a hostile tenant B against
 * tenant A's function `svc`, which has versions 1 and 2, an alias `prod`
 * splitting them and an alias `canary` being rolled out. Every door B can
 * reach answers "no such function" in B's own namespace; bytes Postgres
 * refuses, odd numbers and huge inputs are 4xx in the house (or Lambda)
 * shape; what a tenant can pile up is capped; and A's rows are unchanged.
 */
import {
  AddPermissionCommand, CreateAliasCommand, CreateFunctionUrlConfigCommand, DeleteAliasCommand, DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand, GetAliasCommand, GetFunctionCommand, GetPolicyCommand, InvokeCommand, LambdaClient, ListAliasesCommand,
  ListEventSourceMappingsCommand, ListFunctionEventInvokeConfigsCommand, ListFunctionUrlConfigsCommand, ListProvisionedConcurrencyConfigsCommand,
  ListTagsCommand, ListVersionsByFunctionCommand, PutFunctionConcurrencyCommand, PutFunctionEventInvokeConfigCommand,
  PutProvisionedConcurrencyConfigCommand, TagResourceCommand, UpdateAliasCommand
} from '@aws-sdk/client-lambda';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureOf, lambdaClients, REGION } from '../helpers/lambda-sdk.ts';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { lambdaSigner } from '../helpers/sigv4-signer.ts';
import { fetchWithoutKey, startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';

const code = { bytes: Buffer.from('exports.handler = async () => ({ ok: true });\n'), filename: 'index.js' };
const FN = 'svc';

interface Tenant {
  ns: string;
  key: string;
  lambdaKeyId: string;
  lambda: LambdaClient;
  api(path: string, init?: RequestInit): Promise<ApiResponse>;
  fn(path: string, init?: RequestInit): Promise<ApiResponse>;
}

/** A JSON request (the body stringified unless it is a string already). */
const sendJson = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Expects a 4xx in the house shape and returns its code. */
async function houseRefusal(res: ApiResponse): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBeGreaterThanOrEqual(400);
  expect(res.status, text).toBeLessThan(500);
  const body = JSON.parse(text);
  expect(typeof body.error?.code, text).toBe('string');
  expect(typeof body.error?.message, text).toBe('string');
  return body.error.code;
}

/** Expects an SDK call to fail with a Lambda 4xx (never a ServiceException) and returns its name. */
async function lambdaRefusal(work: Promise<unknown>): Promise<string> {
  const err = await failureOf(work);
  expect(err.$metadata.httpStatusCode, `${err.name}: ${err.message}`).toBeGreaterThanOrEqual(400);
  expect(err.$metadata.httpStatusCode, `${err.name}: ${err.message}`).toBeLessThan(500);
  return err.name;
}

const deepJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe("a hostile tenant against another tenant's releases", () => {
  let platform: Platform;
  const sdk = lambdaClients(() => platform.url);
  let a: Tenant;
  let b: Tenant;
  /** A's aliases, rollout and extras as they were before B tried anything. */
  let before: { aliases: unknown; rollout: unknown; tags: unknown };

  const tenant = async (base: string): Promise<Tenant> => {
    const ns = uniqueName(base);
    expect((await platform.api('/v1/namespaces', sendJson('POST', { name: ns }))).status).toBe(201);
    const made = await (await platform.api(`/v1/namespaces/${ns}/keys`, sendJson('POST', { name: 'k' }))).json();
    const withKey = (call: Platform['api']) => (path: string, init: RequestInit = {}) =>
      call(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${made.key}` } });
    return { ns, key: made.key, lambdaKeyId: made.lambdaAccessKeyId, lambda: sdk.clientWith(made.lambdaAccessKeyId, made.key), api: withKey(platform.api), fn: withKey(platform.fn) };
  };
  const snapshot = async () => ({
    aliases: await (await a.api(`/v1/functions/${FN}/aliases`)).json(),
    rollout: await (await a.api(`/v1/functions/${FN}/aliases/canary/rollout`)).json(),
    tags: (await a.lambda.send(new ListTagsCommand({ Resource: `arn:aws:lambda:${REGION}:000000000000:function:${FN}` }))).Tags,
  });

  beforeAll(async () => {
    platform = await startPlatform();
    a = await tenant('rel-a');
    b = await tenant('rel-b');
    for (let i = 0; i < 2; i++) expect((await deploy(a as unknown as Platform, FN, code, { runtime: 'nodejs20' })).status).toBe(201);
    expect((await a.api(`/v1/functions/${FN}/aliases/prod`, sendJson('PUT', { version: 1, weights: { '2': 0.25 }, description: 'A' }))).status).toBe(201);
    expect((await a.api(`/v1/functions/${FN}/aliases/canary`, sendJson('PUT', { version: 1 }))).status).toBe(201);
    const started = await a.api(`/v1/functions/${FN}/aliases/canary/rollout`, sendJson('POST', { toVersion: 2, stepMs: 86_400_000 }));
    expect(started.status, await started.clone().text()).toBe(201);
    await a.lambda.send(new TagResourceCommand({ Resource: `arn:aws:lambda:${REGION}:000000000000:function:${FN}`, Tags: { owner: 'a' } }));
    before = await snapshot();
  }, 60_000);
  afterAll(async () => {
    sdk.destroyAll();
    await a?.api(`/v1/functions/${FN}/aliases/canary/rollout/abort`, { method: 'POST' });
    await a?.api(`/v1/functions/${FN}`, { method: 'DELETE' });
    await platform?.stop();
  });

  it("finds none of A's aliases, rollouts, metrics or versions through REST", async () => {
    const base = `/v1/functions/${FN}`;
    const tries: Array<[string, RequestInit?]> = [
      [`${base}/aliases`],
      [`${base}/aliases/prod`],
      [`${base}/aliases/prod`, sendJson('PUT', { version: 1 })],
      [`${base}/aliases/prod`, { method: 'DELETE' }],
      [`${base}/aliases/canary/rollout`],
      [`${base}/aliases/canary/rollouts`],
      [`${base}/aliases/canary/rollout`, sendJson('POST', { toVersion: 2 })],
      ...['pause', 'resume', 'abort'].map((act): [string, RequestInit] => [`${base}/aliases/canary/rollout/${act}`, { method: 'POST' }]),
      [`${base}/metrics?version=2`],
      [`${base}/metrics?version=1&resolution=minute`],
      [`${base}/versions/1`, { method: 'DELETE' }],
      [`${base}/invoke?alias=prod`, sendJson('POST', {})],
      [`${base}/invoke?version=2`, sendJson('POST', {})],
    ];
    for (const [path, init] of tries) {
      const code = await houseRefusal(await b.api(path, init));
      expect(['FunctionNotFound', 'AliasNotFound', 'RolloutNotFound', 'NotFound'], `${init?.method ?? 'GET'} ${path}`).toContain(code);
    }
    // B's own function of the same name cannot reach A's rollout either.
    expect((await deploy(b as unknown as Platform, FN, code, { runtime: 'nodejs20' })).status).toBe(201);
    expect(await houseRefusal(await b.api(`${base}/aliases/canary/rollout`))).toBe('AliasNotFound');
    expect(await houseRefusal(await b.api(`${base}/aliases/prod`))).toBe('AliasNotFound');
    await b.api(base, { method: 'DELETE' });
    expect(await snapshot()).toEqual(before);
  });

  it("cannot call A's alias on the function origin, with a key or without", async () => {
    for (const path of [`/fn/@${a.ns}/${FN}@prod/`, `/fn/@${a.ns}/${FN}@canary/x`, `/fn/@${a.ns}/${FN}@latest/`]) {
      expect(await houseRefusal(await b.fn(path, { method: 'POST', headers: { 'x-routing-key': 'k' } }))).toBe('FunctionNotFound');
      expect((await fetchWithoutKey(`${platform.fnUrl}${path}`, { method: 'POST' })).status).toBe(401);
    }
    // Odd alias forms are refused, not looked up.
    for (const alias of ['$LATEST', 'Prod', 'prod%00', '%ED%A0%80', '1', 'a'.repeat(64), '', '@prod']) {
      const res = await b.fn(`/fn/${FN}@${alias}/`);
      expect(res.status, alias).toBeGreaterThanOrEqual(400);
      expect(res.status, alias).toBeLessThan(500);
    }
  });

  it("finds none of A's aliases or tags through the Lambda API, whatever account or region its ARN names", async () => {
    const names = [FN, `${FN}:prod`, `arn:aws:lambda:${REGION}:000000000000:function:${FN}`, `arn:aws:lambda:eu-west-1:123456789012:function:${FN}:prod`, `123456789012:function:${FN}`];
    for (const FunctionName of names) {
      for (const work of [
        () => b.lambda.send(new GetAliasCommand({ FunctionName, Name: 'prod' })),
        () => b.lambda.send(new ListAliasesCommand({ FunctionName })),
        () => b.lambda.send(new UpdateAliasCommand({ FunctionName, Name: 'prod', FunctionVersion: '2' })),
        () => b.lambda.send(new DeleteAliasCommand({ FunctionName, Name: 'canary' })),
        () => b.lambda.send(new CreateAliasCommand({ FunctionName, Name: 'evil', FunctionVersion: '1' })),
        () => b.lambda.send(new GetFunctionCommand({ FunctionName, ...(FunctionName.includes(':prod') ? {} : { Qualifier: 'prod' }) })),
        () => b.lambda.send(new InvokeCommand({ FunctionName, ...(FunctionName.includes(':prod') ? {} : { Qualifier: 'canary' }) })),
        () => b.lambda.send(new GetPolicyCommand({ FunctionName })),
        () => b.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: FN, Qualifier: 'prod', ProvisionedConcurrentExecutions: 1 })),
        () => b.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: FN, ReservedConcurrentExecutions: 0 })),
      ]) {
        const name = await lambdaRefusal(work());
        expect(['ResourceNotFoundException', 'InvalidParameterValueException'], `${FunctionName}: ${name}`).toContain(name);
      }
    }
    for (const Resource of [`arn:aws:lambda:${REGION}:000000000000:function:${FN}`, `arn:aws:lambda:ap-south-1:999999999999:function:${FN}`]) {
      expect(await lambdaRefusal(b.lambda.send(new ListTagsCommand({ Resource })))).toBe('ResourceNotFoundException');
      expect(await lambdaRefusal(b.lambda.send(new TagResourceCommand({ Resource, Tags: { owner: 'b' } })))).toBe('ResourceNotFoundException');
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('what a tenant stores through the release surface', () => {
  let platform: Platform;
  const sdk = lambdaClients(() => platform.url);
  let t: Tenant;
  const arn = () => `arn:aws:lambda:${REGION}:000000000000:function:${FN}`;

  beforeAll(async () => {
    platform = await startPlatform();
    const ns = uniqueName('rel-t');
    expect((await platform.api('/v1/namespaces', sendJson('POST', { name: ns }))).status).toBe(201);
    const made = await (await platform.api(`/v1/namespaces/${ns}/keys`, sendJson('POST', { name: 'k' }))).json();
    const withKey = (call: Platform['api']) => (path: string, init: RequestInit = {}) =>
      call(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${made.key}` } });
    t = { ns, key: made.key, lambdaKeyId: made.lambdaAccessKeyId, lambda: sdk.clientWith(made.lambdaAccessKeyId, made.key), api: withKey(platform.api), fn: withKey(platform.fn) };
    for (let i = 0; i < 2; i++) expect((await deploy(t as unknown as Platform, FN, code, { runtime: 'nodejs20' })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    sdk.destroyAll();
    await t?.api(`/v1/functions/${FN}`, { method: 'DELETE' });
    await platform?.stop();
  });

  it('refuses bytes Postgres cannot take, odd numbers and deep JSON in alias bodies as 400', async () => {
    const put = (body: unknown) => t.api(`/v1/functions/${FN}/aliases/odd`, sendJson('PUT', body));
    const bodies: unknown[] = [
      { version: 1, description: 'nul \u0000 here' },
      { version: 1, description: 'x'.repeat(100_000) },
      // A lone surrogate was stored as U+FFFD without a word (fixed in gateway/api/aliases-api.ts).
      { version: 1, description: 'half \ud800 a pair' },
      { version: 1, weights: { '\u0000': 0.5 } },
      { version: 1, weights: { '\ud800': 0.5 } },
      ...['1e0', '0x1', '-0', '1.0', '02', '99999999999', '2147483648', ' 2', '2 '].map((key) => ({ version: 1, weights: { [key]: 0.5 } })),
      ...['0.5', null, -0.0001, 1.0000001, true, [0.5], { w: 1 }].map((w) => ({ version: 1, weights: { '2': w } })),
      { version: 1, weights: { '2': 0.1, '3': 0.1 } },
      { version: 1, weights: { '1': 0.5 } },
      { version: 1, weights: deepJson(1000) },
      deepJson(100_000),
      '{"version":1,"weights":{"2":1e400}}',
      '{"version":1,"minWarm":1e400}',
      ...[0, -1, 1.5, '1', 2 ** 31, 1e0 + 1e-12].map((version) => ({ version })),
      '{"version":1,"__proto__":{"x":1}}',
    ];
    for (const body of bodies) expect(['InvalidParameter', 'PayloadTooLarge'], JSON.stringify(body).slice(0, 80)).toContain(await houseRefusal(await put(body)));
    // `1e0` as a JSON number is the number 1, which JSON cannot tell from `1`: accepted as version 1.
    expect((await put('{"version":1e0,"weights":{"2":1e-1}}')).status).toBe(201);
    expect((await (await t.api(`/v1/functions/${FN}/aliases/odd`)).json()).weights).toEqual({ '2': 0.1 });
    for (const alias of ['%24LATEST', 'LATEST', '-a', 'a'.repeat(64), '%00', '%ED%A0%80']) {
      await houseRefusal(await t.api(`/v1/functions/${FN}/aliases/${alias}`, sendJson('PUT', { version: 1 })));
    }
    expect(await houseRefusal(await t.api(`/v1/functions/${FN}/aliases/latest`, { method: 'DELETE' }))).toBe('AliasProtected');
  });

  it('refuses odd rollout bodies as 400', async () => {
    expect((await t.api(`/v1/functions/${FN}/aliases/roll`, sendJson('PUT', { version: 1 }))).status).toBe(201);
    const start = (body: unknown) => t.api(`/v1/functions/${FN}/aliases/roll/rollout`, sendJson('POST', body));
    const bodies: unknown[] = [
      { toVersion: 2, steps: [] },
      { toVersion: 2, steps: [0.5, 0.5, 1] },
      { toVersion: 2, steps: [0, 1] },
      { toVersion: 2, steps: [-0, 1] },
      { toVersion: 2, steps: [0.5] },
      { toVersion: 2, steps: ['0.5', 1] },
      { toVersion: 2, steps: Array.from({ length: 21 }, (_, i) => (i + 1) / 21) },
      { toVersion: 2, steps: Array.from({ length: 1_000_000 }, () => 1) },
      ...[999, 86_400_001].map((stepMs) => ({ toVersion: 2, stepMs })),
      ...[{ maxErrorRate: 2 }, { '\u0000': 1 }, { minCalls: 0.5 }, deepJson(500)].map((guard) => ({ toVersion: 2, guard })),
      ...[1, 99999999999, '2'].map((toVersion) => ({ toVersion })),
      { toVersion: 2, extra: 'x'.repeat(200_000) },
      '{"toVersion":2,"stepMs":1e400}',
      '{"toVersion":2,"steps":[1e-400,1]}',
    ];
    for (const body of bodies) await houseRefusal(await start(body));
    expect(await houseRefusal(await t.api(`/v1/functions/${FN}/aliases/roll/rollouts?limit=1e400`))).toBe('InvalidParameter');
    expect(await houseRefusal(await t.api(`/v1/functions/${FN}/aliases/roll/rollouts?cursor=%00%ED%A0%80`))).toBe('InvalidParameter');
    for (const v of ['1e0', '0x1', '-0', '1.0', '99999999999', '%00']) await houseRefusal(await t.api(`/v1/functions/${FN}/metrics?version=${v}`));
  });

  it('caps aliases per function and active rollouts per namespace', async () => {
    let refused: ApiResponse | undefined;
    for (let i = 0; i < 101 && !refused; i++) {
      const res = await t.api(`/v1/functions/${FN}/aliases/many-${i}`, sendJson('PUT', { version: 1 }));
      if (res.status !== 201) refused = res;
    }
    expect(refused && (await houseRefusal(refused))).toBe('QuotaExceeded');
    // Started all at once: the namespace's lock lets exactly 20 through.
    const starts = await Promise.all(
      Array.from({ length: 25 }, (_, i) => t.api(`/v1/functions/${FN}/aliases/many-${i}/rollout`, sendJson('POST', { toVersion: 2, stepMs: 86_400_000 }))),
    );
    expect(starts.filter((res) => res.status === 201)).toHaveLength(20);
    for (const res of starts.filter((r) => r.status !== 201)) expect(await houseRefusal(res)).toBe('QuotaExceeded');
    for (let i = 0; i < 25; i++) await t.api(`/v1/functions/${FN}/aliases/many-${i}/rollout/abort`, { method: 'POST' });
    for (let i = 0; i < 101; i++) await t.api(`/v1/functions/${FN}/aliases/many-${i}`, { method: 'DELETE' });
  }, 60_000);

  it('refuses bytes Postgres cannot take and odd weights in the Lambda API, in its shape', async () => {
    const works = [
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'lam', FunctionVersion: '1', Description: 'n\u0000l' })),
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'lam', FunctionVersion: '1', Description: '\udfff' })),
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: '$LATEST', FunctionVersion: '1' })),
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'latest', FunctionVersion: '1' })),
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'lam', FunctionVersion: '99999999999' })),
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'lam', FunctionVersion: '0x1' })),
      ...['\u0000', '\ud800', '1e0', '0x1', '-0', '1.0', '99999999999', '$LATEST'].map((key) =>
        () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'lam', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { [key]: 0.5 } } })),
      ),
      () => t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'lam', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } })),
      () => t.lambda.send(new TagResourceCommand({ Resource: arn(), Tags: { 'k\u0000': 'v' } })),
      () => t.lambda.send(new TagResourceCommand({ Resource: arn(), Tags: { k: '\ud800' } })),
      () => t.lambda.send(new TagResourceCommand({ Resource: arn(), Tags: { k: 'v'.repeat(100_000) } })),
      () => t.lambda.send(new TagResourceCommand({ Resource: arn(), Tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) })),
      () => t.lambda.send(new TagResourceCommand({ Resource: `${arn()}:prod`, Tags: { k: 'v' } })),
      () => t.lambda.send(new AddPermissionCommand({ FunctionName: FN, StatementId: 's\u0000', Action: 'lambda:InvokeFunction', Principal: '*' })),
      () => t.lambda.send(new AddPermissionCommand({ FunctionName: FN, StatementId: 's', Action: 'lambda:InvokeFunction', Principal: '\ud800' })),
      () => t.lambda.send(new AddPermissionCommand({ FunctionName: FN, StatementId: 's', Action: 'lambda:InvokeFunction', Principal: '*', SourceArn: 'a'.repeat(100_000) })),
      () => t.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: FN, AuthType: 'AWS_IAM', Cors: { AllowOrigins: ['https://x\u0000'] } })),
      () => t.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: FN, AuthType: 'AWS_IAM', Cors: { AllowHeaders: ['\udc00'] } })),
      () => t.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: FN, AuthType: 'AWS_IAM', Cors: { AllowOrigins: Array.from({ length: 1000 }, () => 'https://x') } })),
      () => t.lambda.send(new GetFunctionCommand({ FunctionName: FN, Qualifier: '99999999999' })),
      () => t.lambda.send(new GetFunctionCommand({ FunctionName: FN, Qualifier: 'latest' })),
      () => t.lambda.send(new InvokeCommand({ FunctionName: FN, Qualifier: '0x1' })),
    ];
    for (const work of works) await lambdaRefusal(work());
    // Odd paging markers and sizes: a 4xx, or a page (an unknown marker may read as the end), never a 500.
    const pages = [
      ...['\u0000', '%', 'x'.repeat(5000)].flatMap((Marker) => [
        () => t.lambda.send(new ListAliasesCommand({ FunctionName: FN, Marker })),
        () => t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: FN, Marker })),
        () => t.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: FN, Marker })),
        () => t.lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: FN, Marker })),
        () => t.lambda.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: FN, Marker })),
        () => t.lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: FN, Marker })),
      ]),
      ...[0, -1, 1e6].map((MaxItems) => () => t.lambda.send(new ListAliasesCommand({ FunctionName: FN, MaxItems }))),
    ];
    for (const page of pages) {
      const status = await page().then((ok) => ok.$metadata.httpStatusCode, (err) => err.$metadata.httpStatusCode);
      expect(status).toBeLessThan(500);
    }
    // Bytes the SDK will not send (broken UTF-8 or a NUL in the query or the path), signed as the SDK signs: a 4xx.
    const signer = lambdaSigner(t.lambdaKeyId, t.key, REGION);
    const { hostname, port, host } = new URL(platform.url);
    const paths = [`/2015-03-31/functions/${FN}/aliases`, `/2015-03-31/functions/${FN}%ED%A0%80/aliases`, `/2017-03-31/tags/%ED%A0%80%00`, `/2015-03-31/functions/${FN}/aliases/%00`, `/2015-03-31/functions/${FN}/aliases/%ED%A0%80`, `/2015-03-31/functions/${FN}/policy/%ED%A0%80`, `/2019-09-25/functions/${FN}%00/event-invoke-config`];
    for (const [path, query] of [...paths.map((p) => [p, {}] as const), [paths[0]!, { Marker: '\u0000' }] as const]) {
      const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname, port: Number(port), path, query, headers: { host } });
      const search = new URLSearchParams(query as Record<string, string>).toString();
      const res = await fetchWithoutKey(`${platform.url}${path}${search ? `?${search}` : ''}`, { headers: signed.headers as Record<string, string> });
      expect(res.status, path).toBeLessThan(500);
    }
    const stored = await platform.database.db.execute(sql`select f.tags, f.policy, f.url_config from functions f where f.namespace = ${t.ns} and f.name = ${FN}`);
    expect(stored.rows[0]).toEqual({ tags: {}, policy: [], url_config: null });
    expect((await t.lambda.send(new ListAliasesCommand({ FunctionName: FN }))).Aliases?.map((x) => x.Name)).not.toContain('lam');
  });

  it('answers every door to an alias under a rollout, a held version or an odd number with a 4xx, never a 500', async () => {
    expect((await t.api(`/v1/functions/${FN}/aliases/busy`, sendJson('PUT', { version: 1 }))).status).toBe(201);
    expect((await t.api(`/v1/functions/${FN}/aliases/busy/rollout`, sendJson('POST', { toVersion: 2, stepMs: 86_400_000 }))).status).toBe(201);
    const refusals: Array<[RequestInit & { path: string }, string[]]> = [
      [{ path: 'aliases/busy', ...sendJson('PUT', { version: 2 }) }, ['RolloutInProgress']],
      [{ path: 'aliases/busy/rollout', ...sendJson('POST', { toVersion: 2 }) }, ['RolloutInProgress']],
      [{ path: 'versions/2', method: 'DELETE' }, ['VersionInUse']],
      ...['1e0', '0x1', '-0', '1.0', '99999999999', '%00'].map((v): [RequestInit & { path: string }, string[]] => [{ path: `versions/${v}`, method: 'DELETE' }, ['InvalidParameter']]),
      ...['%24LATEST', '%00', 'BUSY', '%ED%A0%80'].map((alias): [RequestInit & { path: string }, string[]] => [{ path: `invoke?alias=${alias}`, ...sendJson('POST', {}) }, ['InvalidParameter']]),
      [{ path: 'invoke?alias=busy&version=1', ...sendJson('POST', {}) }, ['InvalidParameter']],
      [{ path: 'invoke?alias=gone', ...sendJson('POST', {}) }, ['AliasNotFound']],
      [{ path: 'invoke?alias=busy', method: 'POST', headers: { 'x-routing-key': 'k'.repeat(256) }, body: '{}' }, ['InvalidParameter']],
      [{ path: 'aliases/gone/rollout/pause', method: 'POST' }, ['AliasNotFound']],
    ];
    for (const [{ path, ...init }, codes] of refusals) expect(codes, `${init.method} ${path}`).toContain(await houseRefusal(await t.api(`/v1/functions/${FN}/${path}`, init)));
    const busy = { FunctionName: FN, Name: 'busy' };
    for (const work of [
      () => t.lambda.send(new UpdateAliasCommand({ ...busy, FunctionVersion: '2' })),
      () => t.lambda.send(new UpdateAliasCommand({ ...busy, RoutingConfig: { AdditionalVersionWeights: { '2': 0.9 } } })),
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: FN, Qualifier: '2' })),
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: FN, Qualifier: 'busy' })),
      () => t.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: FN, Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })),
      () => t.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: FN, Qualifier: 'busy', ProvisionedConcurrentExecutions: 2 ** 31 })),
      () => t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: FN, ReservedConcurrentExecutions: 2 ** 40 })),
      () => t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: FN, MaximumRetryAttempts: 1e9 })),
      () => t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: FN, DestinationConfig: { OnFailure: { Destination: 'arn:\u0000' } } })),
    ]) {
      await lambdaRefusal(work());
    }
    expect((await (await t.api(`/v1/functions/${FN}/aliases/busy`)).json()).weights).toEqual({ '2': 0.05 });
    expect((await t.api(`/v1/functions/${FN}/aliases/busy/rollout/abort`, { method: 'POST' })).status).toBe(200);
  });

  // Finding, not fixed: `public` is a version's setting, so DeleteFunctionUrlConfig (and AuthType AWS_IAM)
  // only makes a new private $LATEST; an alias still pointing at the public version answers keyless calls,
  // though the Lambda API then says the function has no URL. Fixing it needs a decision (keyless only
  // through latest, or the URL config deciding, not the version), so the test is marked as failing.
  it('turns keyless calls off through every alias once the function URL is deleted', async () => {
    const pub = 'pub';
    expect((await deploy(t as unknown as Platform, pub, code, { runtime: 'nodejs20' })).status).toBe(201);
    const url = await t.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: pub, AuthType: 'NONE' }));
    const publicVersion = (await (await t.api(`/v1/functions/${pub}`)).json()).latest.version;
    await t.lambda.send(new CreateAliasCommand({ FunctionName: pub, Name: 'prod', FunctionVersion: String(publicVersion) }));
    await t.lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: pub }));
    try {
      expect((await fetchWithoutKey(url.FunctionUrl!, { method: 'POST' })).status).toBe(401);
      expect((await fetchWithoutKey(`${platform.fnUrl}/fn/@${t.ns}/${pub}@prod/`, { method: 'POST' })).status).toBe(401);
    } finally {
      await t.api(`/v1/functions/${pub}`, { method: 'DELETE' });
    }
  }, 60_000);

  it('keeps one function\'s resource policy bounded, even across aliases that come and go', async () => {
    const statement = (Sid: string) =>
      () => t.lambda.send(new AddPermissionCommand({ FunctionName: FN, Qualifier: 'churn', StatementId: Sid, Action: 'lambda:InvokeFunction', Principal: 'p'.repeat(256), SourceArn: 's'.repeat(1024) }));
    for (let round = 0; round < 12; round++) {
      await t.lambda.send(new CreateAliasCommand({ FunctionName: FN, Name: 'churn', FunctionVersion: '1' }));
      let full = false;
      for (let i = 0; i < 30 && !full; i++) {
        try {
          await statement(`r${round}-${i}`);
        } catch (err) {
          expect((err as Error).name, (err as Error).message).toBe('PolicyLengthExceededException');
          full = true;
        }
      }
      await t.lambda.send(new DeleteAliasCommand({ FunctionName: FN, Name: 'churn' }));
    }
    const stored = await platform.database.db.execute(sql`select octet_length(f.policy::text) as bytes from functions f where f.namespace = ${t.ns} and f.name = ${FN}`);
    // One alias's 20 KB at most, since only `latest` and the two versions remain to hold statements.
    expect(Number(stored.rows[0]!.bytes)).toBeLessThan(3 * 21 * 1024);
  }, 60_000);
});
