// What the ORT training-step scripts (ort-train-profile.mjs, ort-train-ab-profile.mjs) share: a
// profiled session of a build's training graph, built as ort-node builds it; a step runner that
// ping-pongs the weights between two preallocated sets, as the backend does; and the per-node
// kernel times read back from ORT's profile.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initWeights, paramInfos } from '@lenet/model';

/** `impl`: a backend-onnxruntime build (index.js); older builds have no nchwcBlockSize. */
export async function profiledTrainingSession(ort, impl, spec, { threads, dir, prefix }) {
  const nchwcBlock = impl.nchwcBlockSize ? await impl.nchwcBlockSize(ort) : undefined;
  return ort.InferenceSession.create(impl.buildTrainingGraph(spec, { nchwcBlock }).bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
    enableProfiling: true,
    profileFilePrefix: join(dir, prefix),
  });
}

/** step({ x, y }) runs one SGD step on tensors x [128,1,28,28], y [128] and returns its wall ms. */
export function weightStepper(ort, session, spec, lr) {
  const infos = paramInfos(spec);
  const w = initWeights(spec, 0);
  let params = infos.map((p) => new ort.Tensor('float32', Float32Array.from(w.get(p.name).data), p.shape));
  let spare = infos.map((p) => new ort.Tensor('float32', new Float32Array(p.shape.reduce((a, b) => a * b, 1)), p.shape));
  const lrTensor = new ort.Tensor('float32', Float32Array.of(lr), []);
  const loss = new ort.Tensor('float32', new Float32Array(1), []);
  return async ({ x, y }) => {
    const feeds = { input: x, labels: y, lr: lrTensor };
    const fetches = { loss };
    infos.forEach((p, j) => ((feeds[p.name] = params[j]), (fetches[`${p.name}.next`] = spare[j])));
    const t0 = performance.now();
    await session.run(feeds, fetches);
    const ms = performance.now() - t0;
    [params, spare] = [spare, params];
    return ms;
  };
}

/**
 * Ends the session's profile and reads it: the model_run events after the first `warmup`, and
 * every node's kernel-time event from then on.
 */
export async function readProfile(session, dir, prefix, warmup) {
  session.endProfiling();
  await session.release();
  const events = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.json'))), 'utf8'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts).slice(warmup);
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= runs[0].ts);
  return { runs, kernels };
}
