/** Validating a deployable's environment once, reporting every problem together. */
import { z } from 'zod';

/** Where Postgres and Redis are, the same for the gateway and the worker. */
export const CONNECTION_ENV = {
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/hearth'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Redis Sentinel: `host:port,…` and the master's name (then REDIS_URL gives only password and db). */
  HEARTH_REDIS_SENTINELS: z.string().optional(),
  HEARTH_REDIS_SENTINEL_NAME: z.string().optional(),
  HEARTH_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('hearth'),
};

export function parseEnv<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>, what: string): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid ${what} configuration:\n${problems}`);
  }
  return parsed.data;
}
