/** What a worker thread is started with (shared by session.ts and the Node worker). */
import type { SgdMomentum } from '@lenet/core';
import type { ModelSpec } from '@lenet/model';
import type { IoBuffers } from './runner.js';

export interface WorkerInit {
  spec: ModelSpec;
  module: WebAssembly.Module | null;
  control: SharedArrayBuffer;
  params: SharedArrayBuffer;
  io: IoBuffers;
  index: number;
  threads: number;
  /** The session's optimizer when it is not plain SGD, and its shared float64 velocity (one per parameter). */
  optimizer?: { sgd: SgdMomentum; velocity: SharedArrayBuffer };
}
