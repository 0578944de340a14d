/** The worker's configuration, read once from the environment and validated. */
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseEnv } from './parse-env.ts';

const schema = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/hearth'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  HEARTH_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('hearth'),
  HEARTH_WORKER_ID: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'letters, digits, "_", "." or "-", at most 63')
    .default(hostname().replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 63) || 'worker'),
  HEARTH_STATE_DIR: z.string().min(1).default('/var/lib/hearth'),
  HEARTH_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  HEARTH_KEEP_ALIVE_MS: z.coerce.number().int().min(1000).default(5 * 60_000),
  HEARTH_START_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  DOCKER_HOST: z
    .string()
    .regex(/^unix:\/\//, 'only unix:// sockets are supported')
    .optional(),
});

export type WorkerConfig = z.infer<typeof schema>;

/** Parses `source` (usually `process.env`); throws one error listing every problem. */
export function loadWorkerConfig(source: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(schema, source, 'worker');
}
