/**
 * @lenet/core — the backend contract, input checks, the training loop and evaluation, the
 * data-parallel rule (micro-chunks.ts), the float64 reference implementation and the
 * conformance suite. Browser-safe (no node: imports).
 */
export type { Backend, BackendInfo, BackendSession, SessionOptions, TrainingBackend, TrainingOptions, TrainingSession } from './contract.js';
export type { OptimizerOptions, SgdMomentum } from './optimizer.js';
export { checkOptimizer, describeOptimizer, refuseOptimizer, sgdMomentumUpdate } from './optimizer.js';
export { BackendInputError, canTrain, checkThreads, MAX_THREADS } from './contract.js';
export {
  microChunkCount,
  microChunkSizes,
  threadChunkRanges,
  sgdFromMicroChunks,
  applyMicroChunkGradients,
  applyGradientSlots,
  applyGradientSlotsMomentum,
} from './micro-chunks.js';
export type { OptimizerState } from './micro-chunks.js';
export type { LazyRuntime } from './lazy-runtime.js';
export { lazyRuntime } from './lazy-runtime.js';
export { checkPredictInput, checkTrainInput, checkSessionInput } from './checks.js';
export { NonFiniteLossError, TrainOptionsError, BackendOutputError } from './errors.js';
export type { LossResult } from './loss.js';
export { softmaxCrossEntropy, argmax } from './loss.js';
export type { EvaluateOptions, Evaluation } from './evaluate.js';
export { evaluate, DEFAULT_EVAL_BATCH_SIZE } from './evaluate.js';
export type { TrainOptions, TrainResult, EpochMetrics, StepProgress, ScheduleStep, EvalPoint } from './train.js';
export { train, TRAIN_DEFAULTS } from './train.js';
export type { Params64, RefOp, RefPlan, ReferenceStep } from './reference.js';
export {
  referenceForward,
  referenceLossAndGradients,
  referenceSgdStep,
  referenceTrainSteps,
  planReference,
  toParams64,
  forward64,
  lossAndGradients64,
} from './reference.js';
export { referenceBackend } from './reference-backend.js';
export type { ConformanceCase, ConformanceOptions, ConformanceTolerance } from './conformance.js';
export {
  conformanceSuite,
  assertClose,
  expectTrainingFollowsReference,
  expectFirstStepsFollowReference,
  FIRST_STEPS,
  CONFORMANCE_GROUPS,
  DEFAULT_TOLERANCE,
  LEARN_STEPS,
  LEARN_LR,
} from './conformance.js';
export {
  seededUniform,
  randomImages,
  randomLabels,
  conformanceWeights,
  CONFORMANCE_VARIANT,
  LEARN_LABELS,
  learnSet,
} from './testdata.js';
export type { GpuAdapterInfo, WebGpuAdapterLike } from './gpu.js';
export { isSoftwareRenderer, requestWebgpuAdapter, webglAdapterInfo, webgpuAdapterInfo } from './gpu.js';
