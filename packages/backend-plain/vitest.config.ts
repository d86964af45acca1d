import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Files run in parallel forks; the machine has few cores and the backend tests spawn workers.
    maxWorkers: 2,
  },
});
