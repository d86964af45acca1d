// Writing a backend: implement the contract, call the shared input checks, then run the
// conformance suite against it. This one wraps the float64 reference functions; yours would
// call your own kernels.
import {
  checkPredictInput,
  checkSessionInput,
  checkThreads,
  checkTrainInput,
  conformanceSuite,
  referenceForward,
  referenceSgdStep,
  refuseOptimizer,
} from '@lenet/core';
import { cloneWeights, inputSize } from '@lenet/model';

// One session type that both predicts and trains, used by both factory methods below.
async function createMySession(spec, weights, options = {}) {
  checkThreads('mine', options.threads); // undefined, or an integer in [1, 256]
  // Plain SGD only: momentum / weight decay (TrainingOptions.optimizer) is refused by name, never ignored.
  refuseOptimizer('mine', options.optimizer);
  const valid = checkSessionInput(spec, weights, 'mine'); // bad spec/weights -> BackendInputError
  let w = cloneWeights(weights); // copy: the caller keeps its weights
  const size = inputSize(valid);
  return {
    async predict(x, n) {
      checkPredictInput(valid, x, n);
      return Float32Array.from(referenceForward(valid, w, x.subarray(0, n * size), n));
    },
    async trainStep(x, y, n, lr) {
      checkTrainInput(valid, x, y, n, lr);
      const step = referenceSgdStep(valid, w, x.subarray(0, n * size), y.subarray(0, n), n, lr);
      w = step.weights;
      return step.loss; // mean loss before the update
    },
    async getWeights() { return cloneWeights(w); },
    async dispose() {},
  };
}

/** @type {import('@lenet/core').Backend} */
export const myBackend = {
  name: 'mine',
  description: 'my LeNet kernels',
  async available() { return true; }, // or a reason string; never throws
  async info() { return { runtime: 'mine 1.0', versions: { mine: '1.0.0' } }; },
  createSession: createMySession, // predict, getWeights, dispose (a trainStep here goes unused)
  createTrainingSession: createMySession, // leave it out if your backend cannot train
};

// In a vitest file: for (const c of conformanceSuite(myBackend)) it(c.name, c.run, 60_000);
const cases = conformanceSuite(myBackend, { skip: ['learns'] });
for (const c of cases) await c.run(); // throws an Error naming the failing value
console.log(`${cases.length} conformance cases passed`);
