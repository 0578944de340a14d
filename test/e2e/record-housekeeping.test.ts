/**
 * Retention and code collection on the real platform (its own database, so
 * moving the clock for housekeeping touches no other test's records): a
 * namespace set to keep its records a day, through the admin API, loses its
 * older ones at the next round while another namespace keeps its; a deleted
 * function's code leaves Postgres and then the worker's code cache, while
 * code still in use stays. Real gateway, worker, Docker, Redis, Postgres.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHousekeeping } from '../../worker/run/housekeeping.ts';
import { DEFAULT_ROLLUP_RETENTION_MS } from '../../worker/common/retention-settings.ts';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { DAY_MS } from '../helpers/record-fixtures.ts';

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('record retention and code collection on the real platform', () => {
  let platform: Platform;
  const ns = uniqueName('brief');
  let briefKey = '';
  const as = (key: string) => (path: string, init: RequestInit = {}) =>
    platform.api(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
  const deploy = async (api: Platform['api'], name: string, source: string) => {
    const form = new FormData();
    form.set('code', new Blob([Buffer.from(source)]), 'index.js');
    form.set('runtime', 'nodejs20');
    const res = await api(`/v1/functions/${name}`, { method: 'PUT', body: form });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { version: number; codeSha256?: string };
  };
  const call = async (api: Platform['api'], name: string) => {
    const res = await api(`/v1/functions/${name}/invoke`, json('POST', {}));
    expect(res.status, await res.clone().text()).toBe(200);
    return res.headers.get('x-invocation-id')!;
  };
  const recordStatus = async (api: Platform['api'], id: string) => (await api(`/v1/invocations/${id}`)).status;
  const shaOf = async (name: string) =>
    (await platform.database.pool.query<{ sha: string }>(
      `select v.code_sha256 as sha from function_versions v join functions f on f.id = v.function_id where f.name = $1`, [name])).rows[0]!.sha;

  beforeAll(async () => {
    platform = await startPlatform({ ownDatabase: true, codeCacheGraceMs: 0 });
    expect((await platform.api('/v1/namespaces', json('POST', { name: ns }))).status).toBe(201);
    const patched = await platform.api(`/v1/namespaces/${ns}`, json('PATCH', { recordRetentionDays: 1 }));
    expect(await patched.json()).toMatchObject({ name: ns, recordRetentionDays: 1 });
    briefKey = (await (await platform.api(`/v1/namespaces/${ns}/keys`, json('POST', {}))).json()).key as string;
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
  });

  it("deletes the older records of a namespace that keeps them a day, and no one else's", { timeout: 60_000 }, async () => {
    const brief = as(briefKey);
    await deploy(brief, 'f', 'exports.handler = async () => "brief";\n');
    await deploy(platform.api, 'g', 'exports.handler = async () => "kept";\n');
    const briefId = await call(brief, 'f');
    const keptId = await call(platform.api, 'g');
    for (const [api, id] of [[brief, briefId], [platform.api, keptId]] as const) {
      await expect.poll(() => recordStatus(api, id), { timeout: 10_000 }).toBe(200);
    }
    // Two days on: past the namespace's one day, within everyone else's seven.
    const report = await runHousekeeping(platform.database.pool, { recordRetentionDays: 7, rollupRetentionMs: DEFAULT_ROLLUP_RETENTION_MS }, Date.now() + 2 * DAY_MS);
    expect(report).toMatchObject({ ran: true, recordsDeleted: 1, partitionsDropped: [] });
    expect(await recordStatus(brief, briefId)).toBe(404);
    expect(await recordStatus(platform.api, keptId)).toBe(200);
    // Another tenant's id, and made-up v7 ids whose time is the epoch or past year 9999: 404 with the error body, never a 500.
    for (const id of [keptId, '00000000-0000-7000-8000-000000000000', 'ffffffff-ffff-7fff-bfff-ffffffffffff']) {
      const res = await brief(`/v1/invocations/${id}`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBeTypeOf('string');
    }
  });

  it("removes a deleted function's code from Postgres and then from the worker's cache, keeping code in use", { timeout: 60_000 }, async () => {
    const gone = uniqueName('gone');
    const stays = uniqueName('stays');
    await deploy(platform.api, gone, `exports.handler = async () => ${JSON.stringify(gone)};\n`);
    await deploy(platform.api, stays, `exports.handler = async () => ${JSON.stringify(stays)};\n`);
    const [goneSha, staysSha] = [await shaOf(gone), await shaOf(stays)];
    await call(platform.api, gone);
    await call(platform.api, stays);
    const cached = (sha: string) => existsSync(join(platform.stateDir, 'code', sha));
    expect(cached(goneSha) && cached(staysSha)).toBe(true);

    expect((await platform.api(`/v1/functions/${gone}`, { method: 'DELETE' })).status).toBe(204);
    expect((await platform.database.pool.query('select 1 from code_blobs where sha256 = $1', [goneSha])).rowCount).toBe(0);
    expect(await platform.worker.sweepCode()).toBe(1);
    expect(cached(goneSha)).toBe(false);
    expect(cached(staysSha)).toBe(true);
    expect(await platform.worker.sweepCode()).toBe(0);
    // The code still in use runs as before.
    await call(platform.api, stays);
  });
});
