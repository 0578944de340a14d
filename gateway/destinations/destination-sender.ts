/**
 * One try of one delivery, by destination type, and what became of it:
 * delivered, worth another try (BullMQ backs off and retries), or failed for
 * good (another try would do the same). A function destination is an async
 * call of that function with the record as its event, one step deeper in
 * its chain; past `MAX_CHAIN_DEPTH` it is not made (Lambda's recursive loop
 * detection). Webhooks and brokers pass the outbound guard again here,
 * after DNS, and connect to the address it checked.
 */
import { MAX_CHAIN_DEPTH } from '../../worker/contract/invocation-job.ts';
import type { DeliveryJob } from '../../worker/contract/delivery-job.ts';
import { HearthError } from '../errors.ts';
import type { AsyncCall, CallTarget, ChosenVersion } from '../invoke/dispatcher.ts';
import { publishToBroker, type BrokerPublishers } from './broker-destination.ts';
import type { Destination } from './destination-config.ts';
import type { OutboundVerdict } from './outbound-guard.ts';
import { signatureHeader } from './webhook-signature.ts';
import { postWebhook } from './webhook-sender.ts';

export type TryResult =
  | { kind: 'delivered'; lastStatus?: number; childInvocationId?: string }
  | { kind: 'retry'; error: string; lastStatus?: number | null }
  | { kind: 'failed'; error: string; lastStatus?: number | null };

export interface SenderDeps {
  dispatcher: {
    dispatchAsync(target: CallTarget, eventJson: string, idempotencyKey?: string, chosen?: ChosenVersion, call?: AsyncCall): Promise<{ invocationId: string }>;
  };
  checkOutbound(url: URL): Promise<OutboundVerdict>;
  publishers: BrokerPublishers;
  /** Per try, for webhooks and brokers (default 10 s). */
  timeoutMs?: number;
}

/** Codes of a function destination that will not come to exist by trying again. */
const GONE = new Set(['FunctionNotFound', 'AliasNotFound', 'VersionNotFound', 'InvalidName']);

/** The text a chain stopped at its depth limit records, as Lambda's recursion detection would. */
export const CHAIN_STOPPED = `recursive chain stopped at depth ${MAX_CHAIN_DEPTH}`;

/**
 * Tries `destination` once for `job` (its `record` sent as JSON);
 * `deliveryId` names the delivery to a receiver, and `secret` signs a webhook.
 */
export async function tryDelivery(deps: SenderDeps, job: DeliveryJob, deliveryId: string, destination: Destination, secret: string): Promise<TryResult> {
  const body = JSON.stringify(job.record);
  const timeoutMs = deps.timeoutMs ?? 10_000;
  if (destination.type === 'function') {
    if (job.depth + 1 > MAX_CHAIN_DEPTH) return { kind: 'failed', error: CHAIN_STOPPED };
    const target = { namespace: job.namespace, name: destination.name, ...(destination.alias ? { alias: destination.alias } : {}) };
    try {
      // The key makes the child call's id a function of this delivery: a retry, or a second gateway, queues nothing new.
      const { invocationId } = await deps.dispatcher.dispatchAsync(target, body, `destination:${job.invocationId}:${job.condition}`, undefined, {
        causedBy: job.invocationId,
        depth: job.depth + 1,
      });
      return { kind: 'delivered', childInvocationId: invocationId };
    } catch (err) {
      if (err instanceof HearthError && GONE.has(err.code)) return { kind: 'failed', error: `${err.code}: ${err.message}` };
      return { kind: 'retry', error: err instanceof HearthError ? `${err.code}: ${err.message}` : `could not queue the call: ${String(err)}` };
    }
  }

  const url = new URL(destination.url);
  const verdict = await deps.checkOutbound(url);
  if (!verdict.ok) return { kind: verdict.transient ? 'retry' : 'failed', error: `refused: ${verdict.reason}` };

  if (destination.type === 'webhook') {
    const answer = await postWebhook({
      url,
      allowed: verdict,
      body,
      timeoutMs,
      headers: {
        'User-Agent': 'Hearth-Destinations/1',
        'X-Hearth-Signature': signatureHeader(secret, body),
        'X-Hearth-Invocation-Id': job.invocationId,
        'X-Hearth-Delivery-Id': deliveryId,
        'X-Hearth-Condition': job.condition,
        // OpenFaaS's callback headers, for receivers written against it.
        'X-Call-Id': job.invocationId,
        'X-Function-Name': job.functionName,
        'X-Function-Status': String(job.record.responseContext.statusCode),
      },
    });
    if (answer.delivered) return { kind: 'delivered', lastStatus: answer.status! };
    return { kind: 'retry', error: answer.error ?? 'not delivered', lastStatus: answer.status };
  }

  try {
    await publishToBroker(
      deps.publishers,
      destination,
      verdict,
      {
        body: Buffer.from(body),
        headers: { 'content-type': 'application/json', 'hearth-invocation-id': job.invocationId, 'hearth-condition': job.condition, 'hearth-delivery-id': deliveryId },
      },
      timeoutMs,
    );
    return { kind: 'delivered' };
  } catch (err) {
    return { kind: 'retry', error: err instanceof Error ? err.message : String(err) };
  }
}
