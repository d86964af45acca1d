/**
 * The "Train in the browser" section: a form with two recipes (the default that learns within a
 * minute: lenet5-modern on 6,000 images; and d2l's: lenet5, all images, 10 epochs, with a note
 * on its two-epoch plateau), d2l's animated curve (loss and accuracy panels), progress with an
 * overall ETA, a stop button, "use these weights" (the page's grid, maps, canvas and benchmark)
 * and a download of the weights as safetensors in the format `lenet-bench train` writes (so
 * `lenet-bench eval --weights` reads them back).
 * Every backend of the page's table can be chosen; those whose Backend cannot train (or that
 * this browser lacks) say so instead of training. Also the `window.lenetBench.train()` API.
 */
import { canTrain } from '@lenet/core';
import { CATALOG, gunzipWeb, parseImageSplit, stratifiedSubset, type DatasetName, type ImageSplit } from '@lenet/datasets';
import { encodeSafetensors, getPreset, PRESET_NAMES, summarize, type ModelSpec, type Weights } from '@lenet/model';
import { BROWSER_BACKENDS, TRAIN_TARGETS } from './backends.js';
import { CHANCE_ACCURACY, isNearChance, trainingChanceNote, type WeightsQuality } from './chance.js';
import { fetchBytes, type LoadedModel } from './data.js';
import { trainOnBackend } from './train.js';
import { renderTrainPlot } from './train-plot.js';
import { TRAIN_REQUEST_DEFAULTS, type BrowserTraining, type TrainCurvePoint, type TrainEvent, type TrainRequest } from './types.js';
import type { TrainJob, TrainWorkerIn, TrainWorkerOut } from './train.worker.js';
import { el } from './ui.js';

export class TrainRequestError extends Error {
  override name = 'TrainRequestError';
}

export interface TrainPanelContext {
  dataset(): DatasetName;
  /** The full test split the page loaded. */
  testSplit(): ImageSplit;
  versions(): Promise<Record<string, string>>;
  setStatus(text: string, error?: boolean): void;
  /** "Use these weights": the page predicts and benchmarks with `model` from now on. */
  useWeights(model: LoadedModel, accuracy: WeightsQuality['accuracy']): void;
  /** The model the page predicts with now (MODEL_CHANGE_EVENT on document when it changes). */
  modelInUse(): LoadedModel;
}

export interface TrainedWeights {
  fileName: string;
  bytes: Uint8Array;
  model: LoadedModel;
  accuracy: WeightsQuality['accuracy'];
}

/** The form's recipes: what the fields are set to by each button. */
interface Recipe {
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  trainLimit: string;
  testLimit: string;
  note: string;
}

export const RECIPES: Record<'quick' | 'd2l', Recipe> = {
  // Learns visibly within a minute on 2 shared vCPUs (plain-wasm: ~80 % test accuracy).
  quick: {
    model: 'lenet5-modern', epochs: 5, batchSize: 128, lr: 0.1, trainLimit: '6000', testLimit: '1000',
    note: 'Quick (default): lenet5-modern (ReLU, max-pooling) on a 6,000-image stratified subset, 5 epochs, batch 128, lr 0.1 — leaves chance within the first epoch and ends near 80 %, in under a minute.',
  },
  d2l: {
    model: 'lenet5', epochs: 10, batchSize: 128, lr: 0.1, trainLimit: 'all', testLimit: 'all',
    note:
      'd2l 7.6 recipe: lenet5 (sigmoid, average pooling), all 60,000 images, 10 epochs, batch 128, lr 0.1 — the book’s run (about 73 % after 10 epochs), a few minutes in a browser. ' +
      'Expect a flat curve first: the sigmoid LeNet sits at chance (10 %, loss ≈ 2.30) for about two epochs before it learns.',
  },
};

/** Dispatched on `document` whenever the page's model changes. */
export const MODEL_CHANGE_EVENT = 'lenet-model-change';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (v: number, digits: number) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** m:ss (or h:mm:ss). */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return hms[0] ? `${hms[0]}:${String(hms[1]).padStart(2, '0')}:${String(hms[2]).padStart(2, '0')}` : `${hms[1]}:${String(hms[2]).padStart(2, '0')}`;
}

/** Checks a request from the API or the form; errors name the field and what was expected. */
export function checkTrainRequest(input: Partial<TrainRequest> & { backend: string }): TrainRequest {
  const req: TrainRequest = { ...TRAIN_REQUEST_DEFAULTS, ...input };
  if (!TRAIN_TARGETS.has(req.backend)) throw new TrainRequestError(`train: backend must be one of ${[...TRAIN_TARGETS.keys()].join(', ')}, got "${req.backend}"`);
  if (!(PRESET_NAMES as readonly string[]).includes(req.model)) throw new TrainRequestError(`train: model must be one of ${PRESET_NAMES.join(', ')}, got "${req.model}"`);
  const posInt = (name: keyof TrainRequest, nullable: boolean) => {
    const v = req[name];
    if (nullable && v === null) return;
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new TrainRequestError(`train: ${name} must be a positive integer${nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
  };
  for (const k of ['epochs', 'batchSize'] as const) posInt(k, false);
  for (const k of ['trainLimit', 'testLimit', 'maxStepsPerEpoch', 'evalEverySteps', 'threads'] as const) posInt(k, true);
  if (!(typeof req.lr === 'number' && Number.isFinite(req.lr) && req.lr > 0)) throw new TrainRequestError(`train: lr must be a finite number > 0, got ${JSON.stringify(req.lr)}`);
  if (!(Number.isInteger(req.seed) && req.seed >= 0)) throw new TrainRequestError(`train: seed must be a non-negative integer, got ${JSON.stringify(req.seed)}`);
  if (!(Number.isInteger(req.trainAccImages) && req.trainAccImages >= 0)) throw new TrainRequestError(`train: trainAccImages must be a non-negative integer, got ${JSON.stringify(req.trainAccImages)}`);
  return req;
}

/** Backend ids of the page's table that can train (inference-only ones excluded). */
export function trainableIds(): string[] {
  return [...TRAIN_TARGETS].filter(([, t]) => t.where === 'web worker' || canTrain(t.backend)).map(([id]) => id);
}

const trainSplits = new Map<DatasetName, Promise<ImageSplit>>();

/** The train split from the server's /lenet-data/ route (the same files `lenet-bench train` reads). */
function loadTrainSplit(dataset: DatasetName): Promise<ImageSplit> {
  let p = trainSplits.get(dataset);
  if (!p) {
    const files = CATALOG[dataset].files.train;
    const base = `${import.meta.env.BASE_URL}lenet-data/${dataset}/`;
    p = Promise.all([
      fetchBytes(base + files.images.file, 'train images').then((b) => gunzipWeb(b, files.images.file)),
      fetchBytes(base + files.labels.file, 'train labels').then((b) => gunzipWeb(b, files.labels.file)),
    ]).then(([img, lab]) => parseImageSplit(img, lab, { dataset, split: 'train' }));
    p.catch(() => trainSplits.delete(dataset));
    trainSplits.set(dataset, p);
  }
  return p;
}

/** A stratified subset (seed 0) when limited, as `lenet-bench train --limit`. */
const cut = (split: ImageSplit, limit: number | null) => (limit !== null && limit < split.count ? stratifiedSubset(split, limit, 0) : split);

interface Running {
  stop(): void;
  done: Promise<{ result: BrowserTraining; weights: Weights | null }>;
}

function runInWorker(job: TrainJob, onEvent: (e: TrainEvent) => void): Running {
  const worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: `lenet-train-${job.id}` });
  const done = new Promise<{ result: BrowserTraining; weights: Weights | null }>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<TrainWorkerOut>) => {
      if (e.data.type === 'event') return onEvent(e.data.event);
      worker.terminate();
      resolve({ result: e.data.result, weights: e.data.weights });
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`${job.id} training worker failed: ${e.message || 'could not start the worker script'}`));
    };
  });
  worker.postMessage({ type: 'start', job } satisfies TrainWorkerIn);
  return { stop: () => worker.postMessage({ type: 'stop' } satisfies TrainWorkerIn), done };
}

export function mountTrainPanel(after: HTMLElement, ctx: TrainPanelContext) {
  const section = el('section', { id: 'train' });
  section.innerHTML = `
    <h2>Train in the browser <small>(@lenet/core's training loop, the seed's initial weights and batch order, as <code>lenet-bench train</code>)</small></h2>
    <div class="train-recipes" role="group" aria-label="recipe">
      <button id="train-recipe-quick" type="button" aria-pressed="true">Quick: lenet5-modern, 6,000 images, under a minute</button>
      <button id="train-recipe-d2l" type="button" aria-pressed="false">d2l 7.6 recipe: lenet5 (sigmoid), 60,000 images, 10 epochs</button>
    </div>
    <p id="train-recipe-note" class="train-note"></p>
    <form id="train-form">
      <label>backend <select id="train-backend"></select></label>
      <label>model <select id="train-model"></select></label>
      <label>epochs <input id="train-epochs" type="number" min="1" step="1" /></label>
      <label>batch <input id="train-batch" type="number" min="1" step="1" /></label>
      <label>lr <input id="train-lr" type="number" min="0" step="any" /></label>
      <label>seed <input id="train-seed" type="number" min="0" step="1" /></label>
      <label>train images <input id="train-limit" type="text" size="6" title="a number (stratified subset, seed 0) or all" /></label>
      <label>test images <input id="train-test-limit" type="text" size="6" title="a number (stratified subset, seed 0) or all" /></label>
      <label>steps per epoch <input id="train-steps" type="text" size="5" title="a number (a shorter budget) or all" /></label>
      <label>threads <input id="train-threads" type="text" size="4" title="a number or default" /></label>
      <button id="train-start" type="submit">Train</button>
      <button id="train-stop" type="button" disabled>Stop</button>
      <button id="train-use" type="button" disabled title="the image grid, activation maps, drawing canvas and benchmark then use the weights trained here">Use these weights</button>
      <button id="train-download" type="button" disabled>Download weights (.safetensors)</button>
    </form>
    <div class="train-progress"><progress id="train-progress" max="1" value="0"></progress> <span id="train-progress-text">idle</span></div>
    <p id="train-eta" class="train-eta"></p>
    <p id="train-chance" class="chance-note" role="alert" hidden></p>
    <div class="train-row">
      <div id="train-plot"></div>
      <div class="table-scroll"><table id="train-epoch-table"><thead><tr><th>epoch</th><th>steps</th><th>train loss</th><th>test loss</th><th>test acc</th><th>img/s</th></tr></thead><tbody></tbody></table></div>
    </div>`;
  after.after(section);

  const backendSelect = $<HTMLSelectElement>('train-backend');
  for (const b of BROWSER_BACKENDS) {
    const t = TRAIN_TARGETS.get(b.id);
    if (!t) continue;
    const trains = t.where === 'web worker' || canTrain(t.backend);
    const o = el('option', { value: b.id }, `${b.label}${trains ? '' : ' (inference only)'}`);
    o.disabled = !trains;
    backendSelect.append(o);
  }
  backendSelect.value = 'plain-wasm';
  const modelSelect = $<HTMLSelectElement>('train-model');
  for (const m of PRESET_NAMES) modelSelect.append(el('option', { value: m }, m));
  const d = TRAIN_REQUEST_DEFAULTS;
  // The API's defaults stay d2l's (lenet-bench browser relies on them); the form starts on the quick recipe.
  const applyRecipe = (name: keyof typeof RECIPES) => {
    const r = RECIPES[name];
    modelSelect.value = r.model;
    $<HTMLInputElement>('train-epochs').value = String(r.epochs);
    $<HTMLInputElement>('train-batch').value = String(r.batchSize);
    $<HTMLInputElement>('train-lr').value = String(r.lr);
    $<HTMLInputElement>('train-limit').value = r.trainLimit;
    $<HTMLInputElement>('train-test-limit').value = r.testLimit;
    $<HTMLInputElement>('train-steps').value = 'all';
    $('train-recipe-note').textContent = r.note;
    for (const k of Object.keys(RECIPES)) $(`train-recipe-${k}`).setAttribute('aria-pressed', String(k === name));
    section.dataset.recipe = name;
    renderTrainPlot($('train-plot'), [], r.epochs);
  };
  $<HTMLInputElement>('train-seed').value = String(d.seed);
  $<HTMLInputElement>('train-threads').value = 'default';
  applyRecipe('quick');
  $('train-recipe-quick').addEventListener('click', () => applyRecipe('quick'));
  $('train-recipe-d2l').addEventListener('click', () => applyRecipe('d2l'));
  // Editing a field by hand leaves the named recipe.
  section.querySelector('#train-form')!.addEventListener('input', () => {
    for (const k of Object.keys(RECIPES)) $(`train-recipe-${k}`).setAttribute('aria-pressed', 'false');
    delete section.dataset.recipe;
  });

  let running: Running | null = null;
  let last: BrowserTraining | null = null;
  let lastWeights: TrainedWeights | null = null;

  const setButtons = () => {
    $<HTMLButtonElement>('train-start').disabled = running !== null;
    $<HTMLButtonElement>('train-stop').disabled = running === null;
    $<HTMLButtonElement>('train-download').disabled = lastWeights === null;
    const use = $<HTMLButtonElement>('train-use');
    const inUse = lastWeights !== null && ctx.modelInUse() === lastWeights.model;
    use.disabled = lastWeights === null || running !== null || inUse;
    use.textContent = inUse ? '✓ Using these weights' : 'Use these weights';
  };
  document.addEventListener(MODEL_CHANGE_EVENT, setButtons);
  const chance = $('train-chance');
  const showChance = (text: string | null) => {
    chance.hidden = text === null;
    chance.textContent = text ? `⚠ ${text}` : '';
  };

  function renderEpochs(rows: BrowserTraining['epochs']): void {
    const tbody = section.querySelector('#train-epoch-table tbody')!;
    tbody.replaceChildren(
      ...rows.map((m) => {
        const tr = el('tr');
        for (const t of [`${m.epoch}${m.partial ? '*' : ''}`, String(m.steps), fmt(m.trainLoss, 4), fmt(m.valLoss, 4), `${fmt(m.valAccuracy * 100, 2)} %`, fmt(m.imagesPerSecond, 0)]) tr.append(el('td', {}, t));
        return tr;
      }),
    );
  }

  async function train(input: Partial<TrainRequest> & { backend: string }): Promise<BrowserTraining> {
    if (running) throw new TrainRequestError('train: a training run is already in progress (stop it first)');
    const req = checkTrainRequest(input);
    const target = TRAIN_TARGETS.get(req.backend)!;
    const dataset = ctx.dataset();
    const curve: TrainCurvePoint[] = [];
    const epochRows: BrowserTraining['epochs'] = [];
    const plot = $('train-plot');
    const progress = $<HTMLProgressElement>('train-progress');
    const text = $('train-progress-text');
    const eta = $('train-eta');
    const t0 = performance.now();
    renderTrainPlot(plot, curve, req.epochs);
    renderEpochs(epochRows);
    showChance(null);
    eta.textContent = '';
    lastWeights = null;
    let stopRequested = false;
    let stopFn: () => void = () => (stopRequested = true);
    running = { stop: () => stopFn(), done: Promise.reject(new Error('not started')) };
    running.done.catch(() => undefined);
    setButtons();
    section.dataset.state = 'running';
    try {
      ctx.setStatus(`loading the ${dataset} train split…`);
      text.textContent = 'loading the train split…';
      const [fullTrain, versions] = await Promise.all([loadTrainSplit(dataset), ctx.versions()]);
      const trainSplit = cut(fullTrain, req.trainLimit);
      const testSplit = cut(ctx.testSplit(), req.testLimit);
      // The overall ETA: wall time per step so far (the curve's evaluations included) times the
      // steps left, from the first step on (loading and session start are behind us by then).
      let firstStepAt: number | null = null;
      let firstSteps = 0;
      const onEvent = (e: TrainEvent) => {
        if (e.type === 'status') ctx.setStatus(e.text);
        else if (e.type === 'step') {
          const p = e.progress;
          const now = performance.now();
          if (firstStepAt === null) {
            firstStepAt = now;
            firstSteps = e.totalSteps;
          }
          progress.value = e.totalSteps / e.plannedSteps;
          text.textContent = `epoch ${p.epoch}/${req.epochs}, step ${p.step}/${p.stepsPerEpoch} (${e.totalSteps}/${e.plannedSteps}), loss ${fmt(p.loss, 4)}, ${fmt(p.images / Math.max(p.seconds, 1e-9), 0)} img/s`;
          const elapsed = (now - t0) / 1000;
          const perStep = e.totalSteps > firstSteps ? (now - firstStepAt) / 1000 / (e.totalSteps - firstSteps) : null;
          eta.textContent =
            perStep === null
              ? `elapsed ${clock(elapsed)} · ETA: measuring…`
              : `elapsed ${clock(elapsed)} · ETA ${clock(perStep * (e.plannedSteps - e.totalSteps))} · about ${clock(elapsed + perStep * (e.plannedSteps - e.totalSteps))} in all (${e.plannedSteps} steps)`;
          section.dataset.steps = String(e.totalSteps);
        } else if (e.type === 'point') {
          curve.push(e.point);
          renderTrainPlot(plot, curve, req.epochs);
          // A flat start is expected of the sigmoid LeNet: say so while it lasts.
          showChance(
            isNearChance(e.point.testAccuracy) && req.model === 'lenet5' && e.point.epoch <= 3
              ? `Test accuracy ${fmt(e.point.testAccuracy * 100, 1)} % = chance (${CHANCE_ACCURACY * 100} % for 10 classes), loss ≈ ${fmt(e.point.trainLoss, 2)}: expected — d2l’s sigmoid LeNet sits on this plateau for about two epochs, then learns.`
              : null,
          );
        } else if (e.type === 'epoch') {
          epochRows.push(e.metrics);
          renderEpochs(epochRows);
        }
      };
      let run: Running;
      if (target.where === 'web worker') {
        run = runInWorker({ id: req.backend, tier: target.tier, request: req, dataset, train: trainSplit, test: testSplit, versions }, onEvent);
      } else {
        const controller = new AbortController();
        run = {
          stop: () => controller.abort(),
          done: trainOnBackend({ id: req.backend, family: target.family, package: target.package, where: 'main thread', backend: target.backend, request: req, dataset, train: trainSplit, test: testSplit, versions }, onEvent, controller.signal),
        };
      }
      stopFn = run.stop;
      if (stopRequested) run.stop();
      const { result, weights } = await run.done;
      last = result;
      if (weights) {
        const spec = getPreset(req.model);
        const lastEpoch = result.epochs.at(-1);
        const bytes = encodeSafetensors(weights, {
          // The metadata `lenet-bench train` writes, plus where it was trained.
          spec: JSON.stringify(spec),
          backend: result.backend,
          dataset,
          dataSource: `browser ${location.origin}${import.meta.env.BASE_URL}lenet-data/${dataset}/`,
          seed: String(req.seed),
          epochs: String(result.epochs.length),
          batchSize: String(req.batchSize),
          lr: String(req.lr),
          ...(lastEpoch ? { valAccuracy: String(lastEpoch.valAccuracy) } : {}),
          trainedIn: `${req.backend} in ${versions.browser ?? navigator.userAgent}`,
          steps: String(result.totalSteps),
        });
        const f = result.finalEvaluation;
        lastWeights = {
          fileName: `${spec.name}-${dataset}-${req.backend}-seed${req.seed}.safetensors`,
          bytes,
          model: trainedModel(spec, weights, `the training in this page: ${req.backend}, ${result.totalSteps} steps (${result.epochs.length} epoch${result.epochs.length === 1 ? '' : 's'}) on ${result.trainCount.toLocaleString('en-US')} train images, seed ${req.seed}`),
          accuracy: f ? { value: f.accuracy, count: f.count, how: 'test accuracy at the end of the in-page training' } : null,
        };
      }
      const f = result.finalEvaluation;
      const summary =
        result.status === 'ok'
          ? `${result.stoppedBy === 'signal' ? 'stopped' : 'finished'}: ${result.totalSteps} steps on ${req.backend}, ${fmt(result.imagesPerSecond, 0)} img/s, test accuracy ${f ? fmt(f.accuracy * 100, 2) : '–'} % on ${f?.count ?? 0} images`
          : `${req.backend} ${result.status}${result.phase ? ` (${result.phase})` : ''}: ${result.reason}`;
      text.textContent = summary;
      eta.textContent = `took ${clock((performance.now() - t0) / 1000)}${lastWeights ? ' · “Use these weights” sends them to the image grid, activation maps, canvas and benchmark' : ''}`;
      if (f) showChance(trainingChanceNote(req.model, result.epochs.filter((m) => !m.partial).length, result.stoppedBy === 'signal', f.accuracy));
      ctx.setStatus(summary, result.status === 'error');
      section.dataset.state = result.status === 'ok' ? (result.stoppedBy === 'signal' ? 'stopped' : 'finished') : result.status;
      return result;
    } catch (e) {
      section.dataset.state = 'error';
      text.textContent = (e as Error).message;
      throw e;
    } finally {
      running = null;
      setButtons();
    }
  }

  function readForm(): Partial<TrainRequest> & { backend: string } {
    const num = (id: string, word: string, name: string): number | null => {
      const v = $<HTMLInputElement>(id).value.trim();
      if (v === word || v === '') return null;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new TrainRequestError(`${name} must be a number or "${word}", got "${v}"`);
      return n;
    };
    const epochs = Number($<HTMLInputElement>('train-epochs').value);
    const batchSize = Number($<HTMLInputElement>('train-batch').value);
    const trainLimit = num('train-limit', 'all', 'train images');
    const maxStepsPerEpoch = num('train-steps', 'all', 'steps per epoch');
    const trainCount = trainLimit ?? CATALOG[ctx.dataset()].counts.train;
    const stepsPerEpoch = Math.min(Math.ceil(trainCount / Math.max(1, batchSize)), maxStepsPerEpoch ?? Infinity);
    return {
      backend: backendSelect.value,
      model: modelSelect.value,
      epochs,
      batchSize,
      lr: Number($<HTMLInputElement>('train-lr').value),
      seed: Number($<HTMLInputElement>('train-seed').value),
      trainLimit,
      testLimit: num('train-test-limit', 'all', 'test images'),
      maxStepsPerEpoch,
      // d2l's animator draws five points per epoch.
      evalEverySteps: Math.max(1, Math.floor(stepsPerEpoch / 5)),
      threads: num('train-threads', 'default', 'threads'),
    };
  }

  $('train-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    let req: Partial<TrainRequest> & { backend: string };
    try {
      req = readForm();
    } catch (e) {
      return ctx.setStatus((e as Error).message, true);
    }
    void train(req).catch((e: Error) => ctx.setStatus(e.message, true));
  });
  $('train-stop').addEventListener('click', () => running?.stop());
  $('train-use').addEventListener('click', () => {
    if (lastWeights) ctx.useWeights(lastWeights.model, lastWeights.accuracy);
  });
  $('train-download').addEventListener('click', () => {
    if (!lastWeights) return;
    const url = URL.createObjectURL(new Blob([lastWeights.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = el('a', { href: url, download: lastWeights.fileName });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  setButtons();

  return {
    train,
    /** Stops the run in progress after its current step; false when none is running. */
    stop: (): boolean => {
      if (!running) return false;
      running.stop();
      return true;
    },
    last: () => last,
    weights: () => lastWeights,
  };
}

export type TrainApi = ReturnType<typeof mountTrainPanel>;

function trainedModel(spec: ModelSpec, weights: Weights, source: string): LoadedModel {
  return { spec, weights, info: { source, model: spec.name, params: summarize(spec).totalParams, format: 'safetensors' } };
}
