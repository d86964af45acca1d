/**
 * `lenet-bench browser`: serve the built page (apps/web/dist), run it headlessly in Chromium
 * on the chosen weights and test images, print the results, and with --report DIR merge them
 * into that run's report.json (validated) and re-render report.md/html.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { decodeSafetensors, getPreset, numClasses, validateSpec, validateWeights, type ModelSpec } from '@lenet/model';
import { importOnnx } from '@lenet/backend-onnxruntime';
import { dirname, join, relative, resolve } from 'node:path';
import type { DatasetName } from '@lenet/datasets';
import { CliError, UsageError } from '../errors.js';
import { fixed, int, jsonLine, pct, table } from '../format.js';
import { userPath } from '../paths.js';
import { checkOutputDir, checkOutputFile } from '../safety/outputs.js';
import { installSignalHandlers } from '../safety/signals.js';
import { statSync } from 'node:fs';
import { renderAll } from '../report/render.js';
import { readReport, validateReport } from '../report/schema.js';
import { repoRoot, writeFileAtomic } from '../run/store.js';
import type { Report } from '../run/types.js';
import type { BrowserInfo, BrowserTraining } from './types.js';
import { DEFAULT_CHROMIUM, runInChromium } from './driver.js';
import { adapterLines } from './gpu.js';
import { coldStartLines } from './cold-start.js';
import { agreementReference, mergeBrowserRun, rowName, type AgreementReference } from './merge.js';
import { servePage } from './server.js';
import { mergeTrainingRows, presetOf, skippedSoftwareGpu, trainInPage, trainingRowName, type TrainingPlan } from './training.js';

export interface BrowserCommandOptions {
  report?: string;
  weights?: string;
  backends?: string[];
  dataset?: DatasetName;
  dataDir?: string;
  limit?: string;
  inferenceSeconds?: number;
  chromium?: string;
  app?: string;
  screenshot?: string;
  /** Also train each chosen page backend that can train for this many steps (training rows). */
  trainSteps?: number;
  /** Cold-start samples per page backend that ran, each in a fresh document (--cold-starts). */
  coldStarts?: number;
  json?: boolean;
}

/** The model of a weights file, as the page will read it (safetensors "spec" metadata, else lenet5; or ONNX). */
async function weightsSpec(file: string): Promise<ModelSpec> {
  const bytes = new Uint8Array(await readFile(file));
  if (bytes.length > 9 && bytes[8] === 0x7b) {
    const { weights, metadata } = decodeSafetensors(bytes, file);
    const spec = metadata.spec ? validateSpec(JSON.parse(metadata.spec), `${file} (metadata "spec")`) : getPreset('lenet5');
    validateWeights(spec, weights, file);
    return spec;
  }
  return importOnnx(bytes, file).spec;
}

function parseLimit(v: string | undefined, fallback: number | null): number | null {
  if (v === undefined) return fallback;
  if (v === 'all') return null;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--limit: expected a positive integer or "all", got "${v}"`);
  return Number(v);
}

export async function browserCommand(opts: BrowserCommandOptions): Promise<void> {
  // Ctrl-C exits 130, SIGTERM 143 (Chromium is killed on exit; report.json is only ever replaced
  // atomically after the page finished, so an interrupted merge leaves the report as it was).
  installSignalHandlers();
  let report: Report | null = null;
  let reportFile: string | null = null;
  // Output locations first: the report folder is rewritten, the screenshot written.
  if (opts.report && existsSync(userPath(opts.report)) && statSync(userPath(opts.report)).isDirectory()) checkOutputDir(userPath(opts.report), '--report');
  if (opts.screenshot) checkOutputFile(userPath(opts.screenshot), '--screenshot');
  if (opts.report) ({ report, file: reportFile } = await readReport(userPath(opts.report)));
  const reportDir = reportFile ? dirname(reportFile) : null;

  // Weights: --weights, else the shared weights of the run being merged into.
  let weightsFile: string;
  if (opts.weights) weightsFile = userPath(opts.weights);
  else if (report?.agreement && reportDir) weightsFile = resolve(reportDir, report.agreement.weightsFile);
  else throw new UsageError('--weights <file.safetensors|.onnx> is required (or --report DIR of a run that has shared agreement weights)');
  if (!existsSync(weightsFile)) throw new CliError(`weights file ${weightsFile} not found`);
  // Checked here too, so a bad file is reported by its path (the page only sees a URL).
  const spec = await weightsSpec(weightsFile);
  if (report && JSON.stringify(spec) !== JSON.stringify(report.config.modelSpec)) {
    throw new UsageError(`--weights ${weightsFile} is a ${spec.name} model but the report ran ${report.config.modelSpec.name}; merge only weights of the run's model`);
  }

  const dataset = opts.dataset ?? report?.config.dataset ?? 'fashion-mnist';
  if (report && dataset !== report.config.dataset) throw new UsageError(`--dataset ${dataset} differs from the report's dataset ${report.config.dataset}`);
  const limit = parseLimit(opts.limit, report ? report.config.limit : null);
  const inferenceSeconds = opts.inferenceSeconds ?? report?.config.inferenceSeconds ?? 1;
  const appDir = opts.app ? userPath(opts.app) : join(repoRoot(), 'apps', 'web', 'dist');
  // On the run's shared weights the browser rows get the same agreement check as the Node cells.
  let ref: AgreementReference | null = null;
  if (report?.agreement && reportDir && resolve(reportDir, report.agreement.weightsFile) === weightsFile) {
    const refFile = join(reportDir, 'agreement', 'reference.json');
    if (existsSync(refFile)) ref = agreementReference(JSON.parse(await readFile(refFile, 'utf8')), numClasses(report.config.modelSpec));
  }
  const screenshot = opts.screenshot ? userPath(opts.screenshot) : reportDir ? join(reportDir, 'browser.png') : null;

  // In-page training (--train-steps): the report's recipe on its train/test subsets, else the
  // CLI defaults on the full train split; the model must be a preset (the page builds it by name).
  const plan: TrainingPlan | null =
    opts.trainSteps === undefined
      ? null
      : {
          steps: opts.trainSteps,
          model: presetOf(report ? report.config.modelSpec : spec, report ? `the report's model` : weightsFile),
          seed: report?.config.seed ?? 0,
          batchSize: report?.config.batchSize ?? 128,
          lr: report?.config.lr ?? 0.1,
          recipeEpochs: report?.config.epochs ?? 10,
          trainLimit: report ? report.config.limit : null,
          testLimit: limit,
          threads: null,
        };
  let trainings: BrowserTraining[] = [];
  const onStatus = opts.json ? (t: string) => jsonLine({ type: 'status', status: t }) : (t: string) => process.stderr.write(`browser: ${t}\n`);

  const server = await servePage({ appDir, weightsFile, ...(opts.dataDir ? { dataDir: userPath(opts.dataDir) } : {}) });
  let result: Awaited<ReturnType<typeof runInChromium>>;
  try {
    result = await runInChromium({
      url: server.url,
      executable: opts.chromium ?? process.env.LENET_CHROMIUM ?? DEFAULT_CHROMIUM,
      backends: opts.backends ?? null,
      dataset,
      limit,
      inferenceSeconds,
      agreementImages: ref?.info.images ?? 0,
      coldStarts: opts.coldStarts ?? 0,
      screenshot,
      onStatus,
      ...(plan ? { afterRun: async (page, run) => void (trainings = await trainInPage(page, opts.backends ?? null, plan, onStatus, skippedSoftwareGpu(run))) } : {}),
    });
  } finally {
    await server.close();
  }
  const { run, browser } = result;
  if (report && run.testCount !== report.config.testCount) {
    throw new CliError(`the page evaluated ${run.testCount} test images but the report used ${report.config.testCount}; not merging`);
  }

  let merged: string | null = null;
  if (report && reportFile && reportDir) {
    const shownWeights = relative(reportDir, weightsFile).startsWith('..') ? weightsFile : relative(reportDir, weightsFile);
    let next = mergeBrowserRun(report, run, browser, shownWeights, ref);
    if (plan) next = mergeTrainingRows(next, trainings, plan, browser, run.crossOriginIsolated);
    validateReport(next, reportFile);
    await writeFileAtomic(reportFile, JSON.stringify(next, null, 2) + '\n');
    await renderAll(reportDir, next);
    merged = reportFile;
  }

  if (opts.json) {
    jsonLine({ type: 'browser', browser, run, ...(plan ? { training: trainings } : {}), merged, screenshot });
    return;
  }
  const rows = run.results.map((r) => [
    rowName(r, browser),
    r.where,
    r.status === 'error' ? `error (${r.phase})` : r.status,
    r.evaluation ? pct(r.evaluation.accuracy) : '-',
    r.evaluation ? fixed(r.evaluation.loss) : '-',
    r.inference ? fixed(r.inference.batch1.p50Ms, 3) : '-',
    r.inference ? int(r.inference.batch256.imagesPerSecond) : '-',
  ]);
  process.stdout.write(
    `${browser.name} ${browser.version} (headless), ${int(run.testCount)} ${run.dataset} test images, weights ${weightsFile} (${run.weights.model})\n\n` +
      table(['backend', 'where', 'status', 'accuracy', 'loss', 'b1 p50 ms', 'b256 img/s'], rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r']) +
      '\n' +
      run.results
        .filter((r) => r.status !== 'ok')
        .map((r) => `  ${r.id} ${r.status}: ${r.reason}\n`)
        .join('') +
      (opts.coldStarts ? `\n${coldStartLines(run.results, browser)}` : '') +
      (plan ? `\n${trainingTable(trainings, plan, browser)}` : '') +
      adapterLines(run.results) +
      (merged ? `\nmerged into ${merged} (report.md/html re-rendered)\n` : '') +
      (screenshot ? `screenshot: ${screenshot}\n` : ''),
  );
}

function trainingTable(trainings: BrowserTraining[], plan: TrainingPlan, browser: BrowserInfo): string {
  const rows = trainings.map((t) => [
    trainingRowName(t.id, browser),
    t.status === 'error' ? `error (${t.phase})` : t.status,
    t.threads === null ? '-' : String(t.threads),
    t.status === 'ok' ? String(t.totalSteps) : '-',
    t.status === 'ok' ? int(t.imagesPerSecond) : '-',
    t.stepLosses.length ? fixed(t.stepLosses.at(-1)!) : '-',
    t.finalEvaluation ? pct(t.finalEvaluation.accuracy) : '-',
  ]);
  return (
    `in-page training, ${plan.model}, at most ${plan.steps} steps of batch ${plan.batchSize} (lr ${plan.lr}, seed ${plan.seed}):\n\n` +
    table(['backend', 'status', 'threads', 'steps', 'train img/s', 'last loss', 'accuracy'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r']) +
    '\n' +
    trainings.filter((t) => t.status !== 'ok').map((t) => `  ${t.id} ${t.status}: ${t.reason}\n`).join('')
  );
}
