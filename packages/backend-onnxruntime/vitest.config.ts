import { defineConfig } from 'vitest/config';

// As in backend-plain: the ort-web training tests take 5-11 s on a loaded 2-core machine
// (turbo runs other packages' tests, e.g. apps/bench's npm-install and bundler tests, at the same time).
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 } });
