import { describe, expect, it } from 'vitest';
import { initWeights } from '@lenet/model';
import { Batcher } from '@lenet/datasets';
import { train } from '../src/train.js';
import type { EpochMetrics, StepProgress } from '../src/train.js';
import type { TrainingSession } from '../src/contract.js';
import { NonFiniteLossError, TrainOptionsError } from '../src/errors.js';
import { referenceBackend } from '../src/reference-backend.js';
import { TINY_SPEC, scriptedSession, syntheticSplit } from './helpers.js';

const trainSplit = syntheticSplit(40, 11); // batch 16 -> steps of 16, 16, 8
const testSplit = syntheticSplit(12, 12, 'test');
const base = { spec: TINY_SPEC, train: trainSplit, test: testSplit, batchSize: 16, epochs: 3, seed: 5 };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('train: batches, metrics and callbacks', () => {
  it('feeds the Batcher order of (seed, epoch) with exact-length views and the lr', async () => {
    const session = scriptedSession();
    await train({ ...base, session, lr: 0.3 });
    const batcher = new Batcher(trainSplit, { batchSize: 16, seed: 5, shuffle: true, lastBatch: 'partial' });
    const expected: number[][] = [];
    for (let e = 0; e < 3; e++) for (const b of batcher.epoch(e)) expected.push([...b.y.subarray(0, b.n)]);
    expect(session.steps.map((s) => s.labels)).toEqual(expected);
    expect(session.steps.map((s) => s.n)).toEqual([16, 16, 8, 16, 16, 8, 16, 16, 8]);
    expect(session.steps.map((s) => s.xLength)).toEqual(session.steps.map((s) => s.n * 64));
    expect(session.steps.every((s) => s.lr === 0.3)).toBe(true);
    // the epochs really are shuffled differently
    expect(expected[0]).not.toEqual(expected[3]);
  });

  it('reports sample-weighted train loss, eval metrics and timing per epoch', async () => {
    const epochs: EpochMetrics[] = [];
    const steps: StepProgress[] = [];
    const session = scriptedSession({ losses: (step) => step }); // loss = global step number
    const result = await train({ ...base, session, onEpoch: (m) => epochs.push(m), onStep: (p) => steps.push(p) });
    expect(result.epochs).toEqual(epochs);
    expect(result.stoppedBy).toBeUndefined();
    expect(result.totalSteps).toBe(9);
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2, 3]);
    epochs.forEach((m, e) => {
      const [a, b, c] = [3 * e + 1, 3 * e + 2, 3 * e + 3];
      expect(m.trainLoss).toBeCloseTo((16 * a + 16 * b + 8 * c) / 40, 12);
      expect(m.steps).toBe(3);
      expect(m.images).toBe(40);
      expect(m.partial).toBe(false);
      expect(m.valAccuracy).toBe(1);
      expect(m.valLoss).toBeCloseTo(Math.log(Math.exp(5) + 3) - 5, 12);
      expect(m.seconds).toBeGreaterThan(0);
      expect(m.evalSeconds).toBeGreaterThan(0);
      expect(m.imagesPerSecond).toBeCloseTo(40 / m.seconds, 6);
    });
    expect(epochs[2]!.elapsedSeconds).toBeCloseTo(epochs[0]!.seconds + epochs[1]!.seconds + epochs[2]!.seconds, 9);
    expect(result.trainSeconds).toBeCloseTo(epochs[2]!.elapsedSeconds, 9);
    expect(steps.map((p) => [p.epoch, p.step, p.stepsPerEpoch, p.images, p.loss])).toEqual([
      [1, 1, 3, 16, 1], [1, 2, 3, 32, 2], [1, 3, 3, 40, 3],
      [2, 1, 3, 16, 4], [2, 2, 3, 32, 5], [2, 3, 3, 40, 6],
      [3, 1, 3, 16, 7], [3, 2, 3, 32, 8], [3, 3, 3, 40, 9],
    ]);
    expect(steps[8]!.elapsedSeconds).toBeCloseTo(result.trainSeconds, 9);
    expect(steps[2]!.seconds).toBeCloseTo(epochs[0]!.seconds, 9);
    // The last epoch's full evaluation comes back, confusion matrix included.
    const final = result.finalEvaluation!;
    expect(final.accuracy).toBe(epochs[2]!.valAccuracy);
    expect(final.loss).toBe(epochs[2]!.valLoss);
    expect(final.confusion.flat().reduce((a, b) => a + b, 0)).toBe(final.count);
  });

  it('records timeToTarget at the first epoch reaching the target', async () => {
    // Predicts class 3 for everything until 6 steps (2 epochs) are done, then the true class.
    const learner = scriptedSession();
    const guesser = scriptedSession({ predictLabel: () => 3 });
    const gated: TrainingSession = {
      ...learner,
      predict: (x, n) => (learner.steps.length >= 6 ? learner.predict(x, n) : guesser.predict(x, n)),
    };
    const result = await train({ ...base, session: gated, targetAccuracy: 0.95 });
    expect(result.epochs.map((m) => m.valAccuracy >= 0.95)).toEqual([false, true, true]);
    expect(result.timeToTarget).toEqual({ accuracy: 1, epoch: 2, seconds: result.epochs[1]!.elapsedSeconds });
    const never = await train({ ...base, session: scriptedSession({ predictLabel: () => 3 }), targetAccuracy: 0.95 });
    expect(never.timeToTarget).toBeUndefined();
  });
});

describe('train: lr schedule and batch augmentation hooks', () => {
  it('lrSchedule gives each step its lr, with 1-based epoch/step and a 0-based totalStep', async () => {
    const session = scriptedSession();
    const seen: string[] = [];
    await train({
      ...base,
      session,
      lr: 0.3,
      lrSchedule: (at) => {
        seen.push(`${at.epoch}.${at.step}/${at.stepsPerEpoch}#${at.totalStep}`);
        return 0.1 * (at.totalStep + 1);
      },
    });
    expect(seen).toEqual(['1.1/3#0', '1.2/3#1', '1.3/3#2', '2.1/3#3', '2.2/3#4', '2.3/3#5', '3.1/3#6', '3.2/3#7', '3.3/3#8']);
    expect(session.steps.map((s) => s.lr)).toEqual(seen.map((_, i) => 0.1 * (i + 1)));
  });

  it('rejects an lrSchedule value that is negative or not finite, naming the step', async () => {
    for (const bad of [-0.1, NaN, Infinity]) {
      await expect(train({ ...base, session: scriptedSession(), lrSchedule: (at) => (at.totalStep === 4 ? bad : 0.1) })).rejects.toThrow(
        TrainOptionsError,
      );
    }
    await expect(train({ ...base, session: scriptedSession(), lrSchedule: () => -1 })).rejects.toThrow(/lrSchedule returned -1 at epoch 1 step 1/);
  });

  it('augment sees each batch (exact-length views) before its step and may change it in place', async () => {
    const session = scriptedSession();
    const calls: { epoch: number; step: number; n: number; xLength: number; yLength: number }[] = [];
    await train({
      ...base,
      session,
      augment: (b) => {
        calls.push({ epoch: b.epoch, step: b.step, n: b.n, xLength: b.x.length, yLength: b.y.length });
        b.x[0] = 7; // first image's first pixel
        b.x[64] = b.epoch; // second image's first pixel
      },
    });
    expect(calls.map((c) => `${c.epoch}.${c.step}`)).toEqual(['1.1', '1.2', '1.3', '2.1', '2.2', '2.3', '3.1', '3.2', '3.3']);
    expect(calls.every((c) => c.xLength === c.n * 64 && c.yLength === c.n)).toBe(true);
    expect(session.steps.map((s) => s.firstPixels)).toEqual(calls.map((c) => [7, c.epoch]));
  });
});

describe('train: stopping', () => {
  it('throws NonFiniteLossError naming epoch and step, keeping completed epochs', async () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const session = scriptedSession({ losses: (step) => (step === 5 ? bad : 1) });
      const err = await train({ ...base, session }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      const e = err as NonFiniteLossError;
      expect([e.epoch, e.step, e.loss]).toEqual([2, 2, bad]);
      expect(e.message).toContain(`training loss became ${bad} at epoch 2, step 2`);
      expect(e.completed.map((m) => m.epoch)).toEqual([1]);
      expect(session.steps.length).toBe(5);
    }
  });

  it('maxStepsPerEpoch cuts every epoch short and marks it partial', async () => {
    const session = scriptedSession();
    const steps: StepProgress[] = [];
    const result = await train({ ...base, session, maxStepsPerEpoch: 2, onStep: (p) => steps.push(p) });
    expect(result.epochs.map((m) => [m.steps, m.images, m.partial])).toEqual([[2, 32, true], [2, 32, true], [2, 32, true]]);
    expect(result.stoppedBy).toBeUndefined();
    expect(steps.every((p) => p.stepsPerEpoch === 2)).toBe(true);
    const full = await train({ ...base, session: scriptedSession(), maxStepsPerEpoch: 3 });
    expect(full.epochs.every((m) => !m.partial && m.steps === 3)).toBe(true);
  });

  it('maxSeconds stops after the current step, evaluates the partial epoch, stoppedBy budget', async () => {
    const big = syntheticSplit(200, 13); // 13 steps of 16
    const session = scriptedSession({ onTrainStep: () => sleep(20) });
    const result = await train({ ...base, train: big, session, epochs: 5, maxSeconds: 0.05 });
    expect(result.stoppedBy).toBe('budget');
    expect(result.epochs.length).toBe(1);
    const m = result.epochs[0]!;
    expect(m.partial).toBe(true);
    expect(m.steps).toBeGreaterThanOrEqual(1);
    expect(m.steps).toBeLessThanOrEqual(3); // 3 steps of >= 20 ms exceed 50 ms
    expect(m.elapsedSeconds).toBeGreaterThanOrEqual(0.05);
    expect(result.stoppedAt).toEqual({ epoch: 1, step: m.steps });
    expect(session.steps.length).toBe(m.steps);
  });

  it('an abort signal stops after the current step and keeps finished epochs', async () => {
    const ac = new AbortController();
    const session = scriptedSession({ onTrainStep: (step) => void (step === 4 && ac.abort()) });
    const result = await train({ ...base, session, signal: ac.signal });
    expect(result.stoppedBy).toBe('signal');
    expect(result.epochs.map((m) => m.epoch)).toEqual([1]);
    expect(result.stoppedAt).toEqual({ epoch: 2, step: 1 });
    expect(result.totalSteps).toBe(4);
    expect(session.steps.length).toBe(4);
    // the unfinished epoch is not evaluated
    expect(session.predictCalls.length).toBe(1);
  });

  it('an abort at the end of an epoch keeps that epoch', async () => {
    const ac = new AbortController();
    const session = scriptedSession({ onTrainStep: (step) => void (step === 3 && ac.abort()) });
    const result = await train({ ...base, session, signal: ac.signal });
    expect(result.epochs.map((m) => [m.epoch, m.partial])).toEqual([[1, false]]);
    expect(result.stoppedBy).toBe('signal');
    expect(result.stoppedAt).toEqual({ epoch: 1, step: 3 });
  });

  it('an already aborted signal trains nothing', async () => {
    const session = scriptedSession();
    const result = await train({ ...base, session, signal: AbortSignal.abort() });
    expect(result).toMatchObject({ epochs: [], stoppedBy: 'signal', totalSteps: 0 });
    expect(session.steps.length).toBe(0);
  });

  it('yields to the event loop so a timer can abort a session that never awaits real I/O', async () => {
    const ac = new AbortController();
    const busy = scriptedSession({
      onTrainStep: () => {
        const until = performance.now() + 2;
        while (performance.now() < until); // synchronous work, like a pure-JS backend
      },
    });
    const timer = setTimeout(() => ac.abort(), 60);
    const big = syntheticSplit(1600, 14); // 100 steps of 16 per epoch, 20 epochs = 2000 steps >= 4 s
    const result = await train({ ...base, train: big, session: busy, epochs: 20, signal: ac.signal });
    clearTimeout(timer);
    expect(result.stoppedBy).toBe('signal');
    expect(result.totalSteps).toBeLessThan(2000);
  });
});

describe('train: validation', () => {
  it('rejects bad options naming the option', async () => {
    const session = scriptedSession();
    const cases: [Record<string, unknown>, string][] = [
      [{ epochs: 0 }, 'train: epochs must be a positive integer, got 0'],
      [{ batchSize: 1.5 }, 'train: batchSize must be a positive integer, got 1.5'],
      [{ lr: -1 }, 'train: lr must be a finite number >= 0, got -1'],
      [{ lr: Number.NaN }, 'train: lr must be a finite number >= 0, got NaN'],
      [{ seed: 0.5 }, 'train: seed must be an integer, got 0.5'],
      [{ targetAccuracy: 2 }, 'train: targetAccuracy must be in [0, 1], got 2'],
      [{ maxSeconds: 0 }, 'train: maxSeconds must be a number > 0, got 0'],
      [{ maxStepsPerEpoch: 0 }, 'train: maxStepsPerEpoch must be a positive integer, got 0'],
      [{ evalBatchSize: -3 }, 'train: evalBatchSize must be a positive integer, got -3'],
    ];
    for (const [opts, message] of cases) {
      await expect(train({ ...base, session, ...opts })).rejects.toThrow(new TrainOptionsError(message));
    }
    expect(session.steps.length).toBe(0);
  });

  it('rejects splits that do not fit the spec', async () => {
    const session = scriptedSession();
    const wide = { ...trainSplit, rows: 4, cols: 16 };
    await expect(train({ ...base, session, train: wide })).rejects.toThrow(
      'train: the train split has 4x16 grayscale images (input [1, 4, 16]) but spec "tiny" expects input [1, 8, 8]',
    );
    const tenClasses = { ...testSplit, classNames: [...'abcdefghij'] };
    await expect(train({ ...base, session, test: tenClasses })).rejects.toThrow(
      'train: the test split has 10 classes but spec "tiny" outputs 4',
    );
  });
});

describe('train: end to end on the reference backend', () => {
  it('learns the synthetic set, deterministically', async () => {
    const run = async () => {
      const session = await referenceBackend.createTrainingSession(TINY_SPEC, initWeights(TINY_SPEC, 3));
      const result = await train({ ...base, session, train: syntheticSplit(96, 21), epochs: 4, lr: 0.5 });
      return { result, weights: await session.getWeights() };
    };
    const a = await run();
    const b = await run();
    const accs = a.result.epochs.map((m) => m.valAccuracy);
    expect(accs[accs.length - 1]).toBeGreaterThanOrEqual(0.9);
    expect(a.result.epochs[3]!.trainLoss).toBeLessThan(a.result.epochs[0]!.trainLoss / 2);
    expect(b.result.epochs.map((m) => [m.trainLoss, m.valLoss, m.valAccuracy])).toEqual(
      a.result.epochs.map((m) => [m.trainLoss, m.valLoss, m.valAccuracy]),
    );
    expect(b.weights).toEqual(a.weights);
  });
});

describe('train: windows (beforeStep) and sub-epoch evaluation (evalEverySteps)', () => {
  it('evaluates every k steps and at every epoch end, with cumulative images and steps', async () => {
    const points: import('../src/train.js').EvalPoint[] = [];
    const session = scriptedSession();
    await train({ ...base, session, evalEverySteps: 2, onEval: (p) => points.push(p) });
    // 9 steps (3 per epoch): sub-epoch points at total steps 2, 4, 8 (6 is an epoch end), plus the 3 epoch ends.
    expect(points.map((p) => [p.totalSteps, p.endOfEpoch])).toEqual([[2, false], [3, true], [4, false], [6, true], [8, false], [9, true]]);
    expect(points.map((p) => p.images)).toEqual([32, 40, 56, 80, 112, 120]);
    expect(points.every((p) => p.accuracy === 1 && p.evalSeconds >= 0)).toBe(true);
  });

  it('beforeStep gates every step outside the step timing; aborting while gated stops before the next step', async () => {
    const session = scriptedSession();
    const controller = new AbortController();
    let gates = 0;
    const result = await train({
      ...base,
      session,
      signal: controller.signal,
      beforeStep: async () => {
        gates++;
        await sleep(30); // a paused window: must not count as training time
        if (gates === 5) controller.abort();
      },
    });
    expect(gates).toBe(5);
    expect(session.steps).toHaveLength(4);
    expect(result.stoppedBy).toBe('signal');
    expect(result.trainSeconds).toBeLessThan(0.1); // 5 x 30 ms of waiting are not training time
  });
});
