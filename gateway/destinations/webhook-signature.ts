/**
 * How a receiver knows a webhook came from Hearth and was not replayed:
 * `X-Hearth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
 * Stripe's scheme, so its verification snippets work unchanged. The key is
 * the destination's own `secret` when it set one; otherwise, and for every
 * `X-Callback-Url`, the namespace's callback secret: derived (HKDF-SHA256)
 * from the platform's admin key and the namespace, so it needs no storage,
 * every gateway derives the same one, and one namespace's secret tells
 * nothing about another's. It changes only with the admin key.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** The header's value for `body`, signed with `secret` at `nowMs`. */
export function signatureHeader(secret: string, body: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Whether `header` is a valid signature of `body` with `secret`, made within
 * `toleranceS` of `nowMs` (what a receiver does; Hearth's tests do it too).
 * Any `v1` of several may match (a receiver rolling secrets).
 */
export function verifySignature(header: string, secret: string, body: string, toleranceS = 300, nowMs = Date.now()): boolean {
  const parts = header.split(',').map((part) => part.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowMs / 1000 - t) > toleranceS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts
    .filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v!, 'hex'), expected));
}

/** Derives each namespace's callback secret from the configured keys (`adminKey` if set, else `apiKey`). */
export function createCallbackSecrets(keys: { apiKey: string; adminKey?: string }): (namespace: string) => string {
  const master = keys.adminKey ?? keys.apiKey;
  return (namespace) => `hcs_${Buffer.from(hkdfSync('sha256', master, 'hearth/callback-signing', `callback:${namespace}`, 32)).toString('hex')}`;
}
