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
    reporters: ['default'],
  },
});
