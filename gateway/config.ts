/** The gateway's configuration, read once from the environment and validated. */
import { z } from 'zod';
import { CONNECTION_ENV, parseEnv } from '../worker/parse-env.ts';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  ...CONNECTION_ENV,
  HEARTH_API_KEY: z.string({ error: 'HEARTH_API_KEY is required (npm start generates one)' }).min(16, 'HEARTH_API_KEY must be at least 16 characters'),
  /** Manages namespaces and keys; when unset, HEARTH_API_KEY is the admin key too. */
  HEARTH_ADMIN_KEY: z.string().min(16, 'HEARTH_ADMIN_KEY must be at least 16 characters').optional(),
  /** Extra wait, beyond a function's own timeout, before a sync caller gets 503. */
  HEARTH_SYNC_GRACE_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How long a sync call to a function at its maxConcurrency may wait to start before 429. */
  HEARTH_THROTTLE_WAIT_MS: z.coerce.number().int().min(0).default(2000),
});

export type GatewayConfig = z.infer<typeof schema>;

/** Parses `source` (usually `process.env`); throws one error listing every problem. */
export function loadGatewayConfig(source: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(schema, source, 'gateway');
}
