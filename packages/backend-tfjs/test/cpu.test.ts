// tfjs-cpu: core conformance, no tensor leaks, multi-channel layouts (small batches: slow backend).
import { tfjsCpuBackend } from '../src/index.js';
import { backendSuite } from './backend-suite.js';

backendSuite(tfjsCpuBackend, { leakBatch: 1 });
