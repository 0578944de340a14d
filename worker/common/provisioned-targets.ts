/**
 * Which function versions want containers kept initialised, and how many:
 * one SQL text shared by the worker (which keeps them) and the gateway
 * (which admits them under the namespace's provisioned-memory quota), so
 * the two can never disagree.
 *
 * A version is provisioned while an alias points at it, as its primary or
 * its weighted version: with the alias's `min_warm` when the alias sets
 * one, else the version's own `minWarm`. Over several aliases the largest
 * wins. So `latest` (which sets none) keeps the old rule, "the latest
 * version's minWarm", and a canary's containers are there before its
 * alias sends it traffic.
 */

/** The rows of `provisionedTargetsSql`, as Postgres returns them. */
export interface ProvisionedTargetRow {
  function_id: string;
  namespace: string;
  function_name: string;
  version: number;
  runtime: string;
  handler: string;
  memory_mb: number;
  timeout_ms: number;
  /** As stored: sealed (`stored-env.ts`). */
  env: unknown;
  secrets: string[];
  secret_env: Record<string, string>;
  code_sha256: string;
  keep_alive_ms: number | null;
  network: string;
  min_warm: number;
}

/** Every provisioned version (`where` filters on `f.` functions or `v.` versions, e.g. `f.namespace = $1`). */
export function provisionedTargetsSql(where = 'true'): string {
  return `select f.id as function_id, f.namespace, f.name as function_name, v.version, v.runtime, v.handler,
       v.memory_mb, v.timeout_ms, v.env, v.secrets, v.secret_env, v.code_sha256, v.keep_alive_ms, v.network,
       max(coalesce(t.min_warm, v.min_warm))::int as min_warm
from (select function_id, version, min_warm from function_aliases
      union all
      select function_id, weighted_version, min_warm from function_aliases where weighted_version is not null) t
join function_versions v on v.function_id = t.function_id and v.version = t.version
join functions f on f.id = t.function_id
where ${where}
group by f.id, v.function_id, v.version
having max(coalesce(t.min_warm, v.min_warm)) > 0`;
}
