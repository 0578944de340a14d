import { defineConfig } from 'vitest/config';

/**
 * `npm run test:fast`: the tests that need no service — pure units and
 * in-memory API tests — with no global set-up (no database, no images).
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/api/**/*.test.ts'],
    testTimeout: 10_000,
    reporters: ['default'],
  },
});
