/**
 * @lenet/backend-plain, browser entry (the package's "browser" export condition): the same API
 * with no Node built-in; sessions run on one thread (threads defaults to 1, threads > 1 is an
 * error). The WebAssembly SIMD kernels are inlined, so bundlers need no asset configuration.
 */
export * from './api.js';
