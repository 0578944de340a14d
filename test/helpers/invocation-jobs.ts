/** A well-formed invocation job for tests that queue or decide on one without a gateway. */
import { randomUUID } from 'node:crypto';
import type { InvocationJob } from '../../worker/contract/invocation-job.ts';

/** An async call of a 128 MB Node function with no limits, queued now; `overrides` win. */
export function jobOf(overrides: Partial<InvocationJob> = {}): InvocationJob {
  return {
    invocationId: randomUUID(),
    namespace: 'default',
    functionId: randomUUID(),
    functionName: 'f',
    version: 1,
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 1000,
    env: {},
    network: 'none',
    keepAliveMs: null,
    maxConcurrency: null,
    namespaceQuota: null,
    codeSha256: '0'.repeat(64),
    alias: null,
    mode: 'async',
    event: '{}',
    enqueuedAt: Date.now(),
    replyTo: null,
    ...overrides,
  };
}
