/**
 * Secrets on the real platform (Postgres, Redis, Docker): a secret reaches
 * a nodejs20 and a python3 function as an environment variable and as a
 * file under /run/secrets (mode 0400, owned by the sandbox user); its value
 * is in no API answer, log line, Prometheus text or database row (a whole
 * pg_dump is searched); a new value reaches warm containers while a call in
 * flight finishes with the old; another namespace cannot reference it; and
 * rotating the master key keeps everything readable.
 *
 * Functions answer digests of what they read, never the values: results
 * are stored, and the dump must not find them there either.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateKeyFile } from '../../gateway/secrets/rotate-key.ts';
import { keyIdOf } from '../../worker/common/secret-sealing.ts';
import type { SealedSecretSource } from '../../worker/sandbox/sandbox-secrets.ts';
import { invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const digest = (text: string) => createHash('sha256').update(text).digest('hex');
const fresh = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

const NODE_HANDLER = `
const fs = require('node:fs');
const crypto = require('node:crypto');
const digest = (t) => t === undefined ? null : crypto.createHash('sha256').update(t).digest('hex');
const stat = (p) => { try { const s = fs.statSync(p); return { mode: s.mode & 0o777, uid: s.uid }; } catch (e) { return { error: e.code }; } };
const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch { return undefined; } };
exports.handler = async (event) => {
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return {
    env: digest(process.env.DB_URL), file: digest(read('/run/secrets/db-url')), tls: digest(read('/run/secrets/tls-key')),
    plain: digest(process.env.PLAIN), fileStat: stat('/run/secrets/db-url'), dirStat: stat('/run/secrets'),
  };
};
`;

const PYTHON_HANDLER = `
import hashlib, os

def _digest(text):
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()

def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None

def _stat(path):
    s = os.stat(path)
    return {"mode": s.st_mode & 0o777, "uid": s.st_uid}

def handler(event, context):
    return {"env": _digest(os.environ.get("DB_URL")), "file": _digest(_read("/run/secrets/db-url")), "tls": _digest(_read("/run/secrets/tls-key")),
            "plain": _digest(os.environ.get("PLAIN")), "fileStat": _stat("/run/secrets/db-url"), "dirStat": _stat("/run/secrets")}
`;

describe('secrets', () => {
  let platform: Platform;
  const logLines: string[] = [];
  /** Every answer the API gave in this file, to search for values. */
  const answers: string[] = [];
  const first = fresh('postgres://app:first');
  const second = fresh('postgres://app:second');
  const tls = fresh('-----BEGIN PRIVATE KEY-----');
  const plain = fresh('plain-env-value');
  const nodeFn = uniqueName('secret-node');
  const pyFn = uniqueName('secret-py');
  /** Reads of the secrets table that fail next, as when Postgres does not answer. */
  let failNextReads = 0;
  const failingReads = (source: SealedSecretSource): SealedSecretSource => ({
    read: (namespace, names) => (failNextReads > 0 && failNextReads-- > 0 ? Promise.reject(new Error('connection terminated')) : source.read(namespace, names)),
    changedSince: (since) => source.changedSince(since),
  });

  const api = async (path: string, init?: RequestInit): Promise<ApiResponse> => {
    const res = await platform.api(path, init);
    answers.push(await res.clone().text());
    return res;
  };
  const putSecret = (name: string, value: string) => api(`/v1/secrets/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
  const deploy = (name: string, runtime: string, source: string, filename: string, fields: Record<string, string>, key?: string) => {
    const form = new FormData();
    form.set('code', new Blob([source]), filename);
    form.set('runtime', runtime);
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    return api(`/v1/functions/${name}`, { method: 'PUT', body: form, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });
  };
  const call = async (name: string, event: unknown = {}) => {
    const res = await invoke(platform, name, event);
    const text = await res.clone().text();
    answers.push(text);
    expect(res.status, text).toBe(200);
    return (await res.json()) as { env: string | null; file: string | null; tls: string | null; plain: string | null; fileStat: { mode: number; uid: number }; dirStat: { mode: number; uid: number } };
  };
  const FIELDS = { timeoutMs: '15000', env: JSON.stringify({ PLAIN: plain, DB_URL: { secret: 'db-url' } }), secrets: '["tls-key"]' };

  beforeAll(async () => {
    const capture = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      logLines.push(`${level} ${message} ${JSON.stringify(fields ?? {}, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message} ${v.stack}` : v))}`);
    };
    platform = await startPlatform({ ownDatabase: true, secretPollMs: 1000, wrapSecretSource: failingReads, log: { info: capture('info'), warn: capture('warn'), error: capture('error') } });
    expect((await putSecret('db-url', first)).status).toBe(201);
    expect((await putSecret('tls-key', tls)).status).toBe(201);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it.each([
    ['nodejs20', () => nodeFn, NODE_HANDLER, 'index.js'],
    ['python3', () => pyFn, PYTHON_HANDLER, 'main.py'],
  ] as const)('reach a %s function as a variable and as files (0400, uid 10001, in a 0700 tmpfs)', async (runtime, name, source, filename) => {
    const res = await deploy(name(), runtime, source, filename, FIELDS);
    expect(res.status, await res.clone().text()).toBe(201);
    const got = await call(name());
    expect(got).toEqual({
      env: digest(first),
      file: digest(first),
      tls: digest(tls),
      plain: digest(plain),
      fileStat: { mode: 0o400, uid: 10001 },
      dirStat: { mode: 0o700, uid: 10001 },
    });
  });

  it('shows references, never values, in the function and the secrets listing', async () => {
    const fn = await (await api(`/v1/functions/${nodeFn}`)).json();
    expect(fn.latest).toMatchObject({ secrets: ['db-url', 'tls-key'], secretEnv: { DB_URL: 'db-url' }, env: { PLAIN: plain } });
    const listed = await (await api('/v1/secrets')).json();
    expect(listed.secrets.find((s: { name: string }) => s.name === 'db-url').usedBy.map((u: { function: string }) => u.function).sort()).toEqual([nodeFn, pyFn].sort());
  });

  it('a new value reaches warm containers; a call in flight finishes with the old', async () => {
    // Two containers: one held by a long call, one idle and warm (the second call's).
    const long = call(nodeFn, { sleepMs: 4000 });
    await waitFor('the long call to hold a container', () => platform.worker.stats().busy >= 1, 10_000, 20);
    expect((await call(nodeFn)).env).toBe(digest(first));
    expect(platform.worker.stats().warm).toBeGreaterThanOrEqual(1);
    const idleBefore = platform.worker.stats().warm;
    expect((await putSecret('db-url', second)).status).toBe(200);
    // The idle containers holding the old value (Node's second one, Python's) go at once, not when next taken.
    await waitFor('the stale idle containers to be discarded', () => platform.worker.stats().warm <= idleBefore - 2, 10_000, 20);
    const t0 = Date.now();
    let latest = await call(nodeFn);
    while (latest.env !== digest(second) && Date.now() - t0 < 10_000) latest = await call(nodeFn);
    expect(latest).toMatchObject({ env: digest(second), file: digest(second), tls: digest(tls) });
    expect(await long).toMatchObject({ env: digest(first), file: digest(first) });
    // Python's warm container too.
    expect((await call(pyFn)).file).toBe(digest(second));
  });

  it('a call whose secrets cannot be read (the database did not answer) waits and runs, recorded once as a success', async () => {
    const name = uniqueName('secret-retry');
    expect((await deploy(name, 'nodejs20', NODE_HANDLER, 'index.js', FIELDS)).status).toBe(201);
    failNextReads = 2;
    const id = (await (await invoke(platform, name, {}, '?async=true')).json()).invocationId as string;
    const record = (await recordOf(platform, id, 20_000)) as { status: string; attempt?: number; result?: { env: string } };
    expect(failNextReads).toBe(0);
    expect(record.status).toBe('succeeded');
    expect(record.result?.env).toBe(digest(second));
    const listed = await (await api(`/v1/functions/${name}/invocations`)).json();
    expect(listed.items.map((i: { invocationId: string }) => i.invocationId)).toEqual([id]);
  });

  it("another namespace cannot reference it (404 at deploy), nor see it", async () => {
    const tenant = uniqueName('sec-ns');
    expect((await api('/v1/namespaces', { method: 'POST', body: JSON.stringify({ name: tenant }) })).status).toBe(201);
    const key = (await (await api(`/v1/namespaces/${tenant}/keys`, { method: 'POST', body: JSON.stringify({ name: 'ci' }) })).json()).key as string;
    const refused = await deploy(uniqueName('thief'), 'nodejs20', NODE_HANDLER, 'index.js', { secrets: '["db-url"]' }, key);
    expect(refused.status).toBe(404);
    expect((await refused.json()).error.code).toBe('SecretNotFound');
    const theirs = await api('/v1/secrets', { headers: { authorization: `Bearer ${key}` } });
    expect((await theirs.json()).secrets).toEqual([]);
  });

  it('the master key rotation re-seals everything and keeps it readable', async () => {
    const file = platform.secretsKey.source.file!;
    const report = await rotateKeyFile({ db: platform.database.db, file, graceMs: 1500 });
    expect(report.resealed.secrets).toBeGreaterThanOrEqual(2);
    const { rows } = await platform.database.db.$client.query<{ value_sealed: string }>('select value_sealed from secrets');
    for (const row of rows) expect(keyIdOf(row.value_sealed)).toBe(report.newKeyId);
    const envs = await platform.database.db.$client.query<{ env: { $sealed?: string } }>('select env from function_versions');
    for (const row of envs.rows) expect(keyIdOf(row.env.$sealed ?? '')).toBe(report.newKeyId);
    // A new version starts a fresh container: the worker opens everything under the new key.
    expect((await deploy(nodeFn, 'nodejs20', NODE_HANDLER, 'index.js', FIELDS)).status).toBe(201);
    expect(await call(nodeFn)).toMatchObject({ env: digest(second), file: digest(second), tls: digest(tls), plain: digest(plain) });
    expect((await putSecret('db-url', second)).status).toBe(200);
  });

  it('is in no answer, record, log line, Prometheus text or database row', async () => {
    const id = (await (await invoke(platform, nodeFn, {}, '?async=true')).json()).invocationId as string;
    answers.push(JSON.stringify(await recordOf(platform, id, 20_000)));
    answers.push(await (await api(`/v1/functions/${nodeFn}/logs`)).text());
    answers.push(await (await api(`/v1/functions/${nodeFn}/invocations`)).text());
    answers.push(await (await api(`/v1/functions/${nodeFn}/versions`)).text());
    answers.push(await (await api('/metrics')).text());
    const { stdout: dump } = await run('pg_dump', ['--data-only', '--no-owner', platform.databaseUrl], { maxBuffer: 512 * 1024 * 1024 });
    expect(dump.length).toBeGreaterThan(1000);
    expect(dump).toContain('value_sealed');
    // A plain variable is sealed at rest too, but shown to its owner (the function's own namespace); a secret never.
    for (const value of [first, second, tls, plain]) {
      expect(dump.includes(value), 'the database dump holds a plain value').toBe(false);
      expect(logLines.filter((l) => l.includes(value)), 'a log line holds a value').toEqual([]);
      if (value !== plain) expect(answers.filter((a) => a.includes(value)), 'an API answer holds a secret').toEqual([]);
    }
    expect(answers.length).toBeGreaterThan(20);
  });
});
