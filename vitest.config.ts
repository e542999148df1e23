import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['ts/tests/**/*.test.ts'],
    // Each file in its own process: one wasm build is loaded per process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The machine has 2 cores and the tests start thread pools and a browser: run files one by one.
    fileParallelism: false,
  },
});
