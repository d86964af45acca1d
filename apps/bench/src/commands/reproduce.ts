/**
 * `lenet-bench reproduce <recipe>`: trains a recipe per backend per seed (each run in its own
 * process, each finished run saved at once, re-running the command resumes), then prints per-seed
 * final accuracy, mean ± sd per backend and the verdict against the recipe's reference band.
 * Writes DIR/summary.json, summary.md and accuracy.svg, and with --agreement the cross-backend
 * agreement of one run's final weights (DIR/agreement.json).
 */
import { join, relative } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { BackendInputError, canTrain, describeOptimizer } from '@lenet/core';
import { initWeights } from '@lenet/model';
import { EXIT, UsageError } from '../errors.js';
import { claimOutputFolder } from '../safety/folder.js';
import type { FolderLock } from '../safety/lock.js';
import { installSignalHandlers, onStopSignal } from '../safety/signals.js';
import { jsonLine, table } from '../format.js';
import { userPath } from '../paths.js';
import { getUsableBackend } from '../registry.js';
import { renderSvg } from '../report/charts.js';
import { repoRoot, writeFileAtomic } from '../run/store.js';
import { checkAgreement, type AgreementCheck } from '../reproduce/agreement.js';
import { describeAugment, describeSchedule, getRecipe, RECIPES, withOverrides, type Recipe, type RecipeOverrides } from '../reproduce/recipes.js';
import { describeEvaluation, evaluationOf, loadRecipeData } from '../reproduce/data.js';
import { prepareFolder, readFinishedRuns, readRun, runSeed } from '../reproduce/runner.js';
import { checkTorchBackend, TORCH_BACKEND } from '../reproduce/torch-child.js';
import { accuracyChart, mdTable, renderMarkdown, renderText, summarize, type ReproduceSummary } from '../reproduce/summary.js';
import type { ReproduceConfig, SeedRun } from '../reproduce/types.js';

export { parseSeeds } from '../reproduce/stats.js';

export interface ReproduceCommandOptions {
  backends: string[];
  seeds: number[];
  epochs?: number;
  out?: string;
  json?: boolean;
  dataDir?: string;
  threads?: number;
  limit?: number;
  agreement?: string[];
  /** Train on the recipe's training split minus its validation split; evaluate on the latter. */
  validation?: boolean;
  /** Tuning overrides of the recipe's peak lr, momentum and weight decay. */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
}

/** --backends a,b: names, no duplicates. */
export function trainBackendList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!list.length) throw new InvalidArgumentError('expected a comma-separated list of backends, e.g. plain,tfjs-wasm.');
  const dup = list.find((b, i) => list.indexOf(b) !== i);
  if (dup) throw new InvalidArgumentError(`backend "${dup}" is listed twice.`);
  return list;
}

const validationRecipes = () => RECIPES.filter((r) => r.validation).map((r) => r.name).join(', ') || 'none';

export function defaultOutDir(recipe: Recipe, epochs: number, limit: number | undefined, validation = false, overrides: RecipeOverrides = {}): string {
  const tuned = (overrides.lr !== undefined ? `-lr${overrides.lr}` : '') + (overrides.momentum !== undefined ? `-m${overrides.momentum}` : '') + (overrides.weightDecay !== undefined ? `-wd${overrides.weightDecay}` : '');
  const suffix = (validation ? '-validation' : '') + tuned + (epochs !== recipe.epochs ? `-e${epochs}` : '') + (limit ? `-limit${limit}` : '');
  return join(repoRoot(), 'reports', 'reproduce', `${recipe.name}${suffix}`);
}

const AGREEMENT_HEADER = ['backend', 'runtime', 'accuracy', 'correct', 'max |Δlogit|', 'mean |Δlogit|', 'same prediction'];

function agreementRows(a: AgreementCheck): string[][] {
  return a.rows.map((r) => [r.backend, r.runtime, `${(r.accuracy * 100).toFixed(2)}%`, String(r.correct), r.maxAbsLogitDiff.toExponential(2), r.meanAbsLogitDiff.toExponential(2), `${(r.identicalPredictions * 100).toFixed(2)}%`]);
}

const agreementTitle = (a: AgreementCheck, validation = false) =>
  `Cross-backend agreement: the final weights of ${a.trainedOn} seed ${a.seed} (${a.weightsFile}) on all ${a.images} ${validation ? 'validation images (held out of the training set)' : 'test images'}, logits compared with ${a.trainedOn}'s`;

function agreementText(a: AgreementCheck, validation: boolean): string {
  return [agreementTitle(a, validation), table(AGREEMENT_HEADER, agreementRows(a))].join('\n');
}

export async function reproduceCommand(recipeName: string, opts: ReproduceCommandOptions): Promise<void> {
  // Ctrl-C before the first seed exits 130 at once; SIGTERM always exits 143 (safety/signals.ts).
  installSignalHandlers();
  let lock: FolderLock | null = null;
  try {
    await reproduceLocked(recipeName, opts, (l) => (lock = l));
  } finally {
    (lock as FolderLock | null)?.release();
  }
}

/**
 * Refuses, before any training, a backend that cannot run the recipe's optimizer: a training
 * session is built (and disposed at once) with it, and the backend's refusal is a usage error
 * naming backend and recipe.
 */
async function checkBackendRunsRecipe(backendName: string, recipe: Recipe): Promise<void> {
  if (!recipe.optimizer) return;
  const backend = await getUsableBackend(backendName, true, '--backends');
  if (!canTrain(backend)) return; // getUsableBackend(…, true) already refused it
  const spec = recipe.model();
  try {
    const session = await backend.createTrainingSession(spec, initWeights(spec, 0), { threads: 1, maxBatchSize: 1, optimizer: recipe.optimizer });
    await session.dispose();
  } catch (e) {
    if (e instanceof BackendInputError) throw new UsageError(`--backends: cannot run recipe "${recipe.name}" on ${backendName}: ${e.message}`);
    throw e;
  }
}

async function reproduceLocked(recipeName: string, opts: ReproduceCommandOptions, onLock: (lock: FolderLock) => void): Promise<void> {
  const base = getRecipe(recipeName);
  if (opts.validation && !base.validation) throw new UsageError(`--validation: recipe "${base.name}" has no validation split (recipes with one: ${validationRecipes()})`);
  const overrides: RecipeOverrides = {
    ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
    ...(opts.momentum !== undefined ? { momentum: opts.momentum } : {}),
    ...(opts.weightDecay !== undefined ? { weightDecay: opts.weightDecay } : {}),
  };
  const recipe = withOverrides(base, overrides);
  const validation = !!opts.validation;
  const evaluation = evaluationOf(recipe, opts.limit, validation);
  const epochs = opts.epochs ?? recipe.epochs;
  // "pytorch" is the Python reference (reproduce/torch-child.ts), not a registry backend.
  let torchEnv: Record<string, string> | null = null;
  for (const b of opts.backends) {
    if (b === TORCH_BACKEND) {
      const setup = checkTorchBackend(recipe);
      if (!opts.json) for (const line of [setup.note, setup.warning && `warning: ${setup.warning}`]) if (line) process.stderr.write(line + '\n');
      torchEnv = setup.env;
    } else {
      await getUsableBackend(b, true, '--backends');
      await checkBackendRunsRecipe(b, recipe);
    }
  }
  for (const b of opts.agreement ?? []) await getUsableBackend(b, false, '--agreement');
  const dir = opts.out ? userPath(opts.out) : defaultOutDir(recipe, epochs, opts.limit, validation, overrides);
  onLock(claimOutputFolder(dir, opts.out ? '--out' : null));
  const config: ReproduceConfig = {
    schema: 'lenet-bench/reproduce',
    schemaVersion: 1,
    recipe: recipe.name,
    model: recipe.modelName,
    dataset: recipe.dataset,
    epochs,
    batchSize: recipe.batchSize,
    schedule: describeSchedule(recipe.schedule),
    augment: describeAugment(recipe.augment),
    limit: opts.limit ?? null,
    threads: opts.threads ?? null,
    ...(recipe.optimizer ? { optimizer: describeOptimizer(recipe.optimizer) } : {}),
    ...(validation ? { evaluation } : {}),
    ...(Object.keys(overrides).length ? { overrides } : {}),
  };
  await prepareFolder(dir, config);
  const log = (s: string) => !opts.json && process.stderr.write(s + '\n');
  log(`reproduce ${recipe.name} -> ${dir}; accuracy measured on: ${describeEvaluation(evaluation)}`);
  if (opts.json) jsonLine({ type: 'start', recipe: recipe.name, dir, backends: opts.backends, seeds: opts.seeds, epochs });

  // Ctrl-C: kill the running child; finished runs are already on disk; exit 130.
  let killChild: (() => void) | null = null;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    log('\ninterrupted: stopping the running seed; finished seeds are kept (run the same command again to resume)');
    killChild?.();
  };
  // A second Ctrl-C or SIGTERM exits at once, after killing the running child.
  const offStop = onStopSignal({ graceful: onSigint, kill: () => killChild?.() });
  const runs: SeedRun[] = [];
  try {
    for (const backend of opts.backends) {
      for (const seed of opts.seeds) {
        if (interrupted) break;
        const prev = await readRun(dir, backend, seed);
        if (prev?.status === 'ok') {
          log(`${backend}-seed${seed}: already done (${(prev.finalAccuracy! * 100).toFixed(2)}%), kept`);
          runs.push(prev);
          continue;
        }
        const run = await runSeed({
          dir,
          recipe,
          backend,
          seed,
          epochs,
          limit: opts.limit ?? null,
          dataDir: opts.dataDir,
          threads: opts.threads ?? null,
          validation,
          overrides,
          json: !!opts.json,
          torchEnv,
          onChild: (kill) => (killChild = kill),
        });
        killChild = null;
        if (interrupted) break;
        if (opts.json) jsonLine({ type: 'seed', recipe: recipe.name, backend, seed, status: run.status, finalAccuracy: run.finalAccuracy, error: run.error });
        runs.push(run);
      }
    }
  } finally {
    offStop();
  }

  // Finished runs of earlier invocations in this folder (other seeds or backends, same config)
  // belong to the same reproduction: the summary covers them too, after the requested ones.
  const earlier = (await readFinishedRuns(dir)).filter((r) => !runs.some((x) => x.backend === r.backend && x.seed === r.seed));
  if (earlier.length) log(`also in ${dir}, kept in the summary: ${earlier.map((r) => `${r.backend}-seed${r.seed}`).join(', ')}`);
  const backends = [...opts.backends, ...new Set(earlier.map((r) => r.backend).filter((b) => !opts.backends.includes(b)))];
  const summary: ReproduceSummary = { ...summarize(recipe, epochs, backends, [...runs, ...earlier]), evaluation };
  let agreement: AgreementCheck | null = null;
  if (!interrupted && opts.agreement?.length) {
    const source = runs.find((r) => r.status === 'ok' && r.weightsFile);
    if (!source) log('agreement: no finished run to take weights from; skipped');
    else {
      const data = await loadRecipeData(recipe, { dataDir: opts.dataDir, limit: opts.limit, validation });
      agreement = await checkAgreement({
        weightsFile: join(dir, source.weightsFile!),
        spec: recipe.model(),
        test: data.evaluate,
        trainedOn: source.backend,
        seed: source.seed,
        backends: opts.agreement,
        threads: opts.threads,
      });
      agreement.weightsFile = relative(dir, agreement.weightsFile);
      await writeFileAtomic(join(dir, 'agreement.json'), JSON.stringify(agreement, null, 1) + '\n');
    }
  }

  await writeFileAtomic(join(dir, 'summary.json'), JSON.stringify({ ...summary, config, agreement }, null, 1) + '\n');
  const md = renderMarkdown(recipe, summary) + (agreement ? `\n\n${agreementTitle(agreement, validation)}:\n\n${mdTable(AGREEMENT_HEADER, agreementRows(agreement))}\n` : '\n');
  await writeFileAtomic(join(dir, 'summary.md'), md);
  const chart = accuracyChart(recipe, summary);
  if (chart) await writeFileAtomic(join(dir, 'accuracy.svg'), await renderSvg(chart));

  if (opts.json) {
    jsonLine({ type: 'summary', recipe: recipe.name, dir, band: recipe.band, backends: summary.backends, agreement, interrupted });
  } else {
    process.stdout.write(renderText(recipe, summary) + '\n');
    if (agreement) process.stdout.write('\n' + agreementText(agreement, validation) + '\n');
    process.stdout.write(`\nresults in ${dir} (summary.md, summary.json, accuracy.svg, runs/, weights/)\n`);
  }
  if (interrupted) process.exitCode = EXIT.interrupted;
  else if (runs.some((r) => r.status !== 'ok')) process.exitCode = EXIT.cellsFailed;
}
