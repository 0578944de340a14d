/** Reads which function versions want containers kept initialised (`minWarm`). */
import { and, eq, gt } from 'drizzle-orm';
import type { Database } from '../common/database.ts';
import { functions, functionVersions } from '../../migrations/schema.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import type { ProvisionedVersion } from '../pool/sandbox-pool.ts';

/** Latest versions with `minWarm > 0`: provisioned concurrency follows `latest`. */
export async function listProvisionedVersions(db: Database): Promise<ProvisionedVersion[]> {
  const rows = await db
    .select({
      functionId: functions.id,
      namespace: functions.namespace,
      functionName: functions.name,
      version: functionVersions.version,
      runtime: functionVersions.runtime,
      handler: functionVersions.handler,
      memoryMb: functionVersions.memoryMb,
      timeoutMs: functionVersions.timeoutMs,
      env: functionVersions.env,
      codeSha256: functionVersions.codeSha256,
      minWarm: functionVersions.minWarm,
      keepAliveMs: functionVersions.keepAliveMs,
      network: functionVersions.network,
    })
    .from(functions)
    .innerJoin(
      functionVersions,
      and(eq(functionVersions.functionId, functions.id), eq(functionVersions.version, functions.latestVersion)),
    )
    .where(gt(functionVersions.minWarm, 0));
  return rows.map((r) => ({
    fn: {
      functionId: r.functionId,
      namespace: r.namespace,
      functionName: r.functionName,
      version: r.version,
      runtime: r.runtime as RuntimeName,
      handler: r.handler,
      memoryMb: r.memoryMb,
      timeoutMs: r.timeoutMs,
      env: r.env,
      network: r.network as 'none' | 'egress',
    },
    codeSha256: r.codeSha256,
    minWarm: r.minWarm,
    keepAliveMs: r.keepAliveMs,
  }));
}
