/**
 * Every gateway's consumer of the `deliveries` queue (`worker/contract/delivery-job.ts`).
 * For each job: check it with the contract's schema, find where it goes (the
 * function's destination for its condition, read and unsealed now, or the
 * call's own callback URL), open its row in `deliveries` and, while that row
 * is still `pending`, try it once (`destination-sender.ts`). A try worth
 * repeating throws, and BullMQ retries with the backoff the worker gave the
 * job; the last failure, or one no retry can mend, marks the row `failed`.
 *
 * Exactly once per invocation and condition: the job id is derived from
 * them while queued, the row's id afterwards (a re-run of the call, or a
 * second gateway, finds the row settled and sends nothing), and a function
 * destination's child call has an id derived from them too.
 */
import { createHash } from 'node:crypto';
import type { JobConsumers } from '../../worker/common/redis/job-queues.ts';
import { UnrunnableJob } from '../../worker/common/redis/job-queues.ts';
import type { Logger } from '../../worker/common/logger.ts';
import { DELIVERY_QUEUE_NAME, deliveryJobSchema, type DeliveryCondition, type DeliveryJob } from '../../worker/contract/delivery-job.ts';
import type { CredentialSealer } from '../lambda/credential-seal.ts';
import { openDestination, readStored, targetText, type Destination } from './destination-config.ts';
import { tryDelivery, type SenderDeps } from './destination-sender.ts';
import type { DeliveryStore, DestinationConfigStore } from './destinations-store.ts';

export interface DeliveryConsumerOptions extends SenderDeps {
  consumers: JobConsumers;
  config: DestinationConfigStore;
  deliveries: DeliveryStore;
  sealer: CredentialSealer;
  /** The namespace's secret that signs callbacks and webhooks without one of their own. */
  callbackSecret(namespace: string): string;
  log: Logger;
  /** Deliveries this gateway tries at once (default 16). */
  concurrency?: number;
}

/** A delivery row's id: a UUID-shaped digest of the invocation and the condition. */
export function deliveryRowId(invocationId: string, condition: DeliveryCondition): string {
  const hex = createHash('sha256').update(`hearth-delivery\0${invocationId}\0${condition}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

type Resolved = { destination: Destination; secret: string } | { failed: string; type: string; target: string } | null;

export function startDeliveryConsumer(options: DeliveryConsumerOptions): { close(): Promise<void> } {
  const { deliveries, log } = options;

  /** Where `job` goes now: null when its function no longer has a destination for the condition (nothing to deliver). */
  const resolve = async (job: DeliveryJob): Promise<Resolved> => {
    const secret = options.callbackSecret(job.namespace);
    if (job.condition === 'callback') {
      if (!job.callbackUrl) return { failed: 'the job names no callback URL', type: 'webhook', target: 'callback:(none)' };
      return { destination: { type: 'webhook', url: job.callbackUrl }, secret };
    }
    const fn = await options.config.byId(job.functionId);
    if (!fn || fn.namespace !== job.namespace) return null;
    const stored = readStored(fn.stored)?.[job.condition];
    if (!stored) return null;
    const at = { functionId: job.functionId, namespace: job.namespace, condition: job.condition };
    const destination = openDestination(options.sealer, at, stored);
    if (!destination) {
      return { failed: 'its sealed secret no longer opens (the admin key changed): set the destination again', type: stored.type, target: `${stored.type}:${'url' in stored ? stored.url : stored.name}` };
    }
    return { destination, secret: destination.type === 'webhook' && destination.secret ? destination.secret : secret };
  };

  const process = async (job: DeliveryJob) => {
    const resolved = await resolve(job);
    if (!resolved) return;
    const id = deliveryRowId(job.invocationId, job.condition);
    const shown =
      'failed' in resolved
        ? { type: resolved.type, target: resolved.target }
        : { type: resolved.destination.type, target: job.condition === 'callback' ? `callback:${targetText(resolved.destination).slice('webhook:'.length)}` : targetText(resolved.destination) };
    const row = await deliveries.open({ id, namespace: job.namespace, functionId: job.functionId, invocationId: job.invocationId, condition: job.condition, ...shown });
    if (row.status !== 'pending') return;
    if ('failed' in resolved) {
      await deliveries.record(id, { status: 'failed', counted: false, lastError: resolved.failed });
      return;
    }
    const result = await tryDelivery(options, job, id, resolved.destination, resolved.secret);
    if (result.kind === 'delivered') {
      await deliveries.record(id, {
        status: 'delivered',
        counted: true,
        lastError: null,
        ...(result.lastStatus !== undefined ? { lastStatus: result.lastStatus } : {}),
        ...(result.childInvocationId !== undefined ? { childInvocationId: result.childInvocationId } : {}),
      });
      return;
    }
    const attempt = { counted: true, lastError: result.error, ...(result.lastStatus !== undefined ? { lastStatus: result.lastStatus } : {}) };
    if (result.kind === 'failed') {
      await deliveries.record(id, { status: 'failed', ...attempt });
      log.info('a delivery failed for good', { invocationId: job.invocationId, condition: job.condition, error: result.error });
      return;
    }
    await deliveries.record(id, { status: 'pending', ...attempt });
    throw new Error(result.error);
  };

  const consumer = options.consumers.consume({
    queue: DELIVERY_QUEUE_NAME,
    concurrency: options.concurrency ?? 16,
    // A try takes at most the sender's 10 s (plus DNS and the row writes): a dead gateway's delivery is retried by another.
    lockMs: 30_000,
    stalledCheckMs: 15_000,
    maxStalls: 2,
    async process(consumed) {
      const parsed = deliveryJobSchema.safeParse(consumed.data);
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`);
        log.error('a queued delivery is not a valid delivery job: not sent', { jobId: consumed.id, issues });
        throw new UnrunnableJob(`not a valid delivery job (${issues.join('; ')})`);
      }
      await process(parsed.data);
      return null;
    },
    onFailed(consumed, reason, final) {
      if (!final) return;
      const parsed = deliveryJobSchema.safeParse(consumed.data);
      if (!parsed.success) return;
      const { invocationId, condition } = parsed.data;
      deliveries
        .record(deliveryRowId(invocationId, condition), { status: 'failed', counted: false, lastError: reason })
        .catch((err: unknown) => log.warn('could not mark a delivery failed', { invocationId, condition, err }));
    },
    onError: (err) => log.warn('delivery consumer error', { err }),
  });
  return { close: () => consumer.close() };
}
