/**
 * Webhook signatures (`gateway/destinations/webhook-signature.ts`): the
 * Stripe-style header, verified as a receiver would (tampering, another
 * secret, a stale timestamp all fail), the namespaces' derived callback
 * secrets; and one POST (`webhook-sender.ts`) against a local receiver:
 * sent to the pinned address whatever the name, 2xx delivered, other
 * statuses and redirects not, a silent receiver timed out.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallbackSecrets, signatureHeader, verifySignature } from '../../gateway/destinations/webhook-signature.ts';
import { postWebhook } from '../../gateway/destinations/webhook-sender.ts';
import type { OutboundAllowed } from '../../gateway/destinations/outbound-guard.ts';

describe('X-Hearth-Signature', () => {
  const secret = 'whsec_test_0123456789abcdef';
  const body = '{"version":"1.0","requestContext":{"condition":"Success"}}';
  const at = Date.parse('2024-05-01T12:00:00Z');

  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    const header = signatureHeader(secret, body, at);
    const t = at / 1000;
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`);
  });

  it('verifies as a receiver would, and refuses a changed body, another secret, a stale or future time', () => {
    const header = signatureHeader(secret, body, at);
    expect(verifySignature(header, secret, body, 300, at + 10_000)).toBe(true);
    expect(verifySignature(header, secret, `${body} `, 300, at)).toBe(false);
    expect(verifySignature(header, 'another-secret-0123456789', body, 300, at)).toBe(false);
    expect(verifySignature(header, secret, body, 300, at + 301_000)).toBe(false);
    expect(verifySignature(header, secret, body, 300, at - 301_000)).toBe(false);
    expect(verifySignature('t=abc,v1=00', secret, body, 300, at)).toBe(false);
    expect(verifySignature('', secret, body)).toBe(false);
  });

  it('accepts any of several v1 values (a receiver rolling its secret)', () => {
    const header = signatureHeader(secret, body, at);
    const rolled = `${header.split(',')[0]},v1=${'0'.repeat(64)},${header.split(',')[1]}`;
    expect(verifySignature(rolled, secret, body, 300, at)).toBe(true);
  });
});

describe('callback secrets', () => {
  it('are stable per namespace, differ across namespaces and admin keys', () => {
    const secrets = createCallbackSecrets({ apiKey: 'platform-key-0123456789', adminKey: 'admin-key-0123456789' });
    expect(secrets('acme')).toBe(createCallbackSecrets({ apiKey: 'other-platform-key-01234', adminKey: 'admin-key-0123456789' })('acme'));
    expect(secrets('acme')).not.toBe(secrets('default'));
    expect(secrets('acme')).not.toBe(createCallbackSecrets({ apiKey: 'platform-key-0123456789' })('acme'));
    expect(secrets('acme')).toMatch(/^hcs_[0-9a-f]{64}$/);
  });
});

describe('one webhook POST', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/ok': (res) => res.writeHead(204).end(),
    '/fail': (res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('database\u0000 exploded\n'.repeat(2000)),
    '/moved': (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    '/silent': () => {},
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        (routes[req.url?.split('?')[0] ?? ''] ?? routes['/ok']!)(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // The guard's verdict for a name that "resolved" to our receiver: the request must go there, not to DNS.
  const pinned = (): OutboundAllowed => ({ ok: true, host: 'rebind.invalid', port, address: '127.0.0.1', family: 4 });
  const post = (path: string, timeoutMs = 2000) =>
    postWebhook({ url: new URL(`http://rebind.invalid:${port}${path}`), allowed: pinned(), body: '{"a":1}', headers: { 'X-Test': 'yes' }, timeoutMs });

  it('posts the body as JSON to the pinned address, with the Host the URL names, and reports 2xx as delivered', async () => {
    expect(await post('/ok?x=1')).toEqual({ delivered: true, status: 204, error: null });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ url: '/ok?x=1', body: '{"a":1}' });
    expect(last.headers).toMatchObject({ host: `rebind.invalid:${port}`, 'content-type': 'application/json', 'x-test': 'yes', 'content-length': '7' });
  });

  it('reports another status as not delivered, with a short cleaned excerpt of the answer', async () => {
    const answer = await post('/fail');
    expect(answer.delivered).toBe(false);
    expect(answer.status).toBe(500);
    expect(answer.error!.length).toBeLessThan(400);
    expect(answer.error).toMatch(/^answered 500: database\? exploded/);
  });

  it('never follows a redirect', async () => {
    const before = seen.length;
    expect(await post('/moved')).toEqual({ delivered: false, status: 302, error: 'answered 302: redirects are not followed' });
    expect(seen.length).toBe(before + 1);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const t0 = Date.now();
    expect(await post('/silent', 300)).toEqual({ delivered: false, status: null, error: 'no answer within 0.3 s' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('says why when nothing listens', async () => {
    const closed: OutboundAllowed = { ok: true, host: '127.0.0.1', port: 1, address: '127.0.0.1', family: 4 };
    const answer = await postWebhook({ url: new URL('http://127.0.0.1:1/'), allowed: closed, body: '{}', headers: {}, timeoutMs: 2000 });
    expect(answer).toEqual({ delivered: false, status: null, error: 'could not post: ECONNREFUSED' });
  });
});
