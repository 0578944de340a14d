/**
 * Per-namespace quotas, paged lists and code garbage collection, end to end
 * on the real gateway, Postgres and Redis: the admin sets a namespace's
 * limits; deploys past them are refused with 409 `QuotaExceeded` (parallel
 * ones too); the version limit prunes the oldest versions; code no version
 * refers to leaves `code_blobs` (never while a deploy of the same content
 * needs it); `?force=true` deletes a namespace with everything in it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';

const ADMIN = 'admin-key-quotas-0123456789abcdef';
/** A single-file function; `pad` makes its archive bigger (random, so it does not compress away). */
const source = (text: string, pad = 0) => ({
  bytes: Buffer.from(`exports.handler = async () => ${JSON.stringify(text)};\n// ${randomBytes(pad).toString('base64')}\n`),
  filename: 'index.js',
});
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('namespace quotas, paging and code garbage collection', () => {
  let platform: Platform;
  const as = (key: string) => (path: string, init: RequestInit = {}) =>
    platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
  const admin = (path: string, init: RequestInit = {}) => as(ADMIN)(path, init);
  /** Deploys into the namespace of `key`. */
  const deployAs = (key: string, name: string, code: { bytes: Buffer; filename: string }) =>
    deploy({ ...platform, api: as(key) }, name, code, { runtime: 'nodejs20' });
  const blobsHeld = async (shas: string[]) =>
    (await platform.database.pool.query('select count(*)::int as n from code_blobs where sha256 = any($1)', [shas])).rows[0].n as number;

  /** A new namespace with `quotas` set, and a key of it. */
  const tenant = async (quotas: Record<string, number> = {}) => {
    const ns = uniqueName('quota');
    expect((await admin('/v1/namespaces', json('POST', { name: ns }))).status).toBe(201);
    if (Object.keys(quotas).length > 0) {
      const patched = await admin(`/v1/namespaces/${ns}`, json('PATCH', quotas));
      expect(patched.status, await patched.clone().text()).toBe(200);
      expect(await patched.json()).toMatchObject(quotas);
    }
    const key = (await (await admin(`/v1/namespaces/${ns}/keys`, json('POST', {}))).json()).key as string;
    return { ns, key, api: as(key) };
  };

  const expectQuota = async (res: ApiResponse, quota: string, limit: number) => {
    expect(res.status).toBe(409);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: 'QuotaExceeded', quota, limit });
    return error;
  };

  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('refuses a new function past the namespace’s limit, even among parallel deploys', async () => {
    const { ns, key, api } = await tenant({ maxFunctions: 3 });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => deployAs(key, `f${i}`, source(`f${i}`))));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const refused = answers.find((r) => r.status === 409)!;
    expect(await expectQuota(refused, 'functions', 3)).toMatchObject({ used: 3 });
    const { rows } = await platform.database.pool.query('select count(*)::int as n from functions where namespace = $1', [ns]);
    expect(rows[0].n).toBe(3);
    // A new version of a function it holds still deploys.
    const kept = answers.findIndex((r) => r.status === 201);
    expect((await deployAs(key, `f${kept}`, source('again'))).status).toBe(201);
    expect((await api('/v1/functions')).status).toBe(200);
  });

  it('prunes the oldest versions past the version limit (never latest) and collects their code', async () => {
    const { key, api } = await tenant({ maxVersions: 3 });
    const shas: string[] = [];
    let answer: Record<string, unknown> = {};
    for (let i = 1; i <= 5; i++) {
      const res = await deployAs(key, 'fn', source(`v${i}`));
      expect(res.status).toBe(201);
      answer = await res.json();
      shas.push((answer.latest as { codeSha256: string }).codeSha256);
    }
    // The deploy answer carries the new version and the summary, not every version.
    expect(answer).toMatchObject({ version: 5, latestVersion: 5, prunedVersions: [2] });
    expect(answer).not.toHaveProperty('versions');
    const versions = async () => ((await (await api('/v1/functions/fn/versions')).json()).items as Array<{ version: number }>).map((v) => v.version);
    expect(await versions()).toEqual([5, 4, 3]);
    expect(await blobsHeld(shas.slice(0, 2))).toBe(0);
    expect(await blobsHeld(shas.slice(2))).toBe(3);

    // Rolled back to 3, the oldest: the next deploy prunes 4, not the latest.
    expect((await api('/v1/functions/fn/rollback', json('POST', { version: 3 }))).status).toBe(200);
    const next = await (await deployAs(key, 'fn', source('v6'))).json();
    expect(next.prunedVersions).toEqual([4]);
    expect(await versions()).toEqual([6, 5, 3]);
    expect((await api('/v1/functions/fn/versions?limit=1&cursor=' + 'x')).status).toBe(400);
  });

  it('refuses code past the stored-bytes limit with a clear error; code it already stores costs nothing', async () => {
    const probe = await tenant();
    const first = await (await deployAs(probe.key, 'probe', source('a', 30_000))).json();
    const size = first.latest.codeSizeBytes as number;
    expect(size).toBeGreaterThan(30_000);

    const { ns, key } = await tenant({ maxCodeBytes: Math.floor(size * 1.5) });
    const code = source('a', 30_000);
    expect((await deployAs(key, 'one', code)).status).toBe(201);
    const error = await expectQuota(await deployAs(key, 'two', source('b', 30_000)), 'codeBytes', Math.floor(size * 1.5));
    expect(error.used).toBeGreaterThan(30_000);
    expect(error.requested).toBeGreaterThan(30_000);
    expect(error.message).toContain(ns);
    // The same content again (another function, or a redeploy) adds no bytes; small code still fits.
    expect((await deployAs(key, 'copy', code)).status).toBe(201);
    expect((await deployAs(key, 'one', code)).status).toBe(201);
    expect((await deployAs(key, 'tiny', source('t'))).status).toBe(201);
  });

  it('refuses an archive over the namespace’s upload limit', async () => {
    const { key } = await tenant({ maxUploadBytes: 10_000 });
    expect((await deployAs(key, 'small', source('s'))).status).toBe(201);
    await expectQuota(await deployAs(key, 'big', source('b', 30_000)), 'uploadBytes', 10_000);
  });

  it('deletes the code of deleted functions: after 20 deletes none of their blobs is left', async () => {
    const { key, api } = await tenant();
    const shas = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await deployAs(key, `gone-${i}`, source(`gone ${i}`, 2000));
        expect(res.status).toBe(201);
        return (await res.json()).latest.codeSha256 as string;
      }),
    );
    expect(await blobsHeld(shas)).toBe(20);
    for (let i = 0; i < 20; i++) expect((await api(`/v1/functions/gone-${i}`, { method: 'DELETE' })).status).toBe(204);
    expect(await blobsHeld(shas)).toBe(0);
  });

  it('keeps the blob a concurrent deploy of the same content needs, and frees it once that function goes too', async () => {
    const { key, api } = await tenant();
    for (let round = 0; round < 8; round++) {
      const code = source(`shared ${round}`, 1000);
      const first = await deployAs(key, `old-${round}`, code);
      expect(first.status).toBe(201);
      const sha = (await first.json()).latest.codeSha256 as string;
      const [deleted, deployed] = await Promise.all([api(`/v1/functions/old-${round}`, { method: 'DELETE' }), deployAs(key, `new-${round}`, code)]);
      expect(deleted.status).toBe(204);
      expect(deployed.status, await deployed.clone().text()).toBe(201);
      expect((await deployed.json()).latest.codeSha256).toBe(sha);
      expect(await blobsHeld([sha])).toBe(1);
      expect((await api(`/v1/functions/new-${round}/invoke`, json('POST', {}))).status).toBe(200);
      expect((await api(`/v1/functions/new-${round}`, { method: 'DELETE' })).status).toBe(204);
      expect(await blobsHeld([sha])).toBe(0);
    }
  }, 120_000);

  it('force-deletes a namespace: its functions and code go, its keys stop working at once', async () => {
    const { ns, key, api } = await tenant();
    const shas: string[] = [];
    for (const name of ['a', 'b']) shas.push((await (await deployAs(key, name, source(`${ns} ${name}`))).json()).latest.codeSha256);
    expect((await api('/v1/functions')).status).toBe(200);
    expect((await admin(`/v1/namespaces/${ns}`, { method: 'DELETE' })).status).toBe(409);
    expect((await admin(`/v1/namespaces/${ns}?force=yes`, { method: 'DELETE' })).status).toBe(400);
    expect((await api(`/v1/namespaces/${ns}?force=true`, { method: 'DELETE' })).status).toBe(403);

    expect((await admin(`/v1/namespaces/${ns}?force=true`, { method: 'DELETE' })).status).toBe(204);
    expect((await api('/v1/functions')).status).toBe(401);
    expect((await api('/v1/functions/a/invoke', json('POST', {}))).status).toBe(401);
    const { rows } = await platform.database.pool.query('select count(*)::int as n from functions where namespace = $1', [ns]);
    expect(rows[0].n).toBe(0);
    expect(await blobsHeld(shas)).toBe(0);
    expect((await admin(`/v1/namespaces/${ns}?force=true`, { method: 'DELETE' })).status).toBe(404);
  });

  it('pages the function, namespace and key lists', async () => {
    const { ns, key, api } = await tenant();
    for (let i = 0; i < 5; i++) expect((await deployAs(key, `p${i}`, source(`p${i}`))).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await admin(`/v1/namespaces/${ns}/keys`, json('POST', { name: `k${i}` }))).status).toBe(201);

    const walk = async (call: (path: string) => Promise<ApiResponse>, path: string, field: string, limit: number) => {
      const pages: unknown[][] = [];
      let cursor: string | null = null;
      do {
        const res: ApiResponse = await call(`${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        const body = await res.json();
        expect(body[field].length).toBeLessThanOrEqual(limit);
        pages.push(body[field]);
        cursor = body.nextCursor;
      } while (cursor && pages.length < 1000);
      return pages;
    };
    const fnPages = await walk(api, '/v1/functions', 'functions', 2);
    expect(fnPages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(fnPages.flat().map((f) => (f as { name: string }).name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(fnPages.flat()[0]).not.toHaveProperty('versions');

    const keyPages = await walk(admin, `/v1/namespaces/${ns}/keys`, 'keys', 2);
    expect(keyPages.flat().map((k) => (k as { name: string }).name)).toEqual(['key', 'k0', 'k1', 'k2', 'k3']);

    const nsPages = await walk(admin, '/v1/namespaces', 'namespaces', 3);
    const names = nsPages.flat().map((n) => (n as { name: string }).name);
    expect(names).toContain(ns);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(names);

    // A cursor from one list is refused by another; bad limits too.
    const fnCursor = (await (await api('/v1/functions?limit=1')).json()).nextCursor as string;
    expect((await admin(`/v1/namespaces?cursor=${fnCursor}`)).status).toBe(400);
    expect((await admin(`/v1/namespaces/${ns}/keys?cursor=${fnCursor}`)).status).toBe(400);
    expect((await api('/v1/functions?limit=0')).status).toBe(400);
    expect((await api('/v1/functions?limit=1001')).status).toBe(400);
    expect((await api('/v1/functions?cursor=%%%')).status).toBe(400);
  });

  it('validates quota changes', async () => {
    const { ns } = await tenant();
    for (const body of [{ maxVersions: 1 }, { maxFunctions: -1 }, { maxCodeBytes: 1.5 }, { maxUploadBytes: 1e12 }, { maxFunctions: '3' }, { unknownQuota: 3 }]) {
      const res = await admin(`/v1/namespaces/${ns}`, json('PATCH', body));
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).error.code).toBe('InvalidParameter');
    }
    const reset = await (await admin(`/v1/namespaces/${ns}`, json('PATCH', { maxFunctions: 5, maxCodeBytes: null }))).json();
    expect(reset).toMatchObject({ maxFunctions: 5, maxCodeBytes: null, maxVersions: null });
  });
});
