// @lenet/bench is an application; its entry point is dist/cli.js (bin `lenet-bench`).
export { loadRegistry, getBackend, getUsableBackend, BACKEND_PACKAGES } from './registry.js';
