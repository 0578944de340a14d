import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration files share one Docker engine and two cores; running them
    // one at a time keeps timings and container counts predictable.
    fileParallelism: false,
    // Every file deploys into the run's one database, most into `default`:
    // the namespace quotas' defaults would be reached by the suite itself.
    // test/e2e/quotas.test.ts sets its own limits per namespace.
    env: { HEARTH_MAX_FUNCTIONS: '100000', HEARTH_MAX_CODE_BYTES: String(1024 ** 4) },
    reporters: ['default'],
  },
});
