/**
 * Namespaces and their keys, for the admin key only:
 * `POST/GET /v1/namespaces`, `PATCH /v1/namespaces/{ns}` (quotas: concurrency, provisioned memory,
 * functions, versions per function, stored code bytes, upload bytes),
 * `DELETE /v1/namespaces/{ns}` (only once it holds no functions, unless `?force=true`),
 * `POST/GET /v1/namespaces/{ns}/keys`, `DELETE /v1/namespaces/{ns}/keys/{id}`.
 * Lists are paged (`?limit=&cursor=`, `list-paging.ts`). Inputs are checked by their
 * operations (`api/tenants-api.ts`).
 * A key is shown once, in the answer that creates it, with the access key id
 * it signs AWS SigV4 requests under (the key is the secret access key).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { createKey, createNamespace, deleteNamespace, listKeys, listNamespaces, revokeKey, updateNamespace } from '../api/tenants-api.ts';
import { validated } from '../api/validated.ts';
import { sha256Hex } from '../auth.ts';
import { HearthError, badRequest, notFound } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../gateway-deps.ts';
import { createFunctionService, type FunctionService } from '../functions/function-service.ts';
import { createCredentialSealer } from '../lambda/credential-seal.ts';
import { accessKeyIdOf } from '../lambda/lambda-credentials.ts';
import { pageOf, pageRequest } from './list-paging.ts';

export function manageTenantsRoute(deps: GatewayDeps) {
  const service = createFunctionService(deps);
  const sealer = createCredentialSealer(deps.auth);
  // Every operation here is `access: 'admin'`: `validated` refuses other keys before reading any input.
  return new Hono<GatewayEnv>()
    .post(createNamespace.honoPath, validated(createNamespace), async (c) => {
      const { name, concurrencyQuota } = c.req.valid('json');
      const created = await deps.tenants.createNamespace(name, concurrencyQuota ?? null);
      if (!created) throw new HearthError('NamespaceExists', `namespace "${name}" already exists`);
      // Gateways that looked for it a moment ago remember it as absent.
      await deps.announce({ type: 'namespace-changed', namespace: name });
      return c.json(created, 201);
    })
    .get(listNamespaces.honoPath, validated(listNamespaces), async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const page = pageOf(await deps.tenants.listNamespaces(pageRequest(limit, cursor)), limit, 'n', (n) => n.name);
      return c.json({ namespaces: page.items, nextCursor: page.nextCursor });
    })
    .patch(updateNamespace.honoPath, validated(updateNamespace), async (c) => {
      const { ns } = c.req.valid('param');
      const updated = await deps.tenants.updateNamespace(ns, c.req.valid('json'));
      if (!updated) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      await deps.announce({ type: 'namespace-changed', namespace: ns });
      return c.json(updated);
    })
    .delete(deleteNamespace.honoPath, validated(deleteNamespace), async (c) => {
      const { ns } = c.req.valid('param');
      if (ns === 'default') throw badRequest('InvalidParameter', 'the default namespace cannot be deleted');
      // Without force, a namespace is never emptied by surprise: its functions are deleted one by one first.
      if (c.req.valid('query').force) await emptyNamespace(deps, service, ns);
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
    .post(createKey.honoPath, validated(createKey), async (c) => {
      const { ns } = c.req.valid('param');
      const { name } = c.req.valid('json');
      if (!(await deps.tenants.getNamespace(ns))) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      const key = `hk_${randomBytes(24).toString('base64url')}`;
      const id = randomUUID();
      const view = await deps.tenants.createKey(ns, name, sha256Hex(key), key.slice(0, 10), { id, sealedSecret: sealer.seal(id, ns, key) });
      return c.json({ ...view, key, lambdaAccessKeyId: accessKeyIdOf(view.id) }, 201);
    })
    .get(listKeys.honoPath, validated(listKeys), async (c) => {
      const { ns } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      if (!(await deps.tenants.getNamespace(ns))) throw notFound('NamespaceNotFound', `namespace "${ns}" does not exist`);
      const page = pageOf(await deps.tenants.listKeys(ns, pageRequest(limit, cursor)), limit, 'k', (k) => k.id);
      return c.json({ keys: page.items, nextCursor: page.nextCursor });
    })
    .delete(revokeKey.honoPath, validated(revokeKey), async (c) => {
      const { ns, id } = c.req.valid('param');
      const keyHash = await deps.tenants.revokeKey(ns, id);
      if (!keyHash) throw notFound('KeyNotFound', `namespace "${ns}" has no live key "${id}"`);
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
async function emptyNamespace(deps: GatewayDeps, service: FunctionService, ns: string): Promise<void> {
  if (!(await deps.tenants.getNamespace(ns))) return;
  for (const keyHash of await deps.tenants.revokeAllKeys(ns)) await deps.announce({ type: 'key-revoked', keyHash });
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
