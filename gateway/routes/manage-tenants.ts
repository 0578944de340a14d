/**
 * Namespaces and their keys, for the admin key only:
 * `POST/GET /v1/namespaces`, `PATCH /v1/namespaces/{ns}` (quotas: concurrency, provisioned memory,
 * functions, versions per function, stored code bytes, upload bytes),
 * `DELETE /v1/namespaces/{ns}` (only once it holds no functions, unless `?force=true`),
 * `POST/GET /v1/namespaces/{ns}/keys`, `DELETE /v1/namespaces/{ns}/keys/{id}`.
 * Lists are paged (`?limit=&cursor=`, `list-paging.ts`).
 * A key is shown once, in the answer that creates it, with the access key id
 * it signs AWS SigV4 requests under (the key is the secret access key).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { assertAdmin, sha256Hex } from '../auth.ts';
import { HearthError, badRequest, notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { DNS_LABEL, UUID } from '../ids.ts';
import { createFunctionService } from '../functions/function-service.ts';
import { createCredentialSealer } from '../lambda/credential-seal.ts';
import { accessKeyIdOf } from '../lambda/lambda-credentials.ts';
import { readJsonBody } from '../read-json-body.ts';
import { QUOTA_RANGES, type NamespaceQuotas } from '../store/namespace-quotas.ts';
import type { NamespaceChanges } from '../store/tenants-store.ts';
import { pageOf, pageRequest } from './list-paging.ts';

/** The fields `PATCH /v1/namespaces/{ns}` takes. */
const PATCH_FIELDS = ['concurrencyQuota', 'provisionedMemoryMb', 'maxFunctions', 'maxVersions', 'maxCodeBytes', 'maxUploadBytes'] as const;

/** A storage or count quota (`namespace-quotas.ts`), or null for the gateway's default. */
function parseStorageQuota(field: keyof NamespaceQuotas, value: unknown): number | null {
  if (value === null) return null;
  const { min, max } = QUOTA_RANGES[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badRequest('InvalidParameter', `${field} must be an integer from ${min} to ${max}, or null (the default)`);
  }
  return value;
}

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
      if (!created) throw new HearthError('NamespaceExists', `namespace "${name}" already exists`);
      // Gateways that looked for it a moment ago remember it as absent.
      await deps.announce({ type: 'namespace-changed', namespace: name });
      return c.json(created, 201);
    })
    .get('/v1/namespaces', async (c) => {
      assertAdmin(c);
      const { size, store } = pageRequest(c, 'n', (name) => DNS_LABEL.test(name));
      const page = pageOf(await deps.tenants.listNamespaces(store), size, 'n', (n) => n.name);
      return c.json({ namespaces: page.items, nextCursor: page.nextCursor });
    })
    .patch('/v1/namespaces/:ns', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      const body = await readJsonBody(c, 16 * 1024);
      // A JSON string or number is valid JSON too; only an object can hold the field.
      if (!isObject(body) || !PATCH_FIELDS.some((f) => Object.hasOwn(body, f))) {
        throw badRequest('InvalidParameter', `body must be an object with one or more of ${PATCH_FIELDS.join(', ')} (each N or null)`);
      }
      const unknown = Object.keys(body).filter((k) => !(PATCH_FIELDS as readonly string[]).includes(k));
      if (unknown.length > 0) throw badRequest('InvalidParameter', `unknown field(s): ${unknown.slice(0, 5).join(', ').slice(0, 200)}; expected ${PATCH_FIELDS.join(', ')}`);
      const changes: NamespaceChanges = {
        ...(Object.hasOwn(body, 'concurrencyQuota') ? { concurrencyQuota: parseQuota(body.concurrencyQuota) } : {}),
        ...(Object.hasOwn(body, 'provisionedMemoryMb') ? { provisionedMemoryMb: parseProvisionedMemory(body.provisionedMemoryMb) } : {}),
      };
      for (const field of ['maxFunctions', 'maxVersions', 'maxCodeBytes', 'maxUploadBytes'] as const) {
        if (Object.hasOwn(body, field)) changes[field] = parseStorageQuota(field, body[field]);
      }
      const updated = await deps.tenants.updateNamespace(ns, changes);
      if (!updated) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      await deps.announce({ type: 'namespace-changed', namespace: ns });
      return c.json(updated);
    })
    .delete('/v1/namespaces/:ns', async (c) => {
      assertAdmin(c);
      const ns = namespaceParam(c.req.param('ns'));
      if (ns === 'default') throw badRequest('InvalidParameter', 'the default namespace cannot be deleted');
      const force = c.req.query('force');
      if (force !== undefined && force !== 'true' && force !== 'false') throw badRequest('InvalidParameter', 'force must be true or false');
      // Without force, a namespace is never emptied by surprise: its functions are deleted one by one first.
      if (force === 'true') await emptyNamespace(deps, ns);
      const deletion = await deps.tenants.deleteNamespace(ns);
      if (deletion.result === 'not-found') throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      if (deletion.result === 'has-functions') {
        throw new HearthError('NamespaceNotEmpty', `namespace "${ns}" still holds ${deletion.functions} function(s); delete them first`, {
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
      const { size, store } = pageRequest(c, 'k', (id) => UUID.test(id));
      if (!(await deps.tenants.getNamespace(ns))) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      const page = pageOf(await deps.tenants.listKeys(ns, store), size, 'k', (k) => k.id);
      return c.json({ keys: page.items, nextCursor: page.nextCursor });
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

/**
 * What `?force=true` does before the namespace row goes: its keys are
 * revoked first (so its tenant can no longer deploy into it or call it),
 * then each function is deleted the way `DELETE /v1/functions/{name}` does
 * (queued calls end as `FunctionDeleted`, workers drop its containers, its
 * code is collected). Its invocation records and rollups are then deleted
 * with the row (`TenantsStore.deleteNamespace`), not kept until retention:
 * they are keyed by the namespace's name, and a namespace made later under
 * the same name must not see the old tenant's history.
 */
async function emptyNamespace(deps: GatewayDeps, ns: string): Promise<void> {
  if (!(await deps.tenants.getNamespace(ns))) return;
  for (const keyHash of await deps.tenants.revokeAllKeys(ns)) await deps.announce({ type: 'key-revoked', keyHash });
  const service = createFunctionService(deps);
  let removed = 0;
  // A page at a time; an admin deploying into it meanwhile is caught by the store's has-functions check (409).
  for (;;) {
    const page = await deps.functions.list(ns, { limit: 100 });
    let progress = false;
    for (const fn of page) {
      // Tombstone, rows, announcement: as `DELETE /v1/functions/{name}`.
      if (!(await service.delete({ namespace: ns, name: fn.name }))) continue;
      removed++;
      progress = true;
    }
    if (!progress) break;
  }
  deps.log.info('namespace emptied for deletion', { namespace: ns, functions: removed });
}
