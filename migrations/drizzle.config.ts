import { defineConfig } from 'drizzle-kit';

/** `npm run db:generate` writes a new numbered migration from `schema.ts`. */
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./migrations/schema.ts', './migrations/secrets-schema.ts'],
  out: './migrations',
});
