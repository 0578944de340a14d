/**
 * Hostile input at the edges: archives that try to write outside their own
 * directory, events too large to queue, and results too large to return.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { rawTarGz } from '../helpers/raw-tar.ts';
import { rawZip } from '../helpers/raw-zip.ts';
import { uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { call, deployFunction } from './security-harness.ts';

const MAX_EVENT_BYTES = 6 * 1024 * 1024;
const MAX_RESULT_BYTES = 6 * 1024 * 1024;
const HANDLER = 'exports.handler = async () => "ok";\n';

describe('hostile uploads, events and results', () => {
  let platform: Platform;
  let redis: Redis;
  beforeAll(async () => {
    platform = await startPlatform();
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    redis?.disconnect();
    await platform?.stop();
  });

  /** Jobs ever added to this platform's invocation queues, shared and per worker (BullMQ's event streams). */
  async function jobsAdded(): Promise<number> {
    let total = 0;
    for (const key of await redis.keys(`${platform.prefix}:invocations*:events`)) {
      const entries = await redis.xrange(key, '-', '+');
      total += entries.filter(([, fields]) => fields[0] === 'event' && fields[1] === 'added').length;
    }
    return total;
  }

  async function invocationRows(name: string): Promise<number> {
    const { rows } = await platform.database.pool.query('select count(*)::int as n from invocations where function_name = $1', [name]);
    return rows[0].n;
  }

  function upload(name: string, bytes: Buffer, filename: string) {
    const form = new FormData();
    form.set('code', new Blob([bytes]), filename);
    form.set('runtime', 'nodejs20');
    return platform.api(`/v1/functions/${name}`, { method: 'PUT', body: form });
  }

  const escapes = [
    { what: 'a zip entry "../x"', filename: 'code.zip', bytes: () => rawZip([{ name: 'index.js', data: HANDLER }, { name: '../x', data: 'pwned' }]), message: /\.\.\/x/ },
    { what: 'a zip entry with an absolute path', filename: 'code.zip', bytes: () => rawZip([{ name: 'index.js', data: HANDLER }, { name: '/etc/cron.d/x', data: 'pwned' }]), message: /\/etc\/cron\.d\/x/ },
    {
      what: 'a zip symlink to /etc/passwd',
      filename: 'code.zip',
      bytes: () => rawZip([{ name: 'index.js', data: HANDLER }, { name: 'passwd', data: '/etc/passwd', unixMode: 0o120777 }]),
      message: /passwd.*absolute/,
    },
    { what: 'a tar entry "../x"', filename: 'code.tar.gz', bytes: () => rawTarGz([{ path: 'index.js', data: HANDLER }, { path: '../x', data: 'pwned' }]), message: /\.\.\/x/ },
    {
      what: 'a tar symlink to /etc/passwd',
      filename: 'code.tar.gz',
      bytes: () => rawTarGz([{ path: 'index.js', data: HANDLER }, { path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }]),
      message: /passwd.*absolute/,
    },
  ];

  for (const attack of escapes) {
    it(`rejects ${attack.what} with 400 InvalidArchive and stores nothing`, async () => {
      const name = uniqueName('escape');
      const res = await upload(name, attack.bytes(), attack.filename);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe('InvalidArchive');
      expect(body.error.message).toMatch(attack.message);
      const fetched = await platform.api(`/v1/functions/${name}`);
      expect(fetched.status).toBe(404);
    });
  }

  it('a rejected upload over an existing function leaves its versions as they were', async () => {
    const name = uniqueName('escape-existing');
    await deployFunction(platform, name, { 'index.js': HANDLER }, { runtime: 'nodejs20' });
    const res = await upload(name, rawZip([{ name: 'index.js', data: HANDLER }, { name: '../../x', data: 'pwned' }]), 'code.zip');
    expect(res.status).toBe(400);
    const fn = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(fn.latestVersion).toBe(1);
    expect(fn.versions).toHaveLength(1);
  });

  it(`an event over ${MAX_EVENT_BYTES} bytes is 413 before it is queued: no job, no record`, async () => {
    const name = uniqueName('big-event');
    await deployFunction(platform, name, { 'index.js': HANDLER }, { runtime: 'nodejs20' });
    const before = await jobsAdded();

    const event = JSON.stringify('x'.repeat(MAX_EVENT_BYTES));
    for (const query of ['', '?async=true']) {
      const res = await platform.api(`/v1/functions/${name}/invoke${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: event });
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('PayloadTooLarge');
      expect(res.headers.get('x-invocation-id')).toBeNull();
    }
    expect(await jobsAdded()).toBe(before);
    expect(await invocationRows(name)).toBe(0);

    // The same checks see a call that is queued.
    const ok = await call(platform, name, {});
    expect(ok.status).toBe(200);
    expect(await jobsAdded()).toBe(before + 1);
  });

  it(`a result over ${MAX_RESULT_BYTES} bytes is a clear function error, not a ${MAX_RESULT_BYTES}+ byte answer`, async () => {
    const name = uniqueName('big-result');
    await deployFunction(platform, name, { 'index.js': `exports.handler = async () => 'r'.repeat(${MAX_RESULT_BYTES + 1024});` }, { runtime: 'nodejs20', memoryMb: 256 });
    const res = await call(platform, name);
    const summary = typeof res.body === 'string' ? `${res.body.length} characters` : JSON.stringify(res.body).slice(0, 300);
    expect(res.status, `answered ${res.status} with ${summary}`).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'FunctionError', type: 'Runtime.ResponseSizeTooLarge' });
    expect(res.body.error.message).toContain(`${MAX_RESULT_BYTES} bytes`);
    const record = await recordOf(platform, res.invocationId);
    expect(record).toMatchObject({ status: 'failed', result: null, error: { code: 'FunctionError', type: 'Runtime.ResponseSizeTooLarge' } });
  });
});
