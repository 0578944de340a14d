/**
 * What an invocation's lookup shows of destinations: the chain of calls
 * that led to it (each one's destination called the next, up to
 * `MAX_CHAIN_DEPTH`, oldest first) and the deliveries of its own outcome.
 * Read within the invocation's namespace.
 */
import type { InvocationRow } from '../../worker/common/invocations-store.ts';
import { MAX_CHAIN_DEPTH } from '../../worker/contract/invocation-job.ts';
import type { RelatedInvocations } from '../invoke/invocation-view.ts';
import type { Destinations } from './destinations-port.ts';

export async function relatedOf(destinations: Destinations, row: InvocationRow): Promise<RelatedInvocations> {
  const [chain, rows] = await Promise.all([
    row.causedBy ? destinations.deliveries.chainFrom(row.namespace, row.causedBy, MAX_CHAIN_DEPTH) : Promise.resolve([]),
    destinations.deliveries.forInvocation(row.namespace, row.id),
  ]);
  return {
    chain,
    deliveries: rows.map((d) => ({
      condition: d.condition,
      type: d.type,
      target: d.target,
      status: d.status,
      attempts: d.attempts,
      lastStatus: d.lastStatus,
      lastError: d.lastError,
      childInvocationId: d.childInvocationId,
      createdAt: d.createdAt.toISOString(),
      updatedAt: d.updatedAt.toISOString(),
    })),
  };
}
