/**
 * The conformance suite every backend runs in its own tests:
 *
 *   for (const c of conformanceSuite(backend)) it(c.name, c.run, 60_000);
 *
 * Each case builds its own sessions (and disposes them) and throws an Error with a precise
 * message on failure: which value, expected vs got, and the tolerance.
 */
import type { ModelSpec, Weights } from '@lenet/model';
import { getPreset, initWeights, inputSize, numClasses, paramInfos, WeightsError } from '@lenet/model';
import type { ImageSplit } from '@lenet/datasets';
import { Batcher, stratifiedSubset } from '@lenet/datasets';
import type { Backend, BackendSession, SessionOptions, TrainingBackend, TrainingOptions, TrainingSession } from './contract.js';
import { BackendInputError, MAX_THREADS } from './contract.js';
import { softmaxCrossEntropy } from './loss.js';
import { referenceForward, referenceSgdStep, referenceTrainSteps } from './reference.js';
import type { OptimizerOptions } from './optimizer.js';
import {
  CONFORMANCE_VARIANT,
  conformanceWeights,
  learnSet,
  randomImages,
  randomLabels,
} from './testdata.js';

export interface ConformanceTolerance {
  /** Absolute tolerance on logits, losses and weights. Default 1e-4. */
  atol?: number;
  /** Relative tolerance (times |reference|). Default 1e-3. */
  rtol?: number;
  /**
   * Relative L2 error allowed on each parameter's SGD update (w_after - w_before) against the
   * reference update, on top of float32 rounding of the weights. Default 1e-2.
   */
  update?: number;
}

export interface ConformanceOptions {
  tolerance?: ConformanceTolerance;
  /** Case names or groups to leave out (e.g. "learns", "determinism: ..."). Unknown names throw. */
  skip?: string[];
  /** Passed to createSession as SessionOptions.threads. */
  threads?: number;
  /**
   * Whether the backend claims TrainingOptions.optimizer (momentum, Nesterov, weight decay): then
   * the "optimizer" cases check its steps against the float64 reference; otherwise they check
   * that it refuses a non-default optimizer by name. Default false.
   */
  optimizer?: boolean;
}

export interface ConformanceCase {
  /** "<group>: <what is checked>". */
  name: string;
  run: () => Promise<void>;
}

/** The groups of cases; `skip` accepts these or full case names. */
export const CONFORMANCE_GROUPS = [
  'info',
  'forward',
  'sgd-step',
  'learns',
  'determinism',
  'weights',
  'rejects',
  'dispose',
  'optimizer',
] as const;

/** The optimizer cases' work: OPTIMIZER_STEPS steps of batch 5 at lr 0.1 with these options. */
export const OPTIMIZER_CASE = { momentum: 0.9, weightDecay: 5e-4, steps: 3, lr: 0.1, n: 5 } as const;

export const DEFAULT_TOLERANCE = { atol: 1e-4, rtol: 1e-3, update: 1e-2 } as const;

/** Learning-rate and step count of the "learns" case (full batch of the 32-image set). */
export const LEARN_STEPS = 12;
export const LEARN_LR = 0.1;

/**
 * Reference results depend only on the case (spec, seeds, n), so they are computed once per
 * process and shared when the suite runs for several backends. Treated as read-only.
 */
const referenceCache = new Map<string, unknown>();
function cached<T>(key: string, compute: () => T): T {
  if (!referenceCache.has(key)) referenceCache.set(key, compute());
  return referenceCache.get(key) as T;
}

interface Tol {
  atol: number;
  rtol: number;
  update: number;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(8) : String(v);
}

/**
 * Throws unless every |got[i] - want[i]| <= atol + rtol*|want[i]| (NaN never passes). The
 * message names the first offending value via `label(i)` and counts the others.
 */
export function assertClose(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: { atol: number; rtol: number },
  label: (i: number) => string = (i) => `[${i}]`,
): void {
  if (got.length !== want.length) {
    throw new Error(`${what}: expected ${want.length} values, got ${got.length}`);
  }
  let bad = 0;
  let first = -1;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    const ok = d <= tol.atol + tol.rtol * Math.abs(want[i]!);
    if (!ok) {
      bad++;
      if (first < 0) first = i;
    }
    if (!(d <= maxDiff)) maxDiff = d;
  }
  if (bad > 0) {
    const i = first;
    throw new Error(
      `${what}: ${label(i)} expected ${fmt(want[i]!)} got ${fmt(got[i]!)} ` +
        `(|diff| ${fmt(Math.abs(got[i]! - want[i]!))} > ${fmt(tol.atol + tol.rtol * Math.abs(want[i]!))} ` +
        `= atol ${tol.atol} + rtol ${tol.rtol}*|expected|); ${bad} of ${want.length} values out of ` +
        `tolerance, max |diff| ${fmt(maxDiff)}`,
    );
  }
}

/**
 * Trains `session` (created from `weights`) one SGD step per entry of `batchSizes` on the first n
 * samples of x/y, and checks each step's loss, then the final weights and the logits of the first
 * `predictImages` images, against the float64 reference run from the same weights. Throws,
 * naming the step or tensor, on the first mismatch. For backend tests of training paths the
 * conformance suite's single steps do not reach (several threads, uneven chunks, growing buffers).
 */
export async function expectTrainingFollowsReference(
  what: string,
  session: TrainingSession,
  spec: ModelSpec,
  weights: Weights,
  x: Float32Array,
  y: Int32Array,
  batchSizes: readonly number[],
  lr: number,
  predictImages = 3,
): Promise<void> {
  let want = weights;
  for (const [k, n] of batchSizes.entries()) {
    const loss = await session.trainStep(x, y, n, lr);
    const ref = referenceSgdStep(spec, want, x, y, n, lr);
    if (!(Math.abs(loss - ref.loss) <= 1e-5 * Math.max(1, ref.loss))) {
      throw new Error(`${what}: step ${k + 1} (batch ${n}) loss ${loss}, float64 reference ${ref.loss}`);
    }
    want = ref.weights;
  }
  const got = await session.getWeights();
  for (const [name, t] of want) {
    assertClose(`${what}: ${name} after ${batchSizes.length} steps`, got.get(name)!.data, t.data, { atol: 1e-5, rtol: 1e-4 });
  }
  if (predictImages > 0) {
    assertClose(`${what}: logits after training`, await session.predict(x, predictImages), referenceForward(spec, want, x, predictImages), { atol: 1e-4, rtol: 1e-3 });
  }
}

/** The work of expectFirstStepsFollowReference: one stratified, shuffled batch, plain SGD. */
export const FIRST_STEPS = { images: 32, steps: 3, lr: 0.1, seed: 0 } as const;

/**
 * The real-data check backend tests share: from the shared seeded init (initWeights(spec, 0)),
 * the first FIRST_STEPS.steps SGD steps of a training session on one shuffled batch of
 * FIRST_STEPS.images images of `train` (stratified subset, Batcher seed 0) follow the float64
 * reference step by step (expectTrainingFollowsReference: each loss, then the weights and the
 * logits). Creates and disposes its own session. Loading the split (and skipping when it is not
 * installed) is the caller's: this package does not read files.
 */
export async function expectFirstStepsFollowReference(
  backend: TrainingBackend,
  spec: ModelSpec,
  train: ImageSplit,
  options: SessionOptions = {},
): Promise<void> {
  const { images, steps, lr, seed } = FIRST_STEPS;
  const batch = new Batcher(stratifiedSubset(train, images, seed), { batchSize: images, seed }).epoch(0).next().value!;
  const session = await backend.createTrainingSession(spec, initWeights(spec, seed), options);
  try {
    const what = `${backend.name} ${spec.name}`;
    await expectTrainingFollowsReference(what, session, spec, initWeights(spec, seed), batch.x, batch.y, Array(steps).fill(batch.n), lr);
    const weights = await session.getWeights();
    if (weights.size !== paramInfos(spec).length) throw new Error(`${what}: getWeights() has ${weights.size} tensors, expected ${paramInfos(spec).length}`);
  } finally {
    await session.dispose();
  }
}

function assertIdentical(what: string, got: ArrayLike<number>, want: ArrayLike<number>, label = (i: number) => `[${i}]`): void {
  if (got.length !== want.length) throw new Error(`${what}: expected ${want.length} values, got ${got.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) {
      throw new Error(`${what}: ${label(i)} differs: expected ${want[i]} got ${got[i]} (bit-identical required)`);
    }
  }
}


/**
 * The update w_after − w_before (tiny next to the weights) must match the reference update as a
 * vector, within `rel`·||reference update|| plus float32 rounding of the stored weights, so that
 * a no-op, a wrong sign or a wrong scale cannot hide inside the weights' tolerance.
 */
function assertUpdateMatches(what: string, w0: Float32Array, got: Float32Array, want: Float32Array, rel: number): void {
  let refNorm = 0;
  let errNorm = 0;
  let roundNorm = 0;
  for (let i = 0; i < w0.length; i++) {
    const dr = want[i]! - w0[i]!;
    const dg = got[i]! - w0[i]!;
    refNorm += dr * dr;
    errNorm += (dg - dr) * (dg - dr);
    // float32 rounding of the stored weight: up to 1 ulp each for backend and reference.
    const ulp = Math.max(Math.abs(w0[i]!), Math.abs(want[i]!)) * 2 ** -23;
    roundNorm += 4 * ulp * ulp;
  }
  const allowed = rel * Math.sqrt(refNorm) + Math.sqrt(roundNorm);
  if (!(Math.sqrt(errNorm) <= allowed)) {
    throw new Error(
      `${what} (w_after - w_before) differs from the reference: ` +
        `||update - reference update|| = ${fmt(Math.sqrt(errNorm))} > ${fmt(allowed)} ` +
        `(${rel} * ||reference update|| ${fmt(Math.sqrt(refNorm))} + float32 rounding ${fmt(Math.sqrt(roundNorm))})`,
    );
  }
}

function logitLabel(classes: number): (i: number) => string {
  return (i) => `logit [sample ${Math.floor(i / classes)}, class ${i % classes}]`;
}

function weightLabel(shape: number[]): (i: number) => string {
  return (i) => {
    const idx: number[] = [];
    let r = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx.unshift(r % shape[d]!);
      r = Math.floor(r / shape[d]!);
    }
    return `element [${idx.join(', ')}]`;
  };
}

/** Checks that getWeights() has the spec's params, in canonical order, with exact shapes. */
function assertWeightsLayout(what: string, spec: ModelSpec, w: Weights): void {
  if (!(w instanceof Map)) throw new Error(`${what}: getWeights() must return a Map, got ${typeof w}`);
  const expected = paramInfos(spec).map((p) => p.name);
  const got = [...w.keys()];
  if (expected.join(',') !== got.join(',')) {
    throw new Error(`${what}: expected parameters [${expected.join(', ')}] in this order, got [${got.join(', ')}]`);
  }
  for (const p of paramInfos(spec)) {
    const t = w.get(p.name)!;
    if (t.shape.join(',') !== p.shape.join(',')) {
      throw new Error(`${what}: ${p.name} has shape [${t.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
    }
    if (!(t.data instanceof Float32Array) || t.data.length !== p.shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`${what}: ${p.name} data must be a Float32Array of ${p.shape.reduce((a, b) => a * b, 1)} values`);
    }
  }
}

function assertWeightsIdentical(what: string, spec: ModelSpec, got: Weights, want: Weights): void {
  assertWeightsLayout(what, spec, got);
  for (const p of paramInfos(spec)) {
    assertIdentical(`${what}: ${p.name}`, got.get(p.name)!.data, want.get(p.name)!.data, weightLabel(p.shape));
  }
}

function copyWeights(w: Weights): Weights {
  const out: Weights = new Map();
  for (const [k, t] of w) out.set(k, { shape: [...t.shape], data: t.data.slice() });
  return out;
}

function isRejection(e: unknown): e is Error {
  return (
    e instanceof BackendInputError ||
    e instanceof WeightsError ||
    (e instanceof Error && (e.name === 'BackendInputError' || e.name === 'WeightsError'))
  );
}

/** Runs `fn` and requires a BackendInputError/WeightsError whose message contains `mustMention`. */
async function expectRejection(what: string, fn: () => Promise<unknown>, mustMention?: string): Promise<void> {
  let result: unknown;
  try {
    result = await fn();
  } catch (e) {
    if (!isRejection(e)) {
      const desc = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new Error(`${what}: expected a BackendInputError (or WeightsError), got ${desc}`);
    }
    if (mustMention !== undefined && !e.message.includes(mustMention)) {
      throw new Error(`${what}: the error message should name "${mustMention}", got: ${e.message}`);
    }
    return;
  }
  throw new Error(`${what}: expected a BackendInputError, but the call succeeded (returned ${describe(result)})`);
}

function describe(v: unknown): string {
  if (v instanceof Float32Array) return `Float32Array(${v.length})`;
  if (typeof v === 'object' && v !== null) return (v as object).constructor?.name ?? 'object';
  return String(v);
}

interface Model {
  id: string;
  spec: ModelSpec;
}

function models(): Model[] {
  return [
    { id: 'lenet5', spec: getPreset('lenet5') },
    { id: 'lenet5-modern', spec: getPreset('lenet5-modern') },
    { id: 'variant (stride 2, padding, tanh, overlapping max pool)', spec: CONFORMANCE_VARIANT },
  ];
}

/**
 * Builds the list of conformance cases for `backend`. Training cases are included only when
 * the backend has createTrainingSession.
 */
export function conformanceSuite(backend: Backend, options: ConformanceOptions = {}): ConformanceCase[] {
  const tol: Tol = { ...DEFAULT_TOLERANCE, ...options.tolerance };
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: () => Promise<void>) => cases.push({ name, run });

  const threadOption = (): SessionOptions => (options.threads !== undefined ? { threads: options.threads } : {});
  const createTraining = backend.createTrainingSession?.bind(backend);

  async function using<S extends BackendSession, T>(session: S, fn: (s: S) => Promise<T>): Promise<T> {
    try {
      return await fn(session);
    } finally {
      await session.dispose();
    }
  }

  /** An inference session (createSession), disposed after fn. */
  function withSession<T>(spec: ModelSpec, weights: Weights, maxBatchSize: number, fn: (s: BackendSession) => Promise<T>): Promise<T> {
    return backend.createSession(spec, weights, { ...threadOption(), maxBatchSize }).then((s) => using(s, fn));
  }

  /** A training session (createTrainingSession), disposed after fn; only called by training cases. */
  function withTrainingSession<T>(spec: ModelSpec, weights: Weights, maxBatchSize: number, fn: (s: TrainingSession) => Promise<T>): Promise<T> {
    return createTraining!(spec, weights, { ...threadOption(), maxBatchSize }).then((s) => using(s, fn));
  }

  async function predictChecked(what: string, s: BackendSession, x: Float32Array, n: number, classes: number) {
    const logits = await s.predict(x, n);
    if (!(logits instanceof Float32Array)) {
      throw new Error(`${what}: predict must resolve to a Float32Array, got ${describe(logits)}`);
    }
    if (logits.length !== n * classes) {
      throw new Error(`${what}: predict returned ${logits.length} logits, expected n*classes = ${n}*${classes} = ${n * classes}`);
    }
    return logits;
  }

  // ---- info -------------------------------------------------------------------------------
  add('info: available() resolves to true and info() describes the runtime', async () => {
    const a = await backend.available();
    if (a !== true) throw new Error(`${backend.name}: available() resolved to ${JSON.stringify(a)}, expected true`);
    const info = await backend.info(options.threads !== undefined ? { threads: options.threads } : undefined);
    if (typeof info?.runtime !== 'string' || info.runtime.length === 0) {
      throw new Error(`${backend.name}: info().runtime must be a non-empty string, got ${JSON.stringify(info?.runtime)}`);
    }
    if (typeof info.versions !== 'object' || info.versions === null) {
      throw new Error(`${backend.name}: info().versions must be an object of package versions`);
    }
    if (typeof backend.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(backend.name)) {
      throw new Error(`backend name must be a lowercase id like "plain" or "ort-node", got ${JSON.stringify(backend.name)}`);
    }
  });

  // ---- forward ----------------------------------------------------------------------------
  for (const [mi, m] of models().entries()) {
    for (const n of [1, 7]) {
      add(`forward: ${m.id}, batch ${n}, logits match the reference`, async () => {
        const weights = conformanceWeights(m.spec, 100 + mi);
        const size = inputSize(m.spec);
        const classes = numClasses(m.spec);
        const x = randomImages(200 + 10 * mi + n, n, size);
        const want = cached(`forward/${m.id}/${n}`, () => referenceForward(m.spec, weights, x, n));
        const got = await withSession(m.spec, weights, n, (s) =>
          predictChecked(`forward ${m.id} n=${n}`, s, x, n, classes),
        );
        assertClose(`forward ${m.id} n=${n}`, got, want, tol, logitLabel(classes));
      });
    }
  }

  add('forward: reads only the first n images of a longer buffer', async () => {
    const spec = getPreset('lenet5');
    const weights = conformanceWeights(spec, 110);
    const size = inputSize(spec);
    const n = 3;
    const x = new Float32Array((n + 2) * size).fill(Number.NaN); // capacity 5, 3 valid images
    x.set(randomImages(210, n, size));
    const want = referenceForward(spec, weights, x, n);
    const got = await withSession(spec, weights, n + 2, (s) => predictChecked('forward longer buffer', s, x, n, 10));
    assertClose('forward with a buffer longer than n images (extra values are NaN)', got, want, tol, logitLabel(10));
  });

  add('forward: accepts a Float32Array view with a byte offset', async () => {
    const spec = getPreset('lenet5-modern');
    const weights = conformanceWeights(spec, 111);
    const size = inputSize(spec);
    const n = 2;
    const backing = new Float32Array((n + 1) * size).fill(Number.NaN);
    backing.set(randomImages(211, n, size), size);
    const x = backing.subarray(size, size + n * size); // byteOffset = size * 4
    const want = referenceForward(spec, weights, x, n);
    const got = await withSession(spec, weights, n, (s) => predictChecked('forward view', s, x, n, 10));
    assertClose(`forward on a view at byteOffset ${x.byteOffset}`, got, want, tol, logitLabel(10));
  });

  // ---- sgd-step ---------------------------------------------------------------------------
  if (createTraining) {
    for (const [mi, m] of models().entries()) {
      add(`sgd-step: ${m.id}, batch 5, loss and weights after one step match the reference`, async () => {
        const spec = m.spec;
        const before = conformanceWeights(spec, 300 + mi);
        const size = inputSize(spec);
        const classes = numClasses(spec);
        const n = 5;
        const lr = 0.1;
        // Buffers longer than n (NaN images / invalid labels after the first n) as the Batcher's are.
        const x = new Float32Array((n + 1) * size).fill(Number.NaN);
        x.set(randomImages(400 + mi, n, size));
        const y = new Int32Array(n + 1).fill(-1);
        y.set(randomLabels(500 + mi, n, classes));
        const ref = cached(`sgd-step/${m.id}`, () => referenceSgdStep(spec, before, x, y, n, lr));
        const { loss, after, logitsAfter } = await withTrainingSession(spec, before, n + 1, async (s) => {
          // Predict first (and on the same x object afterwards) to catch stale forward caches.
          await predictChecked(`sgd-step ${m.id}: predict before the step`, s, x, n, classes);
          const loss = await s.trainStep(x, y, n, lr);
          const after = await s.getWeights();
          const logitsAfter = await predictChecked(`sgd-step ${m.id}: predict after the step`, s, x, n, classes);
          return { loss, after, logitsAfter };
        });
        if (typeof loss !== 'number') throw new Error(`sgd-step ${m.id}: trainStep must resolve to a number, got ${describe(loss)}`);
        assertClose(`sgd-step ${m.id}: returned loss (before the update)`, [loss], [ref.loss], tol, () => 'loss');
        assertWeightsLayout(`sgd-step ${m.id}: getWeights()`, spec, after);
        for (const p of paramInfos(spec)) {
          const w0 = before.get(p.name)!.data;
          const got = after.get(p.name)!.data;
          const want = ref.weights.get(p.name)!.data;
          assertClose(`sgd-step ${m.id}: ${p.name} after the step`, got, want, tol, weightLabel(p.shape));
          // The update itself (tiny next to the weights) must match as a vector, so that a
          // no-op, a wrong sign or a wrong scale cannot hide inside the weights' tolerance.
          assertUpdateMatches(`sgd-step ${m.id}: the update of ${p.name}`, w0, got, want, tol.update);
        }
        assertClose(
          `sgd-step ${m.id}: predict after the step (must use the updated weights)`,
          logitsAfter,
          cached(`sgd-step/${m.id}/after`, () => referenceForward(spec, ref.weights, x, n)),
          tol,
          logitLabel(classes),
        );
      });
    }

    add('sgd-step: lr = 0 returns the loss and leaves the weights unchanged', async () => {
      const spec = getPreset('lenet5-modern');
      const before = conformanceWeights(spec, 310);
      const n = 2;
      const x = randomImages(410, n, inputSize(spec));
      const y = randomLabels(510, n, 10);
      const ref = referenceSgdStep(spec, before, x, y, n, 0);
      await withTrainingSession(spec, before, n, async (s) => {
        const loss = await s.trainStep(x, y, n, 0);
        assertClose('sgd-step lr=0: returned loss', [loss], [ref.loss], tol, () => 'loss');
        assertWeightsIdentical('sgd-step lr=0: weights after the step', spec, await s.getWeights(), before);
      });
    });

    // ---- learns ---------------------------------------------------------------------------
    add(`learns: lenet5-modern fits 32 separable images in ${LEARN_STEPS} full-batch steps`, async () => {
      const spec = getPreset('lenet5-modern');
      const { x, y, n } = learnSet();
      await withTrainingSession(spec, conformanceWeights(spec, 42), n, async (s) => {
        const step = s.trainStep.bind(s);
        const initial = softmaxCrossEntropy(await predictChecked('learns', s, x, n, 10), y, n, 10);
        const losses: number[] = [];
        for (let i = 0; i < LEARN_STEPS; i++) {
          const loss = await step(x, y, n, LEARN_LR);
          if (!Number.isFinite(loss)) throw new Error(`learns: step ${i + 1} returned loss ${loss}`);
          losses.push(loss);
        }
        const final = softmaxCrossEntropy(await predictChecked('learns', s, x, n, 10), y, n, 10);
        const acc = final.correct / n;
        const trace = `step losses ${losses.filter((_, i) => i % 5 === 0 || i === losses.length - 1).map((v) => v.toFixed(3)).join(' ')}`;
        if (Math.abs(losses[0]! - initial.loss) > tol.atol + tol.rtol * initial.loss) {
          throw new Error(`learns: first step's loss ${fmt(losses[0]!)} differs from the loss of predict ${fmt(initial.loss)}`);
        }
        if (acc < 0.9) throw new Error(`learns: train accuracy ${acc.toFixed(3)} < 0.9 after ${LEARN_STEPS} steps (${trace})`);
        if (!(final.loss <= initial.loss / 10)) {
          throw new Error(`learns: loss went from ${fmt(initial.loss)} to ${fmt(final.loss)}, expected a drop of at least 10x (${trace})`);
        }
      });
    });
  }

  // ---- determinism ------------------------------------------------------------------------
  add('determinism: predict twice gives bit-identical logits and leaves x unchanged', async () => {
    const spec = CONFORMANCE_VARIANT;
    const weights = conformanceWeights(spec, 120);
    const n = 4;
    const x = randomImages(220, n, inputSize(spec));
    const xCopy = x.slice();
    await withSession(spec, weights, n, async (s) => {
      const a = await predictChecked('determinism', s, x, n, 10);
      const b = await predictChecked('determinism', s, x, n, 10);
      assertIdentical('determinism: second predict', b, a, logitLabel(10));
      if (a === b) throw new Error('determinism: predict returned the same array twice; logits must be owned by the caller');
      assertIdentical('determinism: x after predict', x, xCopy);
    });
  });

  if (createTraining) {
    add('determinism: two sessions trained on the same batches end bit-identical', async () => {
      const spec = getPreset('lenet5');
      const weights = conformanceWeights(spec, 121);
      const n = 4;
      const size = inputSize(spec);
      const batches = [0, 1, 2].map((i) => ({ x: randomImages(600 + i, n, size), y: randomLabels(700 + i, n, 10) }));
      const copies = batches.map((b) => ({ x: b.x.slice(), y: b.y.slice() }));
      const run = () =>
        withTrainingSession(spec, weights, n, async (s) => {
          const losses: number[] = [];
          for (const b of batches) losses.push(await s.trainStep(b.x, b.y, n, 0.1));
          return { losses, w: await s.getWeights() };
        });
      const a = await run();
      const b = await run();
      assertIdentical('determinism: losses of the second run', b.losses, a.losses, (i) => `step ${i + 1}`);
      assertWeightsIdentical('determinism: weights of the second run', spec, b.w, a.w);
      batches.forEach((bt, i) => {
        assertIdentical(`determinism: x of batch ${i} after trainStep`, bt.x, copies[i]!.x);
        assertIdentical(`determinism: y of batch ${i} after trainStep`, bt.y, copies[i]!.y);
      });
    });
  }

  // ---- weights ----------------------------------------------------------------------------
  add('weights: getWeights after createSession equals the initial weights exactly', async () => {
    for (const m of models()) {
      const weights = conformanceWeights(m.spec, 130);
      const got = await withSession(m.spec, weights, 1, (s) => s.getWeights());
      assertWeightsIdentical(`weights ${m.id}: getWeights()`, m.spec, got, weights);
    }
  });

  add('weights: createSession copies the weights (later changes to the input do not leak in)', async () => {
    const spec = getPreset('lenet5-modern');
    const weights = conformanceWeights(spec, 131);
    const original = copyWeights(weights);
    const x = randomImages(231, 2, inputSize(spec));
    const want = referenceForward(spec, original, x, 2);
    await withSession(spec, weights, 2, async (s) => {
      for (const t of weights.values()) t.data.fill(0.5);
      weights.delete('fc3.bias');
      assertWeightsIdentical('weights after mutating the createSession input', spec, await s.getWeights(), original);
      assertClose('predict after mutating the createSession input', await predictChecked('copy', s, x, 2, 10), want, tol, logitLabel(10));
    });
  });

  add('weights: getWeights returns a copy (mutating it does not change the session)', async () => {
    const spec = getPreset('lenet5');
    const weights = conformanceWeights(spec, 132);
    const x = randomImages(232, 2, inputSize(spec));
    const want = referenceForward(spec, weights, x, 2);
    await withSession(spec, weights, 2, async (s) => {
      const first = await s.getWeights();
      for (const t of first.values()) t.data.fill(-3);
      assertWeightsIdentical('second getWeights after mutating the first result', spec, await s.getWeights(), weights);
      assertClose('predict after mutating a getWeights result', await predictChecked('copy', s, x, 2, 10), want, tol, logitLabel(10));
    });
  });

  // ---- rejects ----------------------------------------------------------------------------
  {
    const spec = getPreset('lenet5');
    const infos = paramInfos(spec);
    const missing = infos[3]!.name; // conv2.bias
    const reshaped = infos.find((p) => p.kind === 'weight' && p.shape.length === 2)!; // fc1.weight [120, 400]
    const nanParam = infos[0]!.name; // conv1.weight
    const badWeights: { what: string; mention: string; make: () => Weights }[] = [
      {
        what: `a missing parameter (${missing})`,
        mention: missing,
        make: () => {
          const w = conformanceWeights(spec, 140);
          w.delete(missing);
          return w;
        },
      },
      {
        what: `a transposed shape (${reshaped.name} as [${[...reshaped.shape].reverse().join(', ')}])`,
        mention: reshaped.name,
        make: () => {
          const w = conformanceWeights(spec, 140);
          const t = w.get(reshaped.name)!;
          w.set(reshaped.name, { shape: [...t.shape].reverse(), data: t.data });
          return w;
        },
      },
      {
        what: 'an extra parameter (fc9.weight)',
        mention: 'fc9.weight',
        make: () => {
          const w = conformanceWeights(spec, 140);
          w.set('fc9.weight', { shape: [2, 2], data: new Float32Array(4) });
          return w;
        },
      },
      {
        what: `a NaN value (${nanParam}[5])`,
        mention: nanParam,
        make: () => {
          const w = conformanceWeights(spec, 140);
          w.get(nanParam)!.data[5] = Number.NaN;
          return w;
        },
      },
      {
        what: `a data length that does not match the shape (${infos[1]!.name})`,
        mention: infos[1]!.name,
        make: () => {
          const w = conformanceWeights(spec, 140);
          const t = w.get(infos[1]!.name)!;
          w.set(infos[1]!.name, { shape: t.shape, data: t.data.subarray(1) });
          return w;
        },
      },
    ];
    // A training backend's createTrainingSession must check its input as createSession does.
    const creators: [string, Backend['createSession']][] = [['createSession', backend.createSession.bind(backend)]];
    if (createTraining) creators.push(['createTrainingSession', createTraining]);
    for (const b of badWeights) {
      add(`rejects: createSession with ${b.what}`, async () => {
        for (const [method, create] of creators) {
          await expectRejection(`${method} with ${b.what}`, async () => {
            const s = await create(spec, b.make(), threadOption());
            await s.dispose();
            return s;
          }, b.mention);
        }
      });
    }

    add('rejects: createSession with options.threads outside [1, MAX_THREADS] (one rule for every backend)', async () => {
      for (const [method, create] of creators) {
        for (const threads of [0, -1, 1.5, Number.NaN, MAX_THREADS + 1]) {
          await expectRejection(`${method} with threads ${threads}`, async () => {
            const s = await create(spec, conformanceWeights(spec, 142), { threads });
            await s.dispose();
            return s;
          }, `options.threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
        }
      }
    });

    add('rejects: predict with bad n or a too short x', async () => {
      const size = inputSize(spec);
      await withSession(spec, conformanceWeights(spec, 141), 2, async (s) => {
        const x = randomImages(241, 2, size);
        await expectRejection('predict(x of 2 images minus one value, n = 2)', () => s.predict(x.subarray(0, 2 * size - 1), 2));
        await expectRejection('predict(x, n = 3) with 2 images in x', () => s.predict(x, 3));
        await expectRejection('predict(x, n = 0)', () => s.predict(x, 0));
        await expectRejection('predict(x, n = -1)', () => s.predict(x, -1));
        await expectRejection('predict(x, n = 1.5)', () => s.predict(x, 1.5));
        await expectRejection('predict(x, n = NaN)', () => s.predict(x, Number.NaN));
        // The session still works after rejected calls.
        await predictChecked('predict after rejections', s, x, 2, 10);
      });
    });

    if (createTraining) {
      add('rejects: trainStep with bad labels, n, x or lr, leaving the weights unchanged', async () => {
        const size = inputSize(spec);
        const weights = conformanceWeights(spec, 142);
        await withTrainingSession(spec, weights, 2, async (s) => {
          const step = s.trainStep.bind(s);
          const x = randomImages(242, 2, size);
          const y = Int32Array.of(3, 7);
          await expectRejection('trainStep with label 10 (10 classes)', () => step(x, Int32Array.of(3, 10), 2, 0.1));
          await expectRejection('trainStep with label -1', () => step(x, Int32Array.of(-1, 3), 2, 0.1));
          await expectRejection('trainStep with 1 label for n = 2', () => step(x, Int32Array.of(3), 2, 0.1));
          await expectRejection('trainStep with x one value short', () => step(x.subarray(0, 2 * size - 1), y, 2, 0.1));
          await expectRejection('trainStep with n = 0', () => step(x, y, 0, 0.1));
          await expectRejection('trainStep with n = 1.5', () => step(x, y, 1.5, 0.1));
          await expectRejection('trainStep with lr = NaN', () => step(x, y, 2, Number.NaN));
          await expectRejection('trainStep with lr = -0.1', () => step(x, y, 2, -0.1));
          await expectRejection('trainStep with lr = Infinity', () => step(x, y, 2, Infinity));
          assertWeightsIdentical('weights after rejected trainStep calls', spec, await s.getWeights(), weights);
        });
      });
    }
  }

  // ---- dispose ----------------------------------------------------------------------------
  add('dispose: resolves, and other sessions keep working', async () => {
    const spec = getPreset('lenet5-modern');
    const weights = conformanceWeights(spec, 150);
    const x = randomImages(250, 2, inputSize(spec));
    const opts = threadOption();
    const a = await backend.createSession(spec, weights, opts);
    // A training backend's second session is a training one, to check it still trains.
    const b: BackendSession & Partial<TrainingSession> = createTraining ? await createTraining(spec, weights, opts) : await backend.createSession(spec, weights, opts);
    try {
      const before = await predictChecked('dispose', b, x, 2, 10);
      await a.dispose();
      const after = await predictChecked('predict on another session after dispose', b, x, 2, 10);
      assertClose('logits of a live session after disposing another one', after, before, tol, logitLabel(10));
      if (b.trainStep) await b.trainStep(x, Int32Array.of(1, 2), 2, 0.1);
    } finally {
      await b.dispose();
    }
  });

  // ---- optimizer --------------------------------------------------------------------------
  if (createTraining) {
    const { momentum, weightDecay, steps, lr, n } = OPTIMIZER_CASE;
    const withOptimizer = (spec: ModelSpec, weights: Weights, optimizer: OptimizerOptions): Promise<TrainingSession> =>
      createTraining(spec, weights, { ...threadOption(), maxBatchSize: n, optimizer } satisfies TrainingOptions);
    const optimizerData = (spec: ModelSpec) => ({
      x: randomImages(420, n, inputSize(spec)),
      y: randomLabels(520, n, numClasses(spec)),
    });

    add('optimizer: bad momentum, weightDecay or nesterov are rejected by name', async () => {
      const spec = getPreset('lenet5-modern');
      const weights = conformanceWeights(spec, 320);
      const bad: [OptimizerOptions, string][] = [
        [{ momentum: 1 }, 'momentum'],
        [{ momentum: -0.1 }, 'momentum'],
        [{ momentum: Number.NaN }, 'momentum'],
        [{ weightDecay: -1e-4 }, 'weightDecay'],
        [{ weightDecay: Number.POSITIVE_INFINITY }, 'weightDecay'],
        [{ nesterov: true }, 'nesterov'],
      ];
      for (const [optimizer, field] of bad) {
        await expectRejection(`optimizer ${JSON.stringify(optimizer)}`, () => withOptimizer(spec, weights, optimizer).then((s) => s.dispose()), field);
      }
    });

    add('optimizer: all-default options train exactly as plain SGD', async () => {
      const spec = getPreset('lenet5-modern');
      const weights = conformanceWeights(spec, 321);
      const { x, y } = optimizerData(spec);
      const plain = await withTrainingSession(spec, weights, n, async (s) => {
        await s.trainStep(x, y, n, lr);
        return s.getWeights();
      });
      const s = await withOptimizer(spec, weights, { momentum: 0, weightDecay: 0, nesterov: false });
      const got = await using(s, async () => {
        await s.trainStep(x, y, n, lr);
        return s.getWeights();
      });
      assertWeightsIdentical('optimizer: momentum 0, weight decay 0', spec, got, plain);
    });

    if (options.optimizer) {
      for (const nesterov of [false, true]) {
        const optimizer: OptimizerOptions = { momentum, weightDecay, nesterov };
        add(`optimizer: momentum ${momentum}${nesterov ? ' nesterov' : ''}, weight decay ${weightDecay}: ${steps} steps follow the reference, state per session`, async () => {
          const spec = CONFORMANCE_VARIANT;
          const before = conformanceWeights(spec, 330);
          const { x, y } = optimizerData(spec);
          const ref = cached(`optimizer/${nesterov}`, () => referenceTrainSteps(spec, before, Array.from({ length: steps }, () => ({ x, y, n, lr })), optimizer));
          const run = async (): Promise<{ losses: number[]; after: Weights }> => {
            const s = await withOptimizer(spec, before, optimizer);
            return using(s, async () => {
              const losses: number[] = [];
              for (let k = 0; k < steps; k++) losses.push(await s.trainStep(x, y, n, lr));
              return { losses, after: await s.getWeights() };
            });
          };
          const first = await run();
          assertClose(`optimizer: losses of ${steps} steps`, first.losses, ref.losses, tol, (k) => `step ${k + 1}`);
          assertWeightsLayout('optimizer: getWeights()', spec, first.after);
          for (const p of paramInfos(spec)) {
            const got = first.after.get(p.name)!.data;
            const want = ref.weights.get(p.name)!.data;
            assertClose(`optimizer: ${p.name} after ${steps} steps`, got, want, tol, weightLabel(p.shape));
            assertUpdateMatches(`optimizer: the ${steps}-step update of ${p.name}`, before.get(p.name)!.data, got, want, tol.update);
          }
          // A second session starts from zero velocity: the same run gives the same weights.
          const second = await run();
          assertWeightsIdentical('optimizer: a second session (its own momentum state)', spec, second.after, first.after);
        });
      }
    } else {
      add('optimizer: a non-default optimizer is refused by name (this backend trains with plain SGD only)', async () => {
        const spec = getPreset('lenet5-modern');
        const weights = conformanceWeights(spec, 322);
        for (const optimizer of [{ momentum }, { weightDecay }] satisfies OptimizerOptions[]) {
          await expectRejection(`${backend.name} with optimizer ${JSON.stringify(optimizer)}`, () => withOptimizer(spec, weights, optimizer).then((s) => s.dispose()), backend.name);
          await expectRejection(`${backend.name} with optimizer ${JSON.stringify(optimizer)}`, () => withOptimizer(spec, weights, optimizer).then((s) => s.dispose()), Object.keys(optimizer)[0] === 'momentum' ? 'momentum' : 'weight decay');
        }
      });
    }
  }

  return applySkip(cases, options.skip ?? []);
}

function groupOf(name: string): string {
  return name.slice(0, name.indexOf(':'));
}

function applySkip(cases: ConformanceCase[], skip: string[]): ConformanceCase[] {
  for (const s of skip) {
    if (!cases.some((c) => c.name === s || groupOf(c.name) === s)) {
      throw new Error(
        `conformanceSuite: skip entry ${JSON.stringify(s)} matches no case; use a group ` +
          `(${CONFORMANCE_GROUPS.join(', ')}) or a full case name`,
      );
    }
  }
  return cases.filter((c) => !skip.some((s) => c.name === s || groupOf(c.name) === s));
}
