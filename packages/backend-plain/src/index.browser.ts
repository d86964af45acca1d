/**
 * @lenet/backend-plain, browser entry (the package's "browser" export condition): the same API
 * with no Node built-in. Inside a Web Worker of a cross-origin-isolated page, sessions are
 * data-parallel over nested Web Workers (platform-web.ts; threads defaults to
 * navigator.hardwareConcurrency); elsewhere (the main thread, no SharedArrayBuffer) they run on
 * one thread and threads > 1 is an error that says why. The WebAssembly SIMD kernels are
 * inlined, so bundlers need no asset configuration; the worker script is referenced with
 * `new Worker(new URL('./worker.browser.js', import.meta.url))`, which Vite and webpack bundle.
 */
import './platform-web.js';
export * from './api.js';
