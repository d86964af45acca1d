// The page↔harness contract: the checks reject what a report could not use, naming the row.
import { describe, expect, it } from 'vitest';
import { BrowserProtocolError, TRAIN_REQUEST_DEFAULTS, checkBrowserRun, checkBrowserTraining, familyOfPageBackend, type BrowserTraining } from '../src/index.js';

const training = (over: Partial<BrowserTraining> = {}): BrowserTraining => ({
  id: 'plain-wasm', family: 'plain', backend: 'plain', package: '@lenet/backend-plain', where: 'web worker', status: 'ok', reason: null, phase: null,
  description: 'd', runtime: 'r', versions: {}, threads: 2, startedAt: '2026-12-01T00:00:00Z', wallSeconds: 1,
  request: { ...TRAIN_REQUEST_DEFAULTS, backend: 'plain-wasm' }, dataset: 'fashion-mnist', trainCount: 300, testCount: 300,
  stepLosses: [2.3], epochs: [], curve: [], totalSteps: 1, trainSeconds: 0.1, imagesPerSecond: 1280, stoppedBy: null,
  finalEvaluation: { count: 300, accuracy: 0.1, loss: 2.3, confusion: [] }, batchesPerEpoch: 3, ...over,
});

describe('browser protocol', () => {
  it('page backend ids name their family', () => {
    expect(['ort-web-wasm', 'ort-web-webgpu', 'tfjs-webgl', 'tfjs-cpu', 'plain-wasm', 'plain-js'].map(familyOfPageBackend)).toEqual(['ort-web', 'ort-web', 'tfjs', 'tfjs', 'plain', 'plain']);
    expect(familyOfPageBackend('tfjsx')).toBeNull();
    expect(familyOfPageBackend('onnx')).toBeNull();
  });

  it('checkBrowserTraining accepts a complete answer and rejects the wrong id, a bad status or an ok without results', () => {
    expect(checkBrowserTraining(training(), 'plain-wasm').id).toBe('plain-wasm');
    expect(checkBrowserTraining(training({ status: 'unavailable', stepLosses: [], finalEvaluation: null }), 'plain-wasm').status).toBe('unavailable');
    expect(() => checkBrowserTraining(null, 'plain-wasm')).toThrow(/unexpected training result for plain-wasm: not an object/);
    expect(() => checkBrowserTraining(training(), 'tfjs-wasm')).toThrow(/bad id\/status/);
    expect(() => checkBrowserTraining(training({ status: 'done' as never }), 'plain-wasm')).toThrow(/bad id\/status/);
    expect(() => checkBrowserTraining(training({ finalEvaluation: null }), 'plain-wasm')).toThrow(BrowserProtocolError);
  });

  it('checkBrowserRun rejects a run without results or test count, and ok rows without measurements', () => {
    expect(() => checkBrowserRun({ testCount: 10 })).toThrow(/no results array/);
    expect(() => checkBrowserRun({ results: [] })).toThrow(/no testCount/);
    expect(() => checkBrowserRun({ testCount: 10, results: [{ id: 'plain-wasm', status: 'ok', evaluation: null, inference: null }] })).toThrow(/plain-wasm is ok but lacks evaluation\/inference/);
    expect(checkBrowserRun({ testCount: 10, results: [{ id: 'tfjs-webgpu', status: 'unavailable' }] }).results).toHaveLength(1);
  });
});
