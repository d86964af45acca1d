/**
 * A Backend built on the float64 reference implementation: slow, but the ground truth.
 * Useful to check the conformance suite itself, to cross-check other backends on real data,
 * and as the smallest complete example of the contract.
 */
import type { ModelSpec, Weights } from '@lenet/model';
import { paramInfos } from '@lenet/model';
import type { BackendInfo, SessionOptions, TrainingBackend, TrainingOptions, TrainingSession } from './contract.js';
import { BackendInputError, checkThreads } from './contract.js';
import { checkPredictInput, checkSessionInput, checkTrainInput } from './checks.js';
import { forward64, lossAndGradients64, planReference, toParams64 } from './reference.js';
import type { Params64, RefPlan } from './reference.js';
import { checkOptimizer, sgdMomentumUpdate, type SgdMomentum } from './optimizer.js';

class ReferenceSession implements TrainingSession {
  private disposed = false;
  /** Momentum's velocity per parameter (float64, zero at the start), when the optimizer has one. */
  private readonly velocity = new Map<string, Float64Array>();
  constructor(
    private readonly spec: ModelSpec,
    private readonly plan: RefPlan,
    private params: Params64,
    private readonly sgd: SgdMomentum | undefined,
  ) {
    if (sgd) for (const [name, w] of params) this.velocity.set(name, new Float64Array(w.length));
  }

  private alive(where: string): void {
    if (this.disposed) throw new BackendInputError(`reference.${where}: the session has been disposed`);
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    this.alive('predict');
    checkPredictInput(this.spec, x, n);
    return Float32Array.from(forward64(this.plan, this.params, x, n));
  }

  async trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    this.alive('trainStep');
    checkTrainInput(this.spec, x, y, n, lr);
    const { loss, grads } = lossAndGradients64(this.plan, this.params, x, y, n);
    // Same arithmetic as referenceSgdStep: float64 update of the float32 weight, rounded once.
    const sgd = this.sgd;
    for (const [name, w] of this.params) {
      const g = grads.get(name)!;
      if (sgd) {
        const v = this.velocity.get(name)!;
        for (let i = 0; i < w.length; i++) w[i] = Math.fround(sgdMomentumUpdate(w[i]!, g[i]!, lr, sgd, v, i));
      } else {
        for (let i = 0; i < w.length; i++) w[i] = Math.fround(w[i]! - lr * g[i]!);
      }
    }
    return loss;
  }

  async getWeights(): Promise<Weights> {
    this.alive('getWeights');
    const out: Weights = new Map();
    for (const p of paramInfos(this.spec)) {
      out.set(p.name, { shape: [...p.shape], data: Float32Array.from(this.params.get(p.name)!) });
    }
    return out;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

async function createReferenceSession(spec: ModelSpec, weights: Weights, options?: TrainingOptions): Promise<TrainingSession> {
  checkThreads('reference', options?.threads); // one thread always, but a bad value is still an error
  const sgd = checkOptimizer('reference', options?.optimizer);
  const valid = checkSessionInput(spec, weights, 'reference');
  // Params are float64 copies of the float32 weights (kept float32-representable by fround).
  return new ReferenceSession(valid, planReference(valid), toParams64(valid, weights), sgd);
}

function createReferenceInferenceSession(spec: ModelSpec, weights: Weights, options?: SessionOptions): Promise<TrainingSession> {
  return createReferenceSession(spec, weights, { ...options, optimizer: undefined });
}

/** The float64 reference as a backend (name "reference", trains and infers, ignores threads). */
export const referenceBackend: TrainingBackend = {
  name: 'reference',
  description: 'float64 reference implementation in plain JavaScript (slow; the ground truth)',
  async available() {
    return true;
  },
  async info(): Promise<BackendInfo> {
    return { runtime: 'float64 JavaScript reference (single thread)', versions: {}, threads: 1 };
  },
  // Inference needs nothing less than training here: both build the same session.
  createSession: createReferenceInferenceSession,
  createTrainingSession: createReferenceSession,
};
