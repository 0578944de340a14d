/**
 * A caller's mistakes are 4xx JSON errors, never 500s: numbers too large for
 * the columns they name, JSON bodies of the wrong kind, and times outside
 * what a query can compare with. Each of these reached Postgres before and
 * failed there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';

const source = { bytes: Buffer.from('exports.handler = async () => "ok";'), filename: 'index.js' };

describe("a caller's mistakes", () => {
  let platform: Platform;
  const name = uniqueName('mistakes');
  const tenant = uniqueName('ns');
  beforeAll(async () => {
    platform = await startPlatform();
    expect((await deploy(platform, name, source, { runtime: 'nodejs20' })).status).toBe(201);
    expect((await platform.api('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(201);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function expectClientError(res: ApiResponse, status: number, code: string) {
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(status);
    expect(JSON.parse(text).error.code).toBe(code);
  }

  const json = (method: string, body: string): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body });

  it('rollback to a version past the integer column is 400, the largest one 404', async () => {
    for (const version of [2147483648, 1e300, 99999999999]) {
      await expectClientError(await platform.api(`/v1/functions/${name}/rollback`, json('POST', JSON.stringify({ version }))), 400, 'InvalidParameter');
    }
    await expectClientError(await platform.api(`/v1/functions/${name}/rollback`, json('POST', '{"version": 2147483647}')), 404, 'VersionNotFound');
  });

  it('invoke?version= past the integer column is 400, the largest one 404', async () => {
    for (const version of ['99999999999', '2147483648', '1e3', '-1', '0']) {
      await expectClientError(await platform.api(`/v1/functions/${name}/invoke?version=${version}`, json('POST', '{}')), 400, 'InvalidParameter');
    }
    const largest = await platform.api(`/v1/functions/${name}/invoke?version=2147483647`, json('POST', '{}'));
    expect(largest.status).toBe(404);
  });

  it('PATCH /v1/namespaces/{ns} with a JSON string, number, array or null is 400', async () => {
    for (const body of ['"text"', '42', '[]', 'null', 'true']) {
      await expectClientError(await platform.api(`/v1/namespaces/${tenant}`, json('PATCH', body)), 400, 'InvalidParameter');
    }
    const ok = await platform.api(`/v1/namespaces/${tenant}`, json('PATCH', '{"concurrencyQuota": 3}'));
    expect(ok.status).toBe(200);
  });

  it('logs and invocations with a since or cursor no query can compare with are 400', async () => {
    const cursor = (time: string) => Buffer.from(`${time}|00000000-0000-4000-8000-000000000000`).toString('base64url');
    for (const query of [
      'since=99999999999d',
      'since=99999999999999999999s',
      'since=-271821-04-20T00:00:00Z',
      'since=+275760-09-13T00:00:00Z',
      'since=8640000000000000',
      `cursor=${cursor('-271821-04-20T00:00:00.000Z')}`,
      `cursor=${cursor('+275760-09-13T00:00:00.000Z')}`,
    ]) {
      await expectClientError(await platform.api(`/v1/functions/${name}/logs?${query}`), 400, 'InvalidParameter');
      await expectClientError(await platform.api(`/v1/functions/${name}/invocations?${query}`), 400, 'InvalidParameter');
    }
    expect((await platform.api(`/v1/functions/${name}/logs?since=36500d`)).status).toBe(200);
  });

  it('answers a sweep of odd requests with 4xx JSON, never a 500', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const requests: Array<[string, RequestInit?]> = [
      [`/v1/functions/${name}/logs?limit=1e3`],
      [`/v1/functions/${name}/logs?limit=-1`],
      [`/v1/functions/${name}/invocations?limit=abc`],
      [`/v1/functions/${name}/invocations?cursor=%25%25%25`],
      [`/v1/functions/${name}/invocations?cursor=${Buffer.from('x|y|z').toString('base64url')}`],
      [`/v1/functions/${name}/invocations?status=__proto__`],
      [`/v1/functions/${name}/metrics?window=99999999999d`],
      [`/v1/invocations/${uuid.toUpperCase()}z`],
      ['/v1/namespaces', json('POST', '"x"')],
      ['/v1/namespaces', json('POST', '42')],
      ['/v1/namespaces', json('POST', '{"name": "ok-name", "concurrencyQuota": 1e10}')],
      [`/v1/namespaces/${tenant}/keys`, json('POST', '42')],
      [`/v1/namespaces/${tenant}/keys`, json('POST', '{"name": 5}')],
      [`/v1/namespaces/${tenant}`, json('PATCH', '{"concurrencyQuota": 1e10}')],
      [`/v1/namespaces/${tenant}`, json('PATCH', '{"concurrencyQuota": "3"}')],
      [`/v1/namespaces/${tenant}/keys/${uuid}`, { method: 'DELETE' }],
      ['/v1/namespaces/UPPER', { method: 'DELETE' }],
      [`/v1/functions/${name}/rollback`, json('POST', '"x"')],
      [`/v1/functions/${name}/rollback`, json('POST', 'null')],
      [`/v1/functions/${name}/rollback`, json('POST', '{"version": "1"}')],
      [`/v1/functions/${name}/invoke?async=maybe`, json('POST', '{}')],
      [`/v1/functions/${name}/invoke`, json('POST', '{')],
    ];
    for (const [path, init] of requests) {
      const res = await platform.api(path, init);
      const text = await res.text();
      expect(res.status, `${path}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${path}: ${text.slice(0, 200)}`).toBeLessThan(500);
      expect(JSON.parse(text).error.code, path).toMatch(/^[A-Za-z]+$/);
    }
  });
});
