/**
 * A function deployed many times: `GET /v1/functions/{name}` carries only its
 * newest versions and says where the rest are; `GET /v1/functions/{name}/versions`
 * pages through all of them, newest first, each exactly once; the CLI and
 * Lambda's ListVersionsByFunction page through them too, and Lambda finds an
 * old version by qualifier. Real gateway, worker, Postgres and Redis.
 */
import { GetFunctionConfigurationCommand, LambdaClient, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/code-fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';

/** More than one view's worth (50) and more than two Lambda pages (50 each). */
const VERSIONS = 120;
const VIEW = 50;

describe('a function with many versions', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  const name = uniqueName('many-versions');

  beforeAll(async () => {
    platform = await startPlatform();
    lambda = new LambdaClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'HEARTHDEFAULT', secretAccessKey: platform.apiKey },
      maxAttempts: 1,
    });
    // More versions than the default quota keeps (75): this file is about paging, not pruning.
    const raised = await platform.api('/v1/namespaces/default', { method: 'PATCH', body: JSON.stringify({ maxVersions: VERSIONS + 10 }) });
    expect(raised.status, await raised.clone().text()).toBe(200);
    const code = { bytes: Buffer.from('exports.handler = async () => "v";\n'), filename: 'index.js' };
    for (let i = 1; i <= VERSIONS; i++) {
      const res = await deploy(platform, name, code, { runtime: 'nodejs20', timeoutMs: 1000 + i });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    // Latest moves back to version 1, far older than the newest page.
    const rolled = await platform.api(`/v1/functions/${name}/rollback`, { method: 'POST', body: '{"version": 1}' });
    expect(rolled.status).toBe(200);
  }, 180_000);
  afterAll(async () => {
    lambda?.destroy();
    await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await platform?.api('/v1/namespaces/default', { method: 'PATCH', body: JSON.stringify({ maxVersions: null }) });
    await platform?.stop();
  });

  it('the function view holds the newest versions and says where the rest are', async () => {
    const fn = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(fn.latestVersion).toBe(1);
    expect(fn.latest).toMatchObject({ version: 1, timeoutMs: 1001 });
    expect(fn.versions.map((v: { version: number }) => v.version)).toEqual(Array.from({ length: VIEW }, (_, i) => VERSIONS - i));
    expect(fn.versionsNextCursor).toEqual(expect.any(String));
    expect(fn.versionsNext).toBe(`/v1/functions/${name}/versions?cursor=${fn.versionsNextCursor}`);

    // Following it gives the rest, and nothing twice.
    const rest = await (await platform.api(`${fn.versionsNext}&limit=500`)).json();
    expect(rest.items.map((v: { version: number }) => v.version)).toEqual(Array.from({ length: VERSIONS - VIEW }, (_, i) => VERSIONS - VIEW - i));
    expect(rest.nextCursor).toBeNull();
  });

  it('pages every version newest first, each exactly once', async () => {
    const seen: number[] = [];
    let pages = 0;
    for (let cursor: string | null = ''; cursor !== null; pages++) {
      const res = await platform.api(`/v1/functions/${name}/versions?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page: { items: Array<{ version: number; timeoutMs: number }>; nextCursor: string | null } = await res.json();
      expect(page.items.length).toBeLessThanOrEqual(7);
      for (const v of page.items) expect(v.timeoutMs).toBe(1000 + v.version);
      seen.push(...page.items.map((v) => v.version));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: VERSIONS }, (_, i) => VERSIONS - i));
    expect(pages).toBe(Math.ceil(VERSIONS / 7));
    // The default page is 50.
    expect((await (await platform.api(`/v1/functions/${name}/versions`)).json()).items).toHaveLength(50);
  });

  it('refuses a bad limit or cursor with 400, an unknown function with 404', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=abc', 'limit=1.5', 'cursor=nonsense', `cursor=${Buffer.from('v99999999999').toString('base64url')}`]) {
      const res = await platform.api(`/v1/functions/${name}/versions?${query}`);
      expect(res.status, query).toBe(400);
      expect((await res.json()).error.code, query).toBe('InvalidParameter');
    }
    const missing = await platform.api('/v1/functions/no-such-function/versions');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('FunctionNotFound');
    expect((await platform.api('/v1/functions/Bad_Name/versions')).status).toBe(400);
  });

  it('hearth versions lists every version, latest marked', { timeout: 60_000 }, async () => {
    const run = await runCli(['versions', name], { env: { HOME: await tempDir('hearth-home-'), HEARTH_URL: platform.url, HEARTH_API_KEY: platform.apiKey } });
    expect(run.code, run.stderr).toBe(0);
    const listed = [...run.stdout.matchAll(/^\s*(\*?)(\d+)\s+nodejs20\s/gm)].map((m) => `${m[1]}${m[2]}`);
    expect(listed).toEqual(Array.from({ length: VERSIONS }, (_, i) => (VERSIONS - i === 1 ? '*1' : String(VERSIONS - i))));
  });

  it('ListVersionsByFunction pages $LATEST then every version; an old version is found by qualifier', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name, MaxItems: 50, ...(marker ? { Marker: marker } : {}) }));
      expect(page.Versions!.length).toBeLessThanOrEqual(50);
      seen.push(...page.Versions!.map((v) => v.Version!));
      marker = page.NextMarker;
    } while (marker);
    expect(seen).toEqual(['$LATEST', ...Array.from({ length: VERSIONS }, (_, i) => String(i + 1))]);

    const old = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: '3' }));
    expect(old).toMatchObject({ Version: '3', Timeout: 2 });
    const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    expect(latest.Version).toBe('$LATEST');
    const bad = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name, Marker: 'bm9uc2Vuc2U' })).catch((err: { name: string }) => err);
    expect((bad as { name: string }).name).toBe('InvalidParameterValueException');
  });
});
