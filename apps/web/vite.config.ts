import { defineConfig } from 'vite';
import { ISOLATION_HEADERS, lenetWeb } from './server/plugin.js';
import { ORT_WEB_ENTRY } from './server/paths.js';

export default defineConfig({
  plugins: [lenetWeb()],
  resolve: {
    // One onnxruntime-web instance for the app and @lenet/backend-onnxruntime (see tsconfig.json).
    alias: { 'onnxruntime-web': ORT_WEB_ENTRY },
  },
  optimizeDeps: {
    // onnxruntime-web finds its .wasm next to its own file (import.meta.url): not pre-bundled.
    exclude: ['onnxruntime-web'],
    // TF.js ships CommonJS pieces (the wasm glue): pre-bundle them up front, so dev mode does not
    // discover them at the first session and reload the page in the middle of a run.
    include: [
      '@lenet/backend-tfjs > @tensorflow/tfjs-core',
      '@lenet/backend-tfjs > @tensorflow/tfjs-backend-cpu',
      '@lenet/backend-tfjs > @tensorflow/tfjs-backend-wasm',
    ],
  },
  worker: { format: 'es' },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // cold-start.html: the fresh document of one cold-start sample (src/cold-start.ts).
      input: { main: 'index.html', coldStart: 'cold-start.html' },
      output: {
        // onnxruntime-web's threaded wasm starts its pthread workers from its own module URL
        // (import.meta.url): in a chunk of its own they load ORT alone, not the page.
        manualChunks: (id) => (id.includes('onnxruntime-web') ? 'onnxruntime-web' : undefined),
      },
    },
  },
});
