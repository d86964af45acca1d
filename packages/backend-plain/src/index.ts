/**
 * @lenet/backend-plain, Node.js entry: the API of api.ts, with sessions data-parallel over
 * worker_threads (threads defaults to the hardware thread count).
 */
import './platform-node.js';
export * from './api.js';
