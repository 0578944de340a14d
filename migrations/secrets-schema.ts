/**
 * The namespaces' secrets, a file of its own beside `schema.ts` (both are
 * in `drizzle.config.ts`). The versions that reference them keep the names
 * in `function_versions.secrets` and `secret_env`.
 */
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { namespaces } from './schema.ts';

/**
 * A namespace's secrets: the value only sealed (`worker/common/secret-sealing.ts`,
 * context `secret:<namespace>/<name>`), never in plain text. `version` counts
 * every write of the value; the worker reads the row when it starts a
 * sandbox and polls `updated_at` for changes it may have missed.
 */
export const secrets = pgTable(
  'secrets',
  {
    namespace: text('namespace')
      .notNull()
      .references(() => namespaces.name, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    version: integer('version').notNull().default(1),
    valueSealed: text('value_sealed').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.name] }), index('secrets_updated_at_idx').on(t.updatedAt)],
);
