import { defineConfig } from 'vitest/config';

// Separate from vite.config.ts: the tests start their own preview server from dist/.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } });
