/**
 * A function version as everything downstream of the gateway sees it: what a
 * job carries, what a sandbox is bound to, what pools are keyed by. The
 * gateway builds it from the metadata once; a worker never reads metadata.
 */
import { z } from 'zod';
import { RUNTIME_NAMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { MEMORY_MB } from './limits.ts';

/** Postgres int4: the widest integer a version or limit column holds. */
const INT4_MAX = 2_147_483_647;

export const functionVersionSchema = z.object({
  functionId: z.string().min(1).max(64),
  namespace: z.string().min(1).max(64),
  functionName: z.string().min(1).max(64),
  version: z.number().int().min(1).max(INT4_MAX),
  runtime: z.enum(RUNTIME_NAMES as [RuntimeName, ...RuntimeName[]]),
  handler: z.string().min(1).max(256),
  memoryMb: z.number().int().min(MEMORY_MB.min).max(MEMORY_MB.max),
  timeoutMs: z.number().int().min(1).max(INT4_MAX),
  env: z.record(z.string(), z.string()),
  /** `none`: no network at all; `egress`: internet only, never the host or private ranges. */
  network: z.enum(['none', 'egress']),
});

/** The function version a job runs and a sandbox is bound to. */
export type FunctionVersion = z.infer<typeof functionVersionSchema>;

/**
 * Pool key of a sandbox assigned to a function version: only calls to that
 * version share it. Reports list warm containers by it, and routing matches on it.
 */
export function sandboxKey(fn: { functionId: string; version: number }): string {
  return `${fn.functionId}@${fn.version}`;
}

/** Pool key of a pre-warmed sandbox: its runtime and memory class. */
export function prewarmKey(runtime: RuntimeName, memoryMb: number): string {
  return `prewarm:${runtime}:${memoryMb}`;
}
