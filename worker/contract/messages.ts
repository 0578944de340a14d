/**
 * The two kinds of message that travel beside the queue, over Redis pub/sub:
 * replies (a worker to the gateway waiting on a sync call) and control
 * broadcasts (a gateway to every worker and gateway). Both are checked with
 * these schemas where they are read: a message that does not parse is dropped.
 */
import { z } from 'zod';
import { invocationOutcomeSchema } from './invocation-outcome.ts';

export const replySchema = z.discriminatedUnion('type', [
  /** A call that had to wait for a concurrency slot has begun. */
  z.object({ type: z.literal('started'), id: z.string() }),
  z.object({ type: z.literal('outcome'), id: z.string(), outcome: invocationOutcomeSchema }),
]);

export type Reply = z.infer<typeof replySchema>;

export const controlMessageSchema = z.discriminatedUnion('type', [
  /** A deploy or rollback (what `latest` is, and what is provisioned, may have changed), or a deletion. */
  z.object({
    type: z.enum(['function-changed', 'function-deleted']),
    namespace: z.string(),
    name: z.string(),
    functionId: z.string().optional(),
    /**
     * A deploy's new code (its content address) and runtime: a worker serving
     * that runtime may unpack it before the first call asks for it.
     */
    code: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), runtime: z.string().max(64) }).optional(),
  }),
  /** A key was revoked: gateways forget it at once. */
  z.object({ type: z.literal('key-revoked'), keyHash: z.string() }),
  /** A namespace's settings (its quota) changed. */
  z.object({ type: z.literal('namespace-changed'), namespace: z.string() }),
  /** A secret's value was set (`version`, from 1) or the secret deleted (`version` 0): workers stop reusing sandboxes started with another. */
  z.object({ type: z.literal('secret-changed'), namespace: z.string(), name: z.string(), version: z.number().int().min(0) }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
