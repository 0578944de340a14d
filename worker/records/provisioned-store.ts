/** Reads which function versions want containers kept initialised (`minWarm`). */
import type { Database } from '../common/database.ts';
import { provisionedTargetsSql, type ProvisionedTargetRow } from '../common/provisioned-targets.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import type { ProvisionedVersion } from '../pool/sandbox-pool.ts';
import { openStoredEnv } from '../common/stored-env.ts';
import { secretRefsOf } from '../contract/function-version.ts';

/** Versions an alias points at that want `minWarm > 0` (`provisioned-targets.ts` has the rule). */
export async function listProvisionedVersions(db: Database): Promise<ProvisionedVersion[]> {
  const { rows } = await db.$client.query<ProvisionedTargetRow>({ name: 'hearth-provisioned-targets', text: provisionedTargetsSql() });
  return rows.map((r) => ({
    fn: {
      functionId: r.function_id,
      namespace: r.namespace,
      functionName: r.function_name,
      version: r.version,
      runtime: r.runtime as RuntimeName,
      handler: r.handler,
      memoryMb: r.memory_mb,
      timeoutMs: r.timeout_ms,
      env: openStoredEnv(r.env),
      network: r.network as 'none' | 'egress',
      ...(r.secrets.length > 0 ? { secrets: secretRefsOf(r.secrets, r.secret_env) } : {}),
    },
    codeSha256: r.code_sha256,
    minWarm: r.min_warm,
    keepAliveMs: r.keep_alive_ms,
  }));
}
