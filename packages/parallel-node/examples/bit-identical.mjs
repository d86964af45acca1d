// Data-parallel SGD on @lenet/parallel-node: a linear least-squares model trained on this thread
// alone and on this thread + 2 workers gives the same bytes (this file is also the worker script).
import { isMainThread, workerData } from 'node:worker_threads';
import { DataParallelEngine, serveMicroChunkWorker } from '@lenet/parallel-node';

const FEATURES = 4;

/** One micro-chunk's mean squared error of y ≈ w·x and its gradient (w: FEATURES floats). */
function chunkResult(x, y, m, w) {
  const grads = new Float32Array(FEATURES);
  let loss = 0;
  for (let i = 0; i < m; i++) {
    let err = -y[i];
    for (let f = 0; f < FEATURES; f++) err += w[f] * x[i * FEATURES + f];
    loss += (err * err) / m;
    for (let f = 0; f < FEATURES; f++) grads[f] += (2 * err * x[i * FEATURES + f]) / m;
  }
  return { loss, grads };
}

if (!isMainThread) {
  await serveMicroChunkWorker(workerData, (x, y, m, params) => chunkResult(x, y, m, params));
} else {
  const n = 200;
  const x = Float32Array.from({ length: n * FEATURES }, (_, i) => Math.sin(i * 12.9898) % 1);
  const y = Int32Array.from({ length: n }, (_, i) => i % 3); // targets (int32, as class labels are)
  const train = async (workers) => {
    const engine = await DataParallelEngine.create({ label: 'linear', workers, script: new URL(import.meta.url), data: {}, inputSize: FEATURES, paramCount: FEATURES, microChunk: 16 });
    let w = [new Float32Array(FEATURES)];
    let loss = 0;
    for (let step = 0; step < 50; step++) {
      const next = [new Float32Array(FEATURES)];
      loss = await engine.step(x, y, n, 0.1, w, next, (x, y, start, m) => chunkResult(x.subarray(start * FEATURES), y.subarray(start), m, w[0]));
      w = next;
    }
    await engine.dispose();
    return { w: w[0], loss };
  };
  const one = await train(0);
  const three = await train(2);
  console.log('1 thread :', [...one.w].map((v) => v.toFixed(6)).join(' '), 'loss', one.loss.toFixed(6));
  console.log('3 threads:', [...three.w].map((v) => v.toFixed(6)).join(' '), 'loss', three.loss.toFixed(6));
  const same = Buffer.from(one.w.buffer).equals(Buffer.from(three.w.buffer)) && one.loss === three.loss;
  console.log(same ? 'bit-identical' : 'DIFFERENT');
  if (!same) process.exitCode = 1;
}
