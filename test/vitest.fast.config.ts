import { defineConfig } from 'vitest/config';

/**
 * `npm run test:fast`: the tests that need no service — pure units and
 * in-memory API tests — with no global set-up (no database, no images).
 */
export default defineConfig({
  test: {
    testTimeout: 10_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'api',
          include: ['test/api/**/*.test.ts'],
          // Every API test builds its gateway over fresh fakes (no module
          // state, no mocks, no timers), so its files may share one module
          // graph: isolated, each re-imported and re-compiled the whole
          // gateway, two thirds of test/api's time.
          isolate: false,
        },
      },
    ],
  },
});
