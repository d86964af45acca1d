import { defineConfig } from 'vite';
import { ISOLATION_HEADERS, lenetWeb } from './server/plugin.js';
import { ORT_WEB_ENTRY } from './server/paths.js';

export default defineConfig({
  plugins: [lenetWeb()],
  resolve: {
    // One onnxruntime-web instance for the app and @lenet/backend-onnxruntime (see tsconfig.json).
    alias: { 'onnxruntime-web': ORT_WEB_ENTRY },
  },
  // Pre-bundling would move the wasm glue away from its files; the binaries are served by the plugin.
  optimizeDeps: { exclude: ['onnxruntime-web', '@tensorflow/tfjs-backend-wasm'] },
  worker: { format: 'es' },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
