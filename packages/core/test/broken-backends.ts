/**
 * Deliberately broken backends built on the reference implementation, one bug each, to prove
 * that the conformance suite notices. Each mirrors a mistake real backends make.
 */
import type { ModelSpec, Weights } from '@lenet/model';
import { paramInfos } from '@lenet/model';
import type { TrainingBackend, TrainingOptions, TrainingSession } from '../src/contract.js';
import { refuseOptimizer } from '../src/optimizer.js';
import { checkThreads } from '../src/contract.js';
import { checkPredictInput, checkSessionInput, checkTrainInput } from '../src/checks.js';
import { forward64, lossAndGradients64, opBackward, opForward, planReference } from '../src/reference.js';
import type { Params64, RefPlan } from '../src/reference.js';

/**
 * Rounds to float32 and perturbs by up to ~2e-6 relative, deterministically (a function of the
 * value only): roughly the error of float32 kernels that accumulate a few hundred terms.
 */
function float32ish(a: Float64Array): Float64Array {
  return a.map((v) => {
    const f = Math.fround(v);
    const jitter = ((Math.abs(f) * 1e7) % 1) - 0.5; // in [-0.5, 0.5), pseudo-random per value
    return Math.fround(f * (1 + 4e-6 * jitter));
  });
}

/** Activations of sample s with float32ish() after every layer (acts[0] = input). */
function noisyActivations(plan: RefPlan, params: Params64, x: ArrayLike<number>, s: number): Float64Array[] {
  const acts: Float64Array[] = [Float64Array.from({ length: plan.inputSize }, (_, i) => x[s * plan.inputSize + i]!)];
  for (const op of plan.ops) acts.push(float32ish(opForward(op, params, acts[acts.length - 1]!)));
  return acts;
}

function noisyForward(plan: RefPlan, params: Params64, x: ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(n * plan.classes);
  for (let s = 0; s < n; s++) out.set(noisyActivations(plan, params, x, s).at(-1)!, s * plan.classes);
  return out;
}

/** Mean loss and gradients with float32ish() after every layer's forward and backward. */
function noisyLossAndGradients(plan: RefPlan, params: Params64, x: ArrayLike<number>, y: ArrayLike<number>, n: number) {
  const grads: Params64 = new Map([...params].map(([k, v]) => [k, new Float64Array(v.length)]));
  let total = 0;
  for (let s = 0; s < n; s++) {
    const acts = noisyActivations(plan, params, x, s);
    const logits = acts.at(-1)!;
    const max = Math.max(...logits);
    const sum = logits.reduce((a, v) => a + Math.exp(v - max), 0);
    total += Math.log(sum) + max - logits[y[s]!]!;
    let d: Float64Array = logits.map((v, k) => (Math.exp(v - max) / sum - (k === y[s] ? 1 : 0)) / n);
    for (let i = plan.ops.length - 1; i >= 0; i--) d = float32ish(opBackward(plan.ops[i]!, params, grads, acts[i]!, acts[i + 1]!, d));
  }
  for (const [k, g] of grads) grads.set(k, float32ish(g));
  return { loss: Math.fround(total / n), grads };
}

export type Bug =
  | 'wrong-sign' // w + lr*g
  | 'sum-not-mean' // gradient of the summed loss (n times too large)
  | 'no-validation' // skips checkPredictInput/checkTrainInput and the weights check
  | 'no-copy' // keeps the caller's weight arrays
  | 'getweights-alias' // getWeights returns the session's own arrays
  | 'dense-bias-ignored' // forward leaves out dense biases
  | 'reads-whole-buffer' // uses x.length instead of n
  | 'nondeterministic' // tiny random noise on logits
  | 'dispose-kills-all' // dispose breaks every session
  | 'stale-forward-cache' // predict reuses logits computed before training (cache keyed by x)
  | 'updates-once' // only the first trainStep changes the weights (stale parameter binding)
  | 'ignores-optimizer' // trains plain SGD whatever TrainingOptions.optimizer asks for
  | 'float32-noise'; // NOT a bug: float32 storage + ~1e-6 relative error per layer, like a real float32 backend

let killed = false;

class BrokenSession implements TrainingSession {
  private readonly cache = new Map<Float32Array, Float32Array>();
  private stepCount = 0;
  constructor(
    private readonly bug: Bug,
    private readonly spec: ModelSpec,
    private readonly plan: RefPlan,
    /** float32 weights, the source of truth (the caller's own Map under 'no-copy'). */
    private readonly store: Weights,
  ) {}

  private params(): Params64 {
    const p: Params64 = new Map();
    for (const [name, t] of this.store) p.set(name, Float64Array.from(t.data));
    if (this.bug === 'dense-bias-ignored') {
      for (const op of this.plan.ops) if (op.kind === 'dense') p.set(op.bias, new Float64Array(op.units));
    }
    return p;
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    if (killed) throw new Error('backend was disposed');
    if (this.bug !== 'no-validation') checkPredictInput(this.spec, x, n);
    if (this.bug === 'reads-whole-buffer') n = Math.floor(x.length / this.plan.inputSize);
    if (this.bug === 'stale-forward-cache' && this.cache.has(x)) return this.cache.get(x)!.slice();
    const logits =
      this.bug === 'float32-noise'
        ? noisyForward(this.plan, this.params(), x, n)
        : Float32Array.from(forward64(this.plan, this.params(), x, n));
    if (this.bug === 'nondeterministic') for (let i = 0; i < logits.length; i++) logits[i]! += (Math.random() - 0.5) * 1e-5;
    if (this.bug === 'stale-forward-cache') this.cache.set(x, logits.slice());
    return logits;
  }

  async trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    if (killed) throw new Error('backend was disposed');
    if (this.bug !== 'no-validation') checkTrainInput(this.spec, x, y, n, lr);
    const { loss, grads } =
      this.bug === 'float32-noise'
        ? noisyLossAndGradients(this.plan, this.params(), x, y, n)
        : lossAndGradients64(this.plan, this.params(), x, y, n);
    this.stepCount++;
    if (this.bug === 'updates-once' && this.stepCount > 1) return loss;
    const sign = this.bug === 'wrong-sign' ? -1 : 1;
    const scale = this.bug === 'sum-not-mean' ? n : 1;
    for (const [name, t] of this.store) {
      const g = grads.get(name)!;
      for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! - sign * scale * lr * g[i]!;
    }
    return loss;
  }

  async getWeights(): Promise<Weights> {
    if (this.bug === 'getweights-alias') return this.store;
    const out: Weights = new Map();
    for (const p of paramInfos(this.spec)) {
      const t = this.store.get(p.name);
      if (t) out.set(p.name, { shape: [...t.shape], data: t.data.slice() });
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.bug === 'dispose-kills-all') killed = true;
  }
}

export function brokenBackend(bug: Bug): TrainingBackend {
  killed = false;
  async function create(spec: ModelSpec, weights: Weights, options?: TrainingOptions): Promise<TrainingSession> {
    if (bug !== 'no-validation') checkThreads(`broken-${bug}`, options?.threads);
    if (bug !== 'ignores-optimizer') refuseOptimizer(`broken-${bug}`, options?.optimizer);
    const valid = bug === 'no-validation' ? spec : checkSessionInput(spec, weights, `broken-${bug}`);
    const store: Weights =
      bug === 'no-copy' ? weights : new Map([...weights].map(([k, t]) => [k, { shape: [...t.shape], data: t.data.slice() }]));
    return new BrokenSession(bug, valid, planReference(valid), store);
  }
  return {
    name: `broken-${bug}`,
    description: `reference with a deliberate bug: ${bug}`,
    async available() {
      return true;
    },
    async info() {
      return { runtime: 'broken reference', versions: {} };
    },
    createSession: create,
    createTrainingSession: create,
  };
}
