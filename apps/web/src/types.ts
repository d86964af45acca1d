/**
 * What the page measures and how it is driven: the page↔harness JSON contract lives in
 * @lenet/browser-protocol (shared with `lenet-bench browser`); re-exported here for the
 * page's modules.
 */
export type {
  BackendFamily,
  BrowserEvaluation,
  BrowserInference,
  BrowserResult,
  BrowserRun,
  BrowserTraining,
  LatencySummary,
  LenetBenchPage,
  RunOptions,
  TrainCurvePoint,
  TrainEvent,
  TrainRequest,
} from '@lenet/browser-protocol';
export { TRAIN_REQUEST_DEFAULTS } from '@lenet/browser-protocol';
