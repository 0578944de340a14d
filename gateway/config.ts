/** The gateway's configuration, read once from the environment and validated. */
import { z } from 'zod';
import { parseEnv } from '../worker/parse-env.ts';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/hearth'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Redis Sentinel: `host:port,…` and the master's name (then REDIS_URL gives only password and db). */
  HEARTH_REDIS_SENTINELS: z.string().optional(),
  HEARTH_REDIS_SENTINEL_NAME: z.string().optional(),
  HEARTH_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('hearth'),
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
