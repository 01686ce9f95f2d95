import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Network tests bind real sockets; two workers match the 2-core CI machine.
    maxWorkers: 2,
  },
});
