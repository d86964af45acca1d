/**
 * The page: loads weights (?weights=URL, default the server's /lenet-weights/default, else a
 * seeded init) and the test split, runs the chosen backends (evaluation + latency/throughput),
 * and offers the image grid, activation maps and the drawing canvas.
 *
 * Query parameters: weights, dataset (fashion-mnist|mnist), limit (test images, default 1000,
 * "all" = 10,000), backends (comma list of ids), seconds (timing per batch size, default 1),
 * autorun=1. `window.lenetBench` is the hook the CLI and the e2e test drive.
 */
import { isDatasetName, type DatasetName, type ImageSplit } from '@lenet/datasets';
import { splitToFloat } from '@lenet/datasets';
import { probeBackend, type Availability } from './availability.js';
import { BACKEND_IDS, BROWSER_BACKENDS } from './backends.js';
import { COLD_START_LOADERS } from './cold-start-loaders.js';
import { measurePageColdStarts } from './cold-start-runner.js';
import { renderColdStarts } from './cold-start-ui.js';
import { MAX_PAGE_COLD_STARTS } from '@lenet/browser-protocol';
import { chanceWarning, isNearChance, type WeightsQuality } from './chance.js';
import { decodeModel, loadModel, loadTestSplit, seededModel, FetchError, type LoadedModel } from './data.js';
import { ReferenceModel } from './forward.js';
import { MODEL_CHANGE_EVENT, mountTrainPanel, trainableIds, type TrainApi } from './train-panel.js';
import type { BrowserResult, BrowserRun, LenetBenchPage, RunOptions, TrainRequest } from './types.js';
import { el, paintGray, renderCharts, renderGrid, renderMaps, renderProbabilities, renderTable } from './ui.js';

const GRID_IMAGES = 48;
/** Test images the reference forward scores to tell whether loaded weights learned (~0.4 s). */
const QUALITY_IMAGES = 200;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

class UsageError extends Error {
  override name = 'UsageError';
}

const query = new URLSearchParams(location.search);

function parseLimit(v: string | null): number | null {
  if (v === null) return 1000;
  if (v === 'all') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`?limit must be a positive integer or "all", got "${v}"`);
  return n;
}

/** The backends asked for in ?backends, or null for the default (every one that can run here). */
function parseBackends(v: string | null): string[] | null {
  if (v === null || v === '') return null;
  const ids = v.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !BACKEND_IDS.includes(id));
  if (unknown.length) throw new UsageError(`?backends: unknown backend ${unknown.join(', ')} (known: ${BACKEND_IDS.join(', ')})`);
  return ids;
}

function parseSeconds(v: string | null): number {
  if (v === null) return 1;
  const s = Number(v);
  if (!(s > 0 && s <= 60)) throw new UsageError(`?seconds must be in (0, 60], got "${v}"`);
  return s;
}

function setStatus(text: string, error = false): void {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

async function browserVersions(): Promise<Record<string, string>> {
  const uad = (navigator as Navigator & { userAgentData?: { getHighEntropyValues(h: string[]): Promise<{ fullVersionList?: { brand: string; version: string }[] }> } }).userAgentData;
  try {
    const list = (await uad?.getHighEntropyValues(['fullVersionList']))?.fullVersionList ?? [];
    const b = list.find((x) => /Chrom/i.test(x.brand) && !/Not/i.test(x.brand));
    if (b) return { browser: `${b.brand} ${b.version}` };
  } catch {
    /* fall through to the user agent string */
  }
  const m = /(HeadlessChrome|Chrome|Chromium|Firefox|Version)\/([\d.]+)/.exec(navigator.userAgent);
  return { browser: m ? `${m[1]} ${m[2]}` : navigator.userAgent };
}

interface State {
  model: LoadedModel;
  /** Said after the model's description (e.g. why the weights are untrained). */
  modelNote: string;
  reference: ReferenceModel;
  quality: WeightsQuality;
  dataset: DatasetName;
  full: ImageSplit;
  split: ImageSplit;
  limit: number | null;
  selected: number;
  results: BrowserResult[];
  lastRun: BrowserRun | null;
  running: Promise<BrowserRun> | null;
}

let state: State;

async function loadDefaultModel(): Promise<{ model: LoadedModel; note: string }> {
  const url = query.get('weights');
  if (url) return { model: await loadModel(url), note: '' };
  try {
    return { model: await loadModel(`${import.meta.env.BASE_URL}lenet-weights/default`), note: '' };
  } catch (e) {
    if (!(e instanceof FetchError)) throw e;
    return {
      model: seededModel('lenet5', 0),
      note: ' — no weights served (start with LENET_WEB_WEIGHTS=file or pass ?weights=URL), so these are untrained seed-0 weights',
    };
  }
}

function showModel(): void {
  const { info } = state.model;
  $('model-info').textContent =
    `${info.model}, ${info.params.toLocaleString('en-US')} parameters, ${info.format} from ${info.source}${state.modelNote}. ` +
    `Data: ${state.dataset} test split, ${state.split.count.toLocaleString('en-US')} of ${state.full.count.toLocaleString('en-US')} images${state.limit !== null ? ' (stratified subset, seed 0, as lenet-bench --limit)' : ''}.`;
}

function selectImage(index: number): void {
  state.selected = index;
  for (const f of document.querySelectorAll('#grid figure')) f.classList.toggle('selected', (f as HTMLElement).dataset.index === String(index));
  const x = splitToFloat(state.split, index, 1);
  $('maps-for').textContent = `(test image #${index}, true class ${state.split.classNames[state.split.labels[index]!]})`;
  renderMaps($('maps'), state.reference.convMaps(x, 2));
}

function refreshExplore(): void {
  const n = Math.min(GRID_IMAGES, state.split.count);
  const logits = state.reference.logits(splitToFloat(state.split, 0, n), n);
  const c = state.reference.classes;
  const predicted = Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k]! > logits[i * c + best]!) best = k;
    return best;
  });
  renderGrid($('grid'), state.split, n, predicted, selectImage);
  selectImage(Math.min(state.selected, n - 1));
}

/** The chance-level warnings next to the model, the grid and the canvas. */
function showChanceWarnings(): void {
  const text = chanceWarning(state.quality);
  for (const p of document.querySelectorAll<HTMLElement>('.chance-warning')) {
    p.hidden = text === null;
    p.textContent = text ? `⚠ ${text}` : '';
  }
  document.body.dataset.weights = state.quality.untrained ? 'untrained' : state.quality.accuracy === null ? 'unknown' : isNearChance(state.quality.accuracy.value) ? 'near-chance' : 'learned';
}

let qualityToken = 0;

/**
 * Scores the reference forward on the first QUALITY_IMAGES test images, in chunks so that the
 * page stays responsive; a newer model (token) discards the result.
 */
async function estimateQuality(): Promise<void> {
  const token = ++qualityToken;
  const n = Math.min(QUALITY_IMAGES, state.split.count);
  const c = state.reference.classes;
  let right = 0;
  for (let start = 0; start < n; start += 50) {
    await new Promise((r) => setTimeout(r, 0));
    if (token !== qualityToken) return;
    const m = Math.min(50, n - start);
    const logits = state.reference.logits(splitToFloat(state.split, start, m), m);
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (logits[i * c + k]! > logits[i * c + best]!) best = k;
      if (best === state.split.labels[start + i]) right++;
    }
  }
  if (token !== qualityToken || state.quality.accuracy) return;
  state.quality.accuracy = { value: right / n, count: n, how: 'float64 reference forward' };
  showChanceWarnings();
}

/** Makes `model` the weights of the grid, activation maps, canvas and benchmark. */
function setModel(model: LoadedModel, note: string, accuracy: WeightsQuality['accuracy'] = null): void {
  state.model = model;
  state.modelNote = note;
  state.reference = new ReferenceModel(model.spec, model.weights);
  state.quality = { untrained: model.info.format === 'seeded-init', accuracy };
  qualityToken++;
  showModel();
  refreshExplore();
  updatePad();
  showChanceWarnings();
  if (!accuracy && !state.quality.untrained) void estimateQuality();
  // The training panel's "Use these weights" button shows whether its weights are the ones in use.
  document.dispatchEvent(new Event(MODEL_CHANGE_EVENT));
}

// ------------------------------------------------------------------ drawing pad

const pad = new Float32Array(28 * 28);

function updatePad(): void {
  paintGray($<HTMLCanvasElement>('pad'), pad, 0, 28, 28, [0, 1]);
  renderProbabilities($('probs'), state.reference.probabilities(pad), state.split.classNames);
}

function setupPad(): void {
  const canvas = $<HTMLCanvasElement>('pad');
  let drawing = false;
  const stroke = (ev: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    const cx = ((ev.clientX - r.left) / r.width) * 28;
    const cy = ((ev.clientY - r.top) / r.height) * 28;
    // A soft round brush, about 2.5 pixels wide, like a pen on MNIST-style digits.
    for (let y = Math.floor(cy - 2); y <= Math.ceil(cy + 2); y++) {
      for (let x = Math.floor(cx - 2); x <= Math.ceil(cx + 2); x++) {
        if (x < 0 || y < 0 || x >= 28 || y >= 28) continue;
        const d2 = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2;
        pad[y * 28 + x] = Math.min(1, pad[y * 28 + x]! + Math.exp(-d2 / 1.2));
      }
    }
    updatePad();
  };
  canvas.addEventListener('pointerdown', (ev) => {
    drawing = true;
    canvas.setPointerCapture(ev.pointerId);
    stroke(ev);
  });
  canvas.addEventListener('pointermove', (ev) => drawing && stroke(ev));
  canvas.addEventListener('pointerup', () => (drawing = false));
  $('clear').addEventListener('click', () => {
    pad.fill(0);
    updatePad();
  });
  $('noise').addEventListener('click', () => {
    for (let i = 0; i < pad.length; i++) pad[i] = Math.random();
    updatePad();
  });
  $('copy').addEventListener('click', () => {
    pad.set(splitToFloat(state.split, state.selected, 1));
    updatePad();
  });
}

// ------------------------------------------------------------------ benchmark

/**
 * The benchmark form. Each backend is probed first (availability.ts): those that cannot run
 * here are unticked and disabled with the reason, software-fallback GPUs unticked with theirs;
 * `requested` (?backends) ticks exactly those of the rest.
 */
async function setupForm(requested: string[] | null, limit: number | null, seconds: number): Promise<void> {
  const box = $('backend-choices');
  const probes: Availability[] = await Promise.all(BROWSER_BACKENDS.map((b) => probeBackend(b.id)));
  const rank = { ready: 0, optional: 1, unavailable: 2 } as const;
  const rows = BROWSER_BACKENDS.map((b, k) => ({ b, a: probes[k]! })).sort((x, y) => rank[x.a.state] - rank[y.a.state]);
  for (const { b, a } of rows) {
    const input = el('input', { type: 'checkbox', value: b.id, name: 'backend' });
    input.checked = a.state !== 'unavailable' && (requested ? requested.includes(b.id) : a.state === 'ready');
    input.disabled = a.state === 'unavailable';
    const label = el('label', { class: `backend-choice ${a.state}`, 'data-backend': b.id });
    label.append(input, ` ${b.label}`);
    if (a.state !== 'ready') label.append(el('span', { class: 'backend-reason' }, `${a.state === 'unavailable' ? 'cannot run here' : 'not ticked'}: ${a.reason}`));
    box.append(label);
  }
  $<HTMLInputElement>('limit').value = String(limit ?? state.full.count);
  $<HTMLInputElement>('seconds').value = String(seconds);
  $('run-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const backends = [...box.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    const n = Number($<HTMLInputElement>('limit').value);
    const seconds = Number($<HTMLInputElement>('seconds').value);
    if (!backends.length) return setStatus('Backends: tick at least one backend to run', true);
    if (!Number.isInteger(n) || n < 1) return setStatus(`test images must be a positive integer, got "${$<HTMLInputElement>('limit').value}"`, true);
    if (!(seconds > 0 && seconds <= 60)) return setStatus(`timing seconds must be in (0, 60], got "${$<HTMLInputElement>('seconds').value}"`, true);
    const coldStarts = Number($<HTMLInputElement>('cold-starts-input').value || '0');
    if (!(Number.isInteger(coldStarts) && coldStarts >= 0 && coldStarts <= MAX_PAGE_COLD_STARTS)) return setStatus(`cold-start samples must be an integer from 0 to ${MAX_PAGE_COLD_STARTS}, got "${$<HTMLInputElement>('cold-starts-input').value}"`, true);
    void api.run({ backends, limit: n >= state.full.count ? null : n, inferenceSeconds: seconds, coldStarts }).catch((e: Error) => setStatus(e.message, true));
  });
  $<HTMLInputElement>('weights-file').addEventListener('change', async (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (!file) return;
    try {
      setModel(decodeModel(new Uint8Array(await file.arrayBuffer()), file.name), '');
      setStatus(`loaded ${file.name}`);
    } catch (e) {
      setStatus((e as Error).message, true);
    }
  });
}

async function run(options: RunOptions): Promise<BrowserRun> {
  if (state.running) throw new UsageError('a benchmark run is already in progress');
  if (!Array.isArray(options.backends) || options.backends.length === 0) throw new UsageError('run: backends must be a non-empty list of backend ids');
  parseBackends(options.backends.join(','));
  if (options.limit !== null && !(Number.isInteger(options.limit) && options.limit >= 1)) throw new UsageError(`run: limit must be a positive integer or null, got ${options.limit}`);
  if (!(options.inferenceSeconds > 0 && options.inferenceSeconds <= 60)) throw new UsageError(`run: inferenceSeconds must be in (0, 60], got ${options.inferenceSeconds}`);
  const ag = options.agreementImages ?? 0;
  if (!(Number.isInteger(ag) && ag >= 0)) throw new UsageError(`run: agreementImages must be a non-negative integer, got ${ag}`);
  if (options.skipSoftwareGpu !== undefined && typeof options.skipSoftwareGpu !== 'boolean') throw new UsageError(`run: skipSoftwareGpu must be a boolean, got ${String(options.skipSoftwareGpu)}`);
  const coldStarts = options.coldStarts ?? 0;
  if (!(Number.isInteger(coldStarts) && coldStarts >= 0 && coldStarts <= MAX_PAGE_COLD_STARTS)) throw new UsageError(`run: coldStarts must be an integer from 0 to ${MAX_PAGE_COLD_STARTS}, got ${String(options.coldStarts)}`);
  const task = (async () => {
    $<HTMLButtonElement>('run').disabled = true;
    const startedAt = new Date().toISOString();
    if (options.limit !== state.limit) {
      setStatus('loading the test split…');
      const data = await loadTestSplit(state.dataset, options.limit);
      Object.assign(state, { full: data.full, split: data.split, limit: options.limit });
      showModel();
      refreshExplore();
    }
    const versions = await browserVersions();
    const chosen = [...new Set(options.backends)].map((id) => BROWSER_BACKENDS.find((b) => b.id === id)!); // in the order asked
    const results: BrowserResult[] = [];
    state.results = results;
    renderColdStarts($('cold-starts'), []);
    const progress = $<HTMLProgressElement>('run-progress');
    const progressText = $('run-progress-text');
    progress.max = Math.max(1, chosen.length);
    for (const [k, b] of chosen.entries()) {
      progress.value = k;
      progressText.textContent = `${k + 1} of ${chosen.length}: ${b.id}…`;
      setStatus(`running ${b.id} (${k + 1} of ${chosen.length}) on ${state.split.count} images…`);
      const r = await b.run({ spec: state.model.spec, weights: state.model.weights, split: state.split, inferenceSeconds: options.inferenceSeconds, agreementImages: options.agreementImages ?? 0, browserVersions: versions, skipSoftwareGpu: options.skipSoftwareGpu ?? false }).catch(
        (e: Error): BrowserResult => ({
          id: b.id, family: b.family, backend: b.id, package: '', where: 'main thread', status: 'error', reason: e.message, phase: 'start',
          description: b.label, runtime: null, versions, threads: null, startedAt: new Date().toISOString(), wallSeconds: 0, evaluation: null, inference: null, agreementLogits: null,
        }),
      );
      results.push(r);
      renderTable(document.querySelector('#results-table tbody')!, results);
      renderCharts($('charts'), results);
      showResultsNote(results);
      // A benchmark evaluation on the whole test subset is a better quality figure than the
      // reference's 200 images (an in-page training's own test accuracy is kept).
      if (r.evaluation && (state.quality.accuracy === null || state.quality.accuracy.how === 'float64 reference forward')) {
        state.quality.accuracy = { value: r.evaluation.accuracy, count: r.evaluation.count, how: `${r.id} in the benchmark` };
        showChanceWarnings();
      }
    }
    if (coldStarts > 0) await runColdStarts(results, coldStarts, progressText);
    progress.value = chosen.length;
    const out: BrowserRun = {
      browser: versions.browser ?? 'unknown',
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      hardwareConcurrency: navigator.hardwareConcurrency,
      weights: state.model.info,
      dataset: state.dataset,
      limit: state.limit,
      testCount: state.split.count,
      inferenceSeconds: options.inferenceSeconds,
      startedAt,
      finishedAt: new Date().toISOString(),
      results,
    };
    state.lastRun = out;
    const ok = results.filter((r) => r.status === 'ok').length;
    const unavailable = results.filter((r) => r.status === 'unavailable').length;
    const summary = `${ok} ran, ${unavailable} unavailable in this browser, ${results.length - ok - unavailable} failed`;
    progressText.textContent = `${results.length} of ${chosen.length} done: ${summary}`;
    setStatus(`done in ${out.browser}: ${summary}`);
    return out;
  })();
  state.running = task;
  try {
    return await task;
  } finally {
    state.running = null;
    $<HTMLButtonElement>('run').disabled = false;
  }
}

/**
 * Cold starts of the rows that ran (RunOptions.coldStarts), after all measurements: each sample a
 * fresh iframe document (cold-start.ts), on the loaded weights and the first batch of test images.
 */
async function runColdStarts(results: BrowserResult[], samples: number, progressText: HTMLElement): Promise<void> {
  const n = Math.min(128, state.split.count);
  const x = splitToFloat(state.split, 0, n);
  const y = Int32Array.from(state.split.labels.subarray(0, n));
  const host = $('cold-starts');
  for (const r of results) {
    if (r.status !== 'ok' || !COLD_START_LOADERS[r.id]) continue;
    const say = (done: number) => {
      progressText.textContent = `cold start of ${r.id}: ${done} of ${samples} fresh documents…`;
      setStatus(`cold start of ${r.id} (${done} of ${samples} done)…`);
    };
    say(0);
    const m = await measurePageColdStarts({ id: r.id, spec: state.model.spec, weights: state.model.weights, x, y, n, lr: 0.1, samples, onSample: say });
    r.coldStartSamples = m.samples;
    r.coldStartError = m.error;
    renderColdStarts(host, results);
  }
}

/** Under the results table: which rows are at chance level, and why. */
function showResultsNote(results: BrowserResult[]): void {
  const low = results.filter((r) => r.evaluation && isNearChance(r.evaluation.accuracy)).map((r) => r.id);
  const note = $('results-note');
  note.hidden = low.length === 0;
  if (!low.length) return;
  const why = state.quality.untrained
    ? 'the weights are untrained (initial, seeded) weights'
    : 'these weights have not learned (e.g. stopped on d2l’s two-epoch sigmoid plateau)';
  note.textContent = `⚠ ${low.join(', ')}: accuracy near chance (10 % for 10 classes) because ${why}. The timings are still valid; train in the page and “Use these weights” for a meaningful accuracy.`;
}

let trainer: TrainApi | null = null;

const api: LenetBenchPage = {
  /** Resolves when the model and data are loaded (rejects with the reason otherwise). */
  ready: null as unknown as Promise<void>,
  backendIds: BACKEND_IDS,
  run,
  lastRun: () => state?.lastRun ?? null,
  // In-page training (train-panel.ts).
  trainableIds: trainableIds(),
  train: async (req: Partial<TrainRequest> & { backend: string }) => {
    await api.ready;
    return trainer!.train(req);
  },
  stopTraining: () => trainer?.stop() ?? false,
  lastTraining: () => trainer?.last() ?? null,
};
declare global {
  interface Window {
    lenetBench: LenetBenchPage;
  }
}
window.lenetBench = api;

api.ready = (async () => {
  const datasetArg = query.get('dataset') ?? 'fashion-mnist';
  if (!isDatasetName(datasetArg)) throw new UsageError(`?dataset must be fashion-mnist or mnist, got "${datasetArg}"`);
  const limit = parseLimit(query.get('limit'));
  const requested = parseBackends(query.get('backends'));
  const seconds = parseSeconds(query.get('seconds'));
  setStatus('loading weights and data…');
  const [{ model, note }, data] = await Promise.all([loadDefaultModel(), loadTestSplit(datasetArg, limit)]);
  state = {
    model, modelNote: note, reference: new ReferenceModel(model.spec, model.weights), quality: { untrained: false, accuracy: null },
    dataset: datasetArg, full: data.full, split: data.split, limit, selected: 0, results: [], lastRun: null, running: null,
  };
  setupPad();
  setModel(model, note);
  await setupForm(requested, limit, seconds);
  trainer = mountTrainPanel($('results'), {
    dataset: () => state.dataset,
    testSplit: () => state.full,
    versions: browserVersions,
    setStatus,
    modelInUse: () => state.model,
    useWeights: (m, accuracy) => {
      setModel(m, '', accuracy);
      setStatus(`using the weights trained in the page (${m.info.model}) for the grid, activation maps, canvas and benchmark`);
    },
  });
  setStatus('ready');
  const ticked = () => [...document.querySelectorAll<HTMLInputElement>('#backend-choices input:checked')].map((i) => i.value);
  if (query.get('autorun') === '1') void run({ backends: requested ?? ticked(), limit, inferenceSeconds: seconds }).catch((e: Error) => setStatus(e.message, true));
})();
api.ready.catch((e: Error) => setStatus(`${e.name}: ${e.message}`, true));
