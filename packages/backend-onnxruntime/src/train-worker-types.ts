/**
 * What the ort-node data-parallel trainer (data-parallel.ts) shares with its worker threads
 * (train-worker.ts). Per worker, one SharedArrayBuffer holds a control block and the step's
 * data; a step is signalled with Atomics (no postMessage, no structured clone, no garbage):
 *
 *   Int32 control[CONTROL_INTS] | float32 params[paramCount] | float32 grads[paramCount]
 *   | float32 loss | float32 x[capacity * inputSize] | int32 y[capacity]
 *
 * onnxruntime-node rejects tensors over SharedArrayBuffer memory, so the worker copies the
 * chunk in and the gradients out (a few hundred KB, tens of microseconds).
 */
import type { InferenceSession } from 'onnxruntime-common';

export interface TrainWorkerParam {
  name: string;
  gradName: string;
  shape: number[];
  size: number;
}

/** The runtime a worker loads: onnxruntime-node, or onnxruntime-web (wasm, 1 thread). */
export type TrainWorkerRuntime = 'onnxruntime-node' | 'onnxruntime-web';

export interface TrainWorkerInit {
  runtime: TrainWorkerRuntime;
  graph: Uint8Array;
  sessionOptions: InferenceSession.SessionOptions;
  inputName: string;
  labelsName: string;
  lossName: string;
  inputShape: [number, number, number];
  params: TrainWorkerParam[];
  shared: SharedArrayBuffer;
  capacity: number;
}

/** Int32 slots of the control block. */
export const Ctl = {
  /** Bumped by the trainer to start a command. */
  Gen: 0,
  /** Set to Gen by the worker when the command is done. */
  Done: 1,
  Cmd: 2,
  /** Samples in this step's chunk. */
  N: 3,
  /** 1 when the command failed (the message follows as a postMessage). */
  Error: 4,
} as const;
export const CONTROL_INTS = 8;

export const Cmd = { Step: 1, Resize: 2, Exit: 3 } as const;

/** Float32 offsets of the regions after the control block. */
export function sharedLayout(paramCount: number, inputSize: number, capacity: number) {
  const params = CONTROL_INTS;
  const grads = params + paramCount;
  const loss = grads + paramCount;
  const x = loss + 1;
  const y = x + capacity * inputSize;
  return { params, grads, loss, x, y, bytes: (y + capacity) * 4 };
}

/** postMessage from a worker: ready after start-up, or the text of a failure. */
export type TrainWorkerMessage = { type: 'ready' } | { type: 'error'; message: string };
