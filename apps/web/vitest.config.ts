import { defineConfig } from 'vitest/config';

// Node 20 has WebAssembly relaxed SIMD only behind a V8 flag (on by default since Node 21). The
// tests compare Node's plain weights bit for bit with the page's, and Chromium runs plain's
// relaxed-SIMD tier: the Node side must run the same tier.
const nodeMajor = Number(process.versions.node.split('.')[0]);
const execArgv = nodeMajor < 21 ? ['--experimental-wasm-relaxed-simd'] : [];

// Separate from vite.config.ts: the tests start their own preview server from dist/.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000, poolOptions: { forks: { execArgv } } } });
