/**
 * Namespaces and their keys, for the admin key only:
 * `POST/GET /v1/namespaces`, `PATCH /v1/namespaces/{ns}` (quotas: concurrency, provisioned memory),
 * `DELETE /v1/namespaces/{ns}` (only once it holds no functions),
 * `POST/GET /v1/namespaces/{ns}/keys`, `DELETE /v1/namespaces/{ns}/keys/{id}`.
 * A key is shown once, in the answer that creates it, with the access key id
 * it signs AWS SigV4 requests under (the key is the secret access key).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { assertAdmin, sha256Hex } from '../auth.ts';
import { HearthError, badRequest, notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { DNS_LABEL, UUID } from '../ids.ts';
import { createCredentialSealer } from '../lambda/credential-seal.ts';
import { accessKeyIdOf } from '../lambda/lambda-credentials.ts';
import { readJsonBody } from '../read-json-body.ts';

/** A JSON object (not an array, string, number or null). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseQuota(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100_000) {
    throw badRequest('InvalidParameter', 'concurrencyQuota must be an integer from 1 to 100000, or null');
  }
  return value;
}

/** A namespace's provisioned memory quota in MB (minWarm × memoryMb over its functions), or null for the gateway's default. */
function parseProvisionedMemory(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10_000_000) {
    throw badRequest('InvalidParameter', 'provisionedMemoryMb must be an integer from 0 to 10000000, or null (the default)');
  }
  return value;
}

function namespaceParam(raw: string): string {
  if (!DNS_LABEL.test(raw)) throw notFound('NamespaceNotFound', `namespace "${raw.slice(0, 64)}" does not exist`);
  return raw;
}

export function manageTenantsRoute(deps: GatewayDeps) {
  const sealer = createCredentialSealer(deps.auth);
  return new Hono<GatewayEnv>()
    .post('/v1/namespaces', async (c) => {
      assertAdmin(c);
      const body = await readJsonBody(c, 16 * 1024);
      if (!isObject(body)) throw badRequest('InvalidParameter', 'body must be {"name": "...", "concurrencyQuota": N | null}');
      const name = body.name;
      if (typeof name !== 'string' || !DNS_LABEL.test(name)) {
        throw badRequest('InvalidName', 'name must be 1-63 lowercase letters, digits and "-", starting and ending with a letter or digit');
      }
      const created = await deps.tenants.createNamespace(name, parseQuota(body.concurrencyQuota));
      if (!created) throw new HearthError(409, 'NamespaceExists', `namespace "${name}" already exists`);
      // Gateways that looked for it a moment ago remember it as absent.
      await deps.announce({ type: 'namespace-changed', namespace: name });
      return c.json(created, 201);
    })
    .get('/v1/namespaces', async (c) => {
      assertAdmin(c);
      return c.json({ namespaces: await deps.tenants.listNamespaces() });
    })
    .patch('/v1/namespaces/:ns', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      const body = await readJsonBody(c, 16 * 1024);
      // A JSON string or number is valid JSON too; only an object can hold the field.
      if (!isObject(body) || !(Object.hasOwn(body, 'concurrencyQuota') || Object.hasOwn(body, 'provisionedMemoryMb'))) {
        throw badRequest('InvalidParameter', 'body must be {"concurrencyQuota": N | null, "provisionedMemoryMb": N | null} (either or both)');
      }
      const updated = await deps.tenants.updateNamespace(ns, {
        ...(Object.hasOwn(body, 'concurrencyQuota') ? { concurrencyQuota: parseQuota(body.concurrencyQuota) } : {}),
        ...(Object.hasOwn(body, 'provisionedMemoryMb') ? { provisionedMemoryMb: parseProvisionedMemory(body.provisionedMemoryMb) } : {}),
      });
      if (!updated) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      await deps.announce({ type: 'namespace-changed', namespace: ns });
      return c.json(updated);
    })
    .delete('/v1/namespaces/:ns', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      if (ns === 'default') throw badRequest('InvalidParameter', 'the default namespace cannot be deleted');
      // Functions are deleted one by one first (their own path stops their queued calls); a namespace is never emptied by surprise.
      const deletion = await deps.tenants.deleteNamespace(ns);
      if (deletion.result === 'not-found') throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      if (deletion.result === 'has-functions') {
        throw new HearthError(409, 'NamespaceNotEmpty', `namespace "${ns}" still holds ${deletion.functions} function(s); delete them first`, {
          functions: deletion.functions,
        });
      }
      for (const keyHash of deletion.keyHashes) await deps.announce({ type: 'key-revoked', keyHash });
      await deps.announce({ type: 'namespace-changed', namespace: ns });
      deps.log.info('namespace deleted', { namespace: ns, keys: deletion.keyHashes.length });
      return c.body(null, 204);
    })
    .post('/v1/namespaces/:ns/keys', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      const body = await readJsonBody(c, 16 * 1024);
      if (!isObject(body)) throw badRequest('InvalidParameter', 'body must be {"name": "..."} or empty');
      const name = body.name ?? 'key';
      if (typeof name !== 'string' || name.length < 1 || name.length > 100 || /[\u0000-\u001f]/.test(name)) {
        throw badRequest('InvalidParameter', 'name must be 1-100 printable characters');
      }
      if (!(await deps.tenants.getNamespace(ns))) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      const key = `hk_${randomBytes(24).toString('base64url')}`;
      const id = randomUUID();
      const view = await deps.tenants.createKey(ns, name, sha256Hex(key), key.slice(0, 10), { id, sealedSecret: sealer.seal(id, ns, key) });
      return c.json({ ...view, key, lambdaAccessKeyId: accessKeyIdOf(view.id) }, 201);
    })
    .get('/v1/namespaces/:ns/keys', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      if (!(await deps.tenants.getNamespace(ns))) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      return c.json({ keys: await deps.tenants.listKeys(ns) });
    })
    .delete('/v1/namespaces/:ns/keys/:id', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      const id = c.req.param('id').toLowerCase();
      const keyHash = UUID.test(id) ? await deps.tenants.revokeKey(ns, id) : null;
      if (!keyHash) throw notFound('KeyNotFound', `namespace "${ns}" has no live key "${id.slice(0, 64)}"`);
      await deps.announce({ type: 'key-revoked', keyHash });
      return c.body(null, 204);
    });
}
