/**
 * Destinations on the real platform: an async call of a whose onSuccess is b
 * whose onSuccess is c makes a chain a → b → c that c's record and lookup
 * show; a function that is its own destination stops at depth 16, recorded
 * as such; a webhook to a local receiver gets a signed POST, retried after a
 * 500 and then delivered; onFailure fires for a function that throws;
 * X-Callback-Url posts the outcome signed with the namespace's secret; and
 * private addresses are refused when set and again when delivering. Real
 * gateway, worker, Docker, Redis and Postgres; the receiver is an HTTP
 * server in this process at 127.0.0.1 (the allow-list's one entry).
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functions } from '../../migrations/schema.ts';
import { verifySignature } from '../../gateway/destinations/webhook-signature.ts';
import { deploy, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const echo = (tag: string) => ({ bytes: Buffer.from(`exports.handler = async (event) => ({ from: ${JSON.stringify(tag)}, got: event });\n`), filename: 'index.js' });
const small = { bytes: Buffer.from('exports.handler = async () => ({ ok: true });\n'), filename: 'index.js' };
const thrower = { bytes: Buffer.from("exports.handler = async () => { throw new TypeError('boom'); };\n"), filename: 'index.js' };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('destinations on the real platform', () => {
  let platform: Platform;
  let receiver: Server;
  let hookBase: string;
  const received: Received[] = [];
  /** What the receiver answers, by path (default 200), consumed in order. */
  const answers = new Map<string, number[]>();
  const names = { a: uniqueName('dst-a'), b: uniqueName('dst-b'), c: uniqueName('dst-c'), loop: uniqueName('dst-loop'), fail: uniqueName('dst-fail'), hook: uniqueName('dst-hook') };

  const putDestinations = (name: string, body: unknown) =>
    platform.api(`/v1/functions/${name}/destinations`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const invokeAsync = async (name: string, event: unknown, headers: Record<string, string> = {}) => {
    const res = await platform.api(`/v1/functions/${name}/invoke?async=true`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(event) });
    expect(res.status, await res.clone().text()).toBe(202);
    return (await res.json()).invocationId as string;
  };
  /** The invocation's lookup once its deliveries are all settled (not pending). */
  const settled = async (id: string, timeoutMs = 30_000) => {
    let last: { deliveries?: Array<{ status: string }> } = {};
    await waitFor(
      `the deliveries of ${id}`,
      async () => {
        last = await recordOf(platform, id, 10_000);
        return (last.deliveries ?? []).length > 0 && last.deliveries!.every((d) => d.status !== 'pending');
      },
      timeoutMs,
      100,
    );
    return last as Record<string, any>;
  };
  const hits = (path: string) => received.filter((r) => r.path === path);

  beforeAll(async () => {
    receiver = createServer((req, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString() });
        const status = answers.get(path)?.shift() ?? 200;
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    platform = await startPlatform({ outboundAllowHosts: ['127.0.0.1'] });
    for (const [key, code] of [['a', echo('a')], ['b', echo('b')], ['c', echo('c')], ['loop', small], ['fail', thrower], ['hook', small]] as const) {
      const res = await deploy(platform, names[key], code, { runtime: 'nodejs20' });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    for (const name of Object.values(names)) await platform?.api(`/v1/functions/${name}`, { method: 'DELETE' });
    await platform?.stop();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('chains a → b → c: each record names its cause, and c shows its chain', async () => {
    expect((await putDestinations(names.a, { onSuccess: { type: 'function', name: names.b } })).status).toBe(200);
    expect((await putDestinations(names.b, { onSuccess: { type: 'function', name: names.c, alias: 'latest' } })).status).toBe(200);
    const a = await invokeAsync(names.a, { order: 7 });
    const aLookup = await settled(a);
    expect(aLookup.deliveries).toEqual([expect.objectContaining({ condition: 'onSuccess', type: 'function', target: `function:${names.b}`, status: 'delivered', attempts: 1 })]);
    const b = aLookup.deliveries[0].childInvocationId as string;
    const bLookup = await settled(b);
    expect(bLookup).toMatchObject({ functionName: names.b, causedBy: a, mode: 'async', chain: [{ id: a, function: names.a, status: 'succeeded' }] });
    const c = bLookup.deliveries[0].childInvocationId as string;
    const cLookup = await recordOf(platform, c, 30_000);
    expect(cLookup).toMatchObject({ functionName: names.c, status: 'succeeded', causedBy: b, deliveries: [] });
    expect(cLookup.chain).toEqual([
      { id: a, function: names.a, status: 'succeeded' },
      { id: b, function: names.b, status: 'succeeded' },
    ]);
    // c's event is b's destination record, whose event is a's.
    const got = cLookup.result.got;
    expect(got).toMatchObject({ version: '1.0', requestContext: { requestId: b, condition: 'Success', approximateInvokeCount: 1 }, responseContext: { statusCode: 200, executedVersion: '1' } });
    expect(got.requestPayload.requestContext.requestId).toBe(a);
    expect(got.requestPayload.requestPayload).toEqual({ order: 7 });
    expect(got.responsePayload.from).toBe('b');
  }, 90_000);

  it('stops a function that is its own destination at depth 16, and records why', async () => {
    expect((await putDestinations(names.loop, { onSuccess: { type: 'function', name: names.loop } })).status).toBe(200);
    let id = await invokeAsync(names.loop, { n: 0 });
    const seen = [id];
    let last: Record<string, any> = {};
    for (let hop = 0; hop < 20; hop++) {
      last = await settled(id, 30_000);
      const delivery = last.deliveries[0];
      if (delivery.status !== 'delivered') break;
      id = delivery.childInvocationId;
      seen.push(id);
    }
    expect(seen).toHaveLength(17);
    expect(last.deliveries).toEqual([expect.objectContaining({ status: 'failed', lastError: 'recursive chain stopped at depth 16', childInvocationId: null })]);
    expect(last.chain).toHaveLength(16);
    expect(last.chain[0].id).toBe(seen[0]);
    expect(new Set(seen).size).toBe(17);
  }, 180_000);

  it('posts a signed record to a webhook, retries after a 500, then is delivered', async () => {
    const secret = 'whsec-e2e-0123456789abcdef';
    const path = '/hook/retry';
    answers.set(path, [500]);
    expect((await putDestinations(names.hook, { onSuccess: { type: 'webhook', url: `${hookBase}${path}`, secret } })).status).toBe(200);
    const shown = await (await platform.api(`/v1/functions/${names.hook}/destinations`)).json();
    expect(shown.onSuccess).toEqual({ type: 'webhook', url: `${hookBase}${path}`, secret: '****' });
    const id = await invokeAsync(names.hook, { hello: 'world' });
    const lookup = await settled(id, 40_000);
    expect(lookup.deliveries).toEqual([expect.objectContaining({ type: 'webhook', status: 'delivered', attempts: 2, lastStatus: 200, lastError: null })]);
    const posts = hits(path);
    expect(posts).toHaveLength(2);
    // Counted once, when it settled, in the gateway's Prometheus text.
    const metrics = await (await platform.api('/metrics')).text();
    expect(metrics).toMatch(/hearth_destination_deliveries_total\{type="webhook",condition="onSuccess",status="delivered"\} 1\b/);
    for (const post of posts) {
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['x-hearth-invocation-id']).toBe(id);
      expect(verifySignature(String(post.headers['x-hearth-signature']), secret, post.body)).toBe(true);
      expect(verifySignature(String(post.headers['x-hearth-signature']), 'some-other-secret-value', post.body)).toBe(false);
    }
    const record = JSON.parse(posts[1]!.body);
    expect(record).toMatchObject({ version: '1.0', requestContext: { requestId: id, condition: 'Success' }, requestPayload: { hello: 'world' }, responsePayload: { ok: true } });
  }, 90_000);

  it('fires onFailure for a function that throws, with its error as the payload', async () => {
    const path = '/hook/failure';
    expect((await putDestinations(names.fail, { onSuccess: { type: 'webhook', url: `${hookBase}/hook/never` }, onFailure: { type: 'webhook', url: `${hookBase}${path}` } })).status).toBe(200);
    const id = await invokeAsync(names.fail, { x: 1 });
    const lookup = await settled(id);
    expect(lookup.status).toBe('failed');
    expect(lookup.deliveries).toEqual([expect.objectContaining({ condition: 'onFailure', status: 'delivered', attempts: 1 })]);
    const [post] = hits(path);
    const record = JSON.parse(post!.body);
    expect(record.requestContext).toMatchObject({ requestId: id, condition: 'RetriesExhausted', approximateInvokeCount: 1 });
    expect(record.responseContext).toMatchObject({ statusCode: 200, functionError: 'Unhandled' });
    expect(record.responsePayload).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
    // Signed with the namespace's secret: the webhook set none of its own.
    const { secret } = await (await platform.api('/v1/destinations/callback-secret')).json();
    expect(verifySignature(String(post!.headers['x-hearth-signature']), secret, post!.body)).toBe(true);
    expect(hits('/hook/never')).toHaveLength(0);
  }, 60_000);

  it('posts to X-Callback-Url, signed with the namespace secret, and refuses private addresses', async () => {
    const path = '/callback/one';
    const id = await invokeAsync(names.hook, { via: 'callback' }, { 'X-Callback-Url': `${hookBase}${path}` });
    await waitFor('the callback', () => hits(path).length === 1, 30_000);
    const [post] = hits(path);
    const { secret } = await (await platform.api('/v1/destinations/callback-secret')).json();
    expect(verifySignature(String(post!.headers['x-hearth-signature']), secret, post!.body)).toBe(true);
    expect(post!.headers['x-call-id']).toBe(id);
    expect(JSON.parse(post!.body)).toMatchObject({ requestContext: { requestId: id }, requestPayload: { via: 'callback' } });
    const lookup = await settled(id);
    expect(lookup.deliveries).toContainEqual(expect.objectContaining({ condition: 'callback', type: 'webhook', target: `callback:${hookBase}${path}`, status: 'delivered' }));

    for (const url of ['http://10.0.0.1/cb', 'http://169.254.169.254/latest/meta-data/', `http://localhost:${new URL(hookBase).port}/cb`]) {
      const res = await platform.api(`/v1/functions/${names.hook}/invoke?async=true`, { method: 'POST', headers: { 'X-Callback-Url': url }, body: '{}' });
      expect(res.status, url).toBe(400);
      expect((await res.json()).error.code).toBe('InvalidCallbackUrl');
    }
  }, 60_000);

  it('refuses webhooks to private addresses when set, and again when delivering', async () => {
    const port = new URL(hookBase).port;
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/hook', `http://localhost:${port}/hook`]) {
      const res = await putDestinations(names.c, { onSuccess: { type: 'webhook', url } });
      expect(res.status, url).toBe(400);
      expect((await res.json()).error.code).toBe('InvalidDestination');
    }
    // A destination that passed when it was set (as if its name resolved elsewhere then): the delivery checks again.
    const [fn] = await platform.database.db.select({ id: functions.id }).from(functions).where(eq(functions.name, names.c));
    const stored = { onSuccess: { type: 'webhook', url: `http://localhost:${port}/hook/rebound` }, onFailure: null, updatedAt: new Date().toISOString() };
    await platform.database.db.update(functions).set({ destinations: stored }).where(eq(functions.id, fn!.id));
    const id = await invokeAsync(names.c, {});
    const lookup = await settled(id);
    expect(lookup.deliveries).toEqual([expect.objectContaining({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/^refused: localhost resolves to (127\.0\.0\.1|::1)/) })]);
    expect(hits('/hook/rebound')).toHaveLength(0);
  }, 60_000);
});
