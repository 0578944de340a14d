/**
 * Aliases on the real platform: a 10% split over 1,000 calls lands within
 * 7–13% and, once both versions are warm, makes no cold start; an alias's
 * `minWarm` has the canary's container initialised before it gets traffic;
 * the version an alias points at is neither deleted nor pruned; calls
 * through `/fn/{name}@{alias}` and the records name the alias. Real
 * gateway, worker, Docker, Redis and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

/** A function that answers which version it is (its `VERSION_TAG` environment). */
const code = { bytes: Buffer.from('exports.handler = async () => ({ tag: process.env.VERSION_TAG });\n'), filename: 'index.js' };

describe('aliases on the real platform', () => {
  let platform: Platform;
  const name = uniqueName('aliased');
  const put = (alias: string, body: unknown) =>
    platform.api(`/v1/functions/${name}/aliases/${alias}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const deployTag = async (tag: string, fields: Record<string, string> = {}) => {
    const form = new FormData();
    form.set('code', new Blob([code.bytes]), code.filename);
    form.set('runtime', 'nodejs20');
    form.set('env', JSON.stringify({ VERSION_TAG: tag }));
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    const res = await platform.api(`/v1/functions/${name}`, { method: 'PUT', body: form });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()).version as number;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    expect(await deployTag('one')).toBe(1);
    // The second version is created without moving latest: a canary is not a release.
    expect(await deployTag('two', { moveLatest: 'false' })).toBe(2);
  }, 60_000);
  afterAll(async () => {
    await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await platform?.stop();
  });

  it('leaves latest where it was on a deploy with moveLatest=false', async () => {
    const fn = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(fn.latestVersion).toBe(1);
    expect(fn.aliases).toEqual([expect.objectContaining({ name: 'latest', version: 1, weights: {} })]);
    expect((await (await invoke(platform, name, {})).json()).tag).toBe('one');
  });

  it('sends 10% of 1,000 calls to the canary, within 7–13%, with no cold start once both versions are warm', async () => {
    expect((await put('canary', { version: 1, weights: { '2': 0.1 } })).status).toBe(201);
    // Warm each version once (its first container is a cold start, as any first call).
    for (const version of [1, 2]) expect((await invoke(platform, name, {}, `?version=${version}`)).status).toBe(200);

    const calls = 1000;
    const seen = { byVersion: new Map<string, number>(), startKinds: new Map<string, number>(), tagMismatch: 0 };
    for (let i = 0; i < calls; i++) {
      const res = await invoke(platform, name, {}, '?alias=canary');
      expect(res.status).toBe(200);
      const version = res.headers.get('x-function-version')!;
      const { tag } = await res.json();
      if (tag !== (version === '1' ? 'one' : 'two')) seen.tagMismatch++;
      seen.byVersion.set(version, (seen.byVersion.get(version) ?? 0) + 1);
      const kind = res.headers.get('x-start-kind')!;
      seen.startKinds.set(kind, (seen.startKinds.get(kind) ?? 0) + 1);
    }
    const onCanary = seen.byVersion.get('2') ?? 0;
    console.log(`[aliases] 10% split over ${calls} calls: ${onCanary} on the canary (${((onCanary / calls) * 100).toFixed(1)}%); start kinds ${JSON.stringify(Object.fromEntries(seen.startKinds))}`);
    expect(seen.tagMismatch).toBe(0);
    expect(onCanary).toBeGreaterThanOrEqual(70);
    expect(onCanary).toBeLessThanOrEqual(130);
    expect(seen.startKinds.get('cold') ?? 0).toBe(0);
    expect(seen.startKinds.get('warm')).toBe(calls);
  }, 120_000);

  it('keeps a caller with X-Routing-Key on one side of the split, call after call', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
    const sideOf = async (key: string) => {
      const res = await platform.api(`/v1/functions/${name}/invoke?alias=canary`, { method: 'POST', headers: { 'x-routing-key': key }, body: '{}' });
      expect(res.status).toBe(200);
      return res.headers.get('x-function-version');
    };
    const first: Array<string | null> = [];
    for (const key of keys) first.push(await sideOf(key));
    for (let round = 0; round < 2; round++) {
      for (const [i, key] of keys.entries()) expect(await sideOf(key), key).toBe(first[i]);
    }
    // The same keys through /fn on the function origin land on the same sides.
    for (const [i, key] of keys.slice(0, 10).entries()) {
      expect((await platform.fn(`/fn/${name}@canary/`, { headers: { 'x-routing-key': key } })).headers.get('x-function-version')).toBe(first[i]);
    }
  });

  it('records the alias and the chosen version on each call', async () => {
    const res = await invoke(platform, name, {}, '?alias=canary');
    const record = await recordOf(platform, res.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ alias: 'canary', version: Number(res.headers.get('x-function-version')) });
    const pinned = await invoke(platform, name, {}, '?version=2');
    expect(await recordOf(platform, pinned.headers.get('x-invocation-id'))).toMatchObject({ alias: null, version: 2 });
    const unqualified = await invoke(platform, name, {});
    expect(await recordOf(platform, unqualified.headers.get('x-invocation-id'))).toMatchObject({ alias: 'latest', version: 1 });
  });

  it("keeps an alias's minWarm containers initialised for each of its versions before traffic moves", async () => {
    const v3 = await deployTag('three', { moveLatest: 'false' });
    // Weight 0: no call goes to v3 yet, but the alias wants one container of each version ready.
    expect((await put('next', { version: 1, weights: { [String(v3)]: 0 }, minWarm: 1 })).status).toBe(201);
    await waitFor(`a provisioned container of version ${v3}`, async () => ((await warmEntry(platform, name, v3))?.total ?? 0) >= 1, 30_000, 200);
    const moved = await put('next', { version: 1, weights: { [String(v3)]: 1 }, minWarm: 1 });
    expect(moved.status).toBe(200);
    const res = await invoke(platform, name, {}, '?alias=next');
    expect(res.headers.get('x-function-version')).toBe(String(v3));
    // Its first call finds the provisioned container: not a cold start.
    expect(res.headers.get('x-start-kind')).not.toBe('cold');
    expect((await platform.api(`/v1/functions/${name}/aliases/next`, { method: 'DELETE' })).status).toBe(204);
  }, 60_000);

  it('calls an alias on the function origin as /fn/{name}@{alias}', async () => {
    const res = await platform.fn(`/fn/${name}@canary/hello`);
    expect(res.status).toBe(200);
    expect(['1', '2']).toContain(res.headers.get('x-function-version'));
    expect((await platform.fn(`/fn/${name}@nope/`)).status).toBe(404);
  });

  it('refuses to delete a version an alias points at, and deletes it once no alias does', async () => {
    const refused = await platform.api(`/v1/functions/${name}/versions/2`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect((await refused.json()).error).toMatchObject({ code: 'VersionInUse', message: expect.stringContaining('"canary"') });
    expect((await put('canary', { version: 1 })).status).toBe(200);
    expect((await platform.api(`/v1/functions/${name}/versions/2`, { method: 'DELETE' })).status).toBe(204);
    expect((await invoke(platform, name, {}, '?version=2')).status).toBe(404);
  });
});

describe('pruning spares aliased versions', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  }, 60_000);
  afterAll(async () => platform?.stop());

  it('prunes the oldest version no alias points at, never one an alias holds', async () => {
    const tenant = uniqueName('prune');
    expect((await platform.api('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(201);
    expect((await platform.api(`/v1/namespaces/${tenant}`, { method: 'PATCH', body: JSON.stringify({ maxVersions: 3 }) })).status).toBe(200);
    const { key } = await (await platform.api(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: JSON.stringify({ name: 't' }) })).json();
    const asTenant: Platform = { ...platform, api: (path, init = {}) => platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } }) };
    const fn = 'pruned';
    try {
      expect((await deploy(asTenant, fn, code, { runtime: 'nodejs20' })).status).toBe(201); // v1
      const held = await asTenant.api(`/v1/functions/${fn}/aliases/stable`, { method: 'PUT', body: JSON.stringify({ version: 1 }) });
      expect(held.status).toBe(201);
      for (let i = 0; i < 3; i++) expect((await deploy(asTenant, fn, code, { runtime: 'nodejs20' })).status).toBe(201); // v2..v4
      const versions = await (await asTenant.api(`/v1/functions/${fn}/versions`)).json();
      expect(versions.items.map((v: { version: number }) => v.version)).toEqual([4, 3, 1]);
    } finally {
      await asTenant.api(`/v1/functions/${fn}`, { method: 'DELETE' });
    }
  }, 60_000);
});

/** The worker's warm entry for `version` of function `name`, from its latest report. */
async function warmEntry(platform: Platform, name: string, version: number) {
  const workers = await (await platform.api('/v1/workers')).json();
  const mine = workers.workers as Array<{ workerId: string; warm: Array<{ functionName: string; version: number; total: number }> }>;
  return mine.find((w) => w.workerId === platform.workerId)?.warm.find((e) => e.functionName === name && e.version === version);
}
