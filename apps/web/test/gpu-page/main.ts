/**
 * Test page of gpu.test.ts: the GPU backends through the @lenet/core contract only (the same
 * package entries the app imports), driven from Node with plain JSON. No timing here: the app
 * (and `lenet-bench browser`) measure; this page checks numbers on fixed inputs.
 */
import type { TrainingBackend } from '@lenet/core';
import { canTrain } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { tfjsWebglBackend, tfjsWebgpuBackend } from '@lenet/backend-tfjs/gpu';
import { ortWebGpuBackend } from '@lenet/backend-onnxruntime';

const BACKENDS: Record<string, TrainingBackend> = { 'tfjs-webgl': tfjsWebglBackend, 'tfjs-webgpu': tfjsWebgpuBackend, 'ort-web-webgpu': ortWebGpuBackend };

export type JsonWeights = Record<string, { shape: number[]; data: number[] }>;
export interface GpuJob {
  backend: string;
  spec: ModelSpec;
  weights: JsonWeights;
  /** n images, NCHW float values. */
  images: number[];
  n: number;
  /** SGD steps after the forward check: each a batch of `images` (by index) and labels. */
  steps: { x: number[]; y: number[]; n: number }[];
  lr: number;
}
export interface GpuAnswer {
  available: true | string;
  /** The bundled backend has createTrainingSession (a capability is a method). */
  canTrain: boolean;
  info: { runtime: string; adapter?: string; softwareFallback?: boolean; versions: Record<string, string> } | null;
  logits: number[];
  losses: number[];
  ms: { predict: number; train: number };
}

function toWeights(w: JsonWeights): Weights {
  return new Map(Object.entries(w).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
}

async function run(job: GpuJob): Promise<GpuAnswer> {
  const backend = BACKENDS[job.backend];
  if (!backend) throw new Error(`unknown backend ${job.backend}`);
  const answer: GpuAnswer = { available: await backend.available(), canTrain: canTrain(backend), info: null, logits: [], losses: [], ms: { predict: 0, train: 0 } };
  if (answer.available !== true) return answer;
  const session = await backend.createTrainingSession(job.spec, toWeights(job.weights));
  try {
    answer.info = await backend.info();
    const t0 = performance.now();
    answer.logits = Array.from(await session.predict(Float32Array.from(job.images), job.n));
    answer.ms.predict = performance.now() - t0;
    const t1 = performance.now();
    for (const s of job.steps) answer.losses.push(await session.trainStep(Float32Array.from(s.x), Int32Array.from(s.y), s.n, job.lr));
    answer.ms.train = performance.now() - t1;
  } finally {
    await session.dispose();
  }
  return answer;
}

(window as unknown as { lenetGpu: unknown }).lenetGpu = { run };
