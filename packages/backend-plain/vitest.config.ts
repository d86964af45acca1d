import { defineConfig } from 'vitest/config';

// Node 20 has WebAssembly relaxed SIMD only behind a V8 flag (on by default since Node 21);
// passing it lets the relaxed-SIMD kernel tier be tested on Node 20 too. Newer Nodes need nothing.
const nodeMajor = Number(process.versions.node.split('.')[0]);
const execArgv = nodeMajor < 21 ? ['--experimental-wasm-relaxed-simd'] : [];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Files run in parallel forks; the machine has few cores and the backend tests spawn workers.
    maxWorkers: 2,
    poolOptions: { forks: { execArgv } },
  },
});
