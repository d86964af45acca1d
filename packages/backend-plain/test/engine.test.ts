/**
 * End-to-end gradient checks in float64: the engine (the same plan, layer code and JS kernels
 * that plain-js runs, on a Float64Array arena) against finite differences of its own loss and
 * against @lenet/core's float64 reference.
 */
import { describe, expect, it } from 'vitest';
import { CONFORMANCE_VARIANT, conformanceWeights, randomImages, randomLabels, referenceForward, referenceLossAndGradients } from '@lenet/core';
import { flattenWeights, getPreset, type ModelSpec } from '@lenet/model';
import { buildPlan } from '../src/plan.js';
import { Engine } from '../src/engine.js';
import { jsKernels, type Kernels } from '../src/kernels.js';
import { softmaxCrossEntropyForwardBackward } from '../src/layers/loss.js';
import { fdCheck, sampleIndices } from './helpers.js';

const specs: [string, ModelSpec][] = [
  ['lenet5', getPreset('lenet5')],
  ['lenet5-modern', getPreset('lenet5-modern')],
  ['conformance variant (strided 3x3, tanh, overlapping max pool)', CONFORMANCE_VARIANT],
];

function engine64(spec: ModelSpec, n: number) {
  const plan = buildPlan(spec, n);
  const eng = new Engine(plan, jsKernels as Kernels<Float64Array>, new Float64Array(plan.arena.size));
  const weights = conformanceWeights(spec, 11);
  eng.loadParams(flattenWeights(spec, weights), 0);
  return { plan, eng, weights };
}

describe.each(specs)('engine float64 gradients: %s', (_name, spec) => {
  const n = 3;
  const x = randomImages(21, n, spec.inputShape[0] * spec.inputShape[1] * spec.inputShape[2]);
  const y = randomLabels(22, n, 10);

  it('forward equals the reference forward', () => {
    const { plan, eng, weights } = engine64(spec, n);
    eng.forward(x, 0, n, false);
    const want = referenceForward(spec, weights, x, n);
    const got = eng.mem.subarray(eng.logitsOffset, eng.logitsOffset + n * plan.classes);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 10);
  });

  it('backward matches finite differences of the loss and the reference gradients', () => {
    const { plan, eng, weights } = engine64(spec, n);
    const losses = new Float64Array(n);
    const loss = (): number => {
      eng.forward(x, 0, n, false);
      softmaxCrossEntropyForwardBackward(n, plan.classes, eng.mem, eng.logitsOffset, y, 0, 1 / n, losses, 0, null, 0);
      return losses.reduce((a, v) => a + v, 0) / n;
    };
    eng.forward(x, 0, n, true);
    eng.backward(y, 0, n, 1 / n, losses, 0);
    const grads = eng.mem.slice(eng.gradsOffset, eng.gradsOffset + plan.paramCount);
    const ref = referenceLossAndGradients(spec, weights, x, y, n);
    expect(losses.reduce((a, v) => a + v, 0) / n).toBeCloseTo(ref.loss, 10);
    // The arena parameters are a window of eng.mem; perturb them there.
    const P0 = plan.arena.params;
    const paramsView = eng.mem.subarray(P0, P0 + plan.paramCount);
    for (const p of plan.params) {
      const want = ref.grads.get(p.name)!;
      let worst = 0;
      for (let i = 0; i < p.size; i++) worst = Math.max(worst, Math.abs(grads[p.offset + i] - want[i]));
      expect(worst, `${p.name} vs reference gradient: max abs difference`).toBeLessThan(1e-10);
      const idx = sampleIndices(p.size, 25, p.offset).map((i) => p.offset + i);
      const r = fdCheck(loss, paramsView, grads, idx);
      expect(r.maxRel, `${p.name}: ${r.worst}`).toBeLessThan(1);
    }
  });
});

describe('plan', () => {
  it('lays out lenet5 with its 61,706 parameters in canonical order, activations in place', () => {
    const plan = buildPlan(getPreset('lenet5'), 16);
    expect(plan.paramCount).toBe(61706);
    expect(plan.params.map((p) => p.name)).toEqual([
      'conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias',
      'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias',
    ]);
    expect(plan.ops.map((o) => o.kind)).toEqual([
      'conv2d', 'activation', 'pool2d', 'conv2d', 'activation', 'pool2d', 'dense', 'activation', 'dense', 'activation', 'dense',
    ]);
    for (const op of plan.ops) if (op.kind === 'activation') expect(op.output).toBe(op.input);
    expect(plan.classes).toBe(10);
    // Regions start on 64-byte boundaries.
    for (const t of plan.tensors) expect(t.value % 16).toBe(0);
  });

  it('does not run an activation in place on another activation output (it needs its own y)', () => {
    const spec: ModelSpec = {
      name: 'double-act', inputShape: [1, 6, 6],
      layers: [{ type: 'flatten' }, { type: 'dense', units: 5 }, { type: 'activation', fn: 'sigmoid' }, { type: 'activation', fn: 'tanh' }, { type: 'dense', units: 3 }],
    };
    const plan = buildPlan(spec, 2);
    const [, a1, a2] = plan.ops;
    expect(a1.output).toBe(a1.input);
    expect(a2.output).not.toBe(a2.input);
  });
});
