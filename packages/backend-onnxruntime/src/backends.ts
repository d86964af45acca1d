/**
 * The two backends: ort-node (native, Node.js only) and ort-web (WebAssembly). Their runtimes
 * are optional peer dependencies, imported on first use; see README "What to install".
 */
import type { Backend } from '@lenet/core';
import { ortNodeBackend } from './ort-node.js';
import { ortWebBackend } from './ort-web.js';

export { ortNodeBackend, ortWebBackend };
export const backends: Backend[] = [ortNodeBackend, ortWebBackend];
