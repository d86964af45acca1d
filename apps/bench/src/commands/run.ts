import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { DatasetName } from '@lenet/datasets';
import { describeSource, loadData } from '../data.js';
import { EXIT, UsageError } from '../errors.js';
import { repairAgreementWeights } from '../safety/agreement-repair.js';
import { claimOutputFolder, shellQuote } from '../safety/folder.js';
import type { FolderLock } from '../safety/lock.js';
import { installSignalHandlers } from '../safety/signals.js';
import { jsonLine } from '../format.js';
import { userPath } from '../paths.js';
import { progressMode } from '../progress.js';
import { loadRegistry } from '../registry.js';
import { markdownTable } from '../report/markdown.js';
import { readReport } from '../report/schema.js';
import { inferenceTable, trainingTable } from '../report/tables.js';
import { collectEnvironment } from '../run/environment.js';
import { executeRun, TORCH_CELL, type RunContext } from '../run/runner.js';
import { repoRoot, timestampName } from '../run/store.js';
import { checkTorch } from '../run/torch.js';
import type { Profile, RunConfig } from '../run/types.js';
import { modelFromArg } from '../weights.js';

export interface RunCommandOptions {
  backends?: string[];
  model: string;
  dataset: DatasetName;
  dataDir?: string;
  profile: Profile;
  epochs?: number;
  seed: number;
  threads?: number;
  out?: string;
  resume?: string;
  json?: boolean;
  torch: boolean;
  targetAccuracy: number;
  limit?: number;
  trainSteps?: number;
  trainSeconds?: number;
  inferenceSeconds?: number;
  agreementImages?: number;
}

/** What each profile does; flags override single values. */
export const PROFILES = {
  quick: { epochs: 1, trainSeconds: 15, maxProjectedSeconds: null, fallbackTrainSeconds: null, inferenceSeconds: 2.5, agreementImages: 500 },
  full: { epochs: 10, trainSeconds: null, maxProjectedSeconds: 30 * 60, fallbackTrainSeconds: 120, inferenceSeconds: 6, agreementImages: 1000 },
} as const;

/** Flags that define the run; --resume takes them from the stored report instead. */
const CONFIG_FLAGS = ['backends', 'model', 'dataset', 'profile', 'epochs', 'seed', 'threads', 'out', 'torch', 'targetAccuracy', 'limit', 'trainSteps', 'trainSeconds', 'inferenceSeconds', 'agreementImages'];

export function backendList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError('--backends: expected a comma-separated list of backend names, e.g. plain,ort-node');
  return [...new Set(names)];
}

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The backends of the run: the named ones (each must exist), else every available one. */
async function selectBackends(requested: string[] | undefined): Promise<{ names: string[]; skipped: RunConfig['skipped'] }> {
  const reg = await loadRegistry();
  const known = reg.entries.map((e) => e.backend.name);
  if (requested) {
    const unknown = requested.filter((n) => n !== TORCH_CELL && !known.includes(n));
    if (unknown.length) {
      const failed = reg.failedPackages.length ? `; packages that failed to load: ${reg.failedPackages.map((f) => `${f.packageName} (${f.reason})`).join('; ')}` : '';
      throw new UsageError(`--backends: unknown backend${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; known backends: ${known.join(', ') || '(none loaded)'}${failed}`);
    }
    // An unavailable backend named explicitly still gets a cell: its error row says why.
    return { names: requested.filter((n) => n !== TORCH_CELL), skipped: [] };
  }
  const names: string[] = [];
  const skipped: RunConfig['skipped'] = [];
  for (const { backend } of reg.entries) {
    const ok = await backend.available();
    if (ok === true) names.push(backend.name);
    else skipped.push({ backend: backend.name, reason: ok });
  }
  for (const f of reg.failedPackages) skipped.push({ backend: f.packageName, reason: `package did not load: ${f.reason}` });
  return { names, skipped };
}

export async function runCommand(opts: RunCommandOptions, cmd: Command): Promise<void> {
  // Ctrl-C before the first cell (loading data, checking backends) exits 130 at once; SIGTERM 143.
  installSignalHandlers();
  let lock: FolderLock | null = null;
  try {
    await runLocked(opts, cmd, (l) => (lock = l));
  } finally {
    (lock as FolderLock | null)?.release();
  }
}

async function runLocked(opts: RunCommandOptions, cmd: Command, onLock: (lock: FolderLock) => void): Promise<void> {
  const json = !!opts.json;
  let ctx: RunContext;
  if (opts.resume) {
    const given = CONFIG_FLAGS.filter((f) => cmd.getOptionValueSource(f) === 'cli');
    if (given.length) {
      throw new UsageError(`--resume continues a run with its stored configuration; do not combine it with ${given.map((g) => `--${g.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`).join(', ')}`);
    }
    const dir = userPath(opts.resume);
    onLock(claimOutputFolder(dir, '--resume'));
    const { report } = await readReport(dir);
    const data = await loadData(report.config.dataset, { dataDir: opts.dataDir, limit: report.config.limit ?? undefined, quiet: json });
    const notes = [...report.notes, `resumed at ${new Date().toISOString()} (cells finished before were kept)`];
    const was = report.config.dataSource;
    if (was.kind !== data.source.kind || was.dir !== data.source.dir) notes.push(`resumed with data from ${describeSource(data.source)} (the run started with ${was.kind} ${was.dir})`);
    const repaired = await repairAgreementWeights(dir, report.config.modelSpec);
    if (repaired) {
      notes.push(repaired);
      if (!json) process.stderr.write(`note: ${repaired}\n`);
    }
    ctx = {
      dir,
      config: report.config,
      environment: report.environment,
      tool: { name: 'lenet-bench', version },
      createdAt: report.createdAt,
      priorWallSeconds: report.wallSeconds,
      notes,
      train: data.train,
      test: data.test,
      dataDir: opts.dataDir,
      json,
      progress: progressMode(json),
      cellTimeoutSeconds: timeoutFor(report.config),
    };
  } else {
    const profile = PROFILES[opts.profile];
    const spec = await modelFromArg(opts.model);
    const { names, skipped } = await selectBackends(opts.backends);
    const dir = opts.out ? userPath(opts.out) : join(repoRoot(), 'reports', timestampName());
    // Lock first: a folder another run is writing names that run, not just "holds a report".
    onLock(claimOutputFolder(dir, opts.out ? '--out' : null));
    if (existsSync(join(dir, 'report.json'))) {
      throw new UsageError(`--out ${dir} already holds a report; continue it with --resume ${shellQuote(opts.out ?? dir)}, or choose another folder`);
    }
    const data = await loadData(opts.dataset, { dataDir: opts.dataDir, limit: opts.limit, quiet: json });
    const environment = collectEnvironment(opts.threads ?? null);
    const notes: string[] = skipped.map((s) => `${s.backend} not run: ${s.reason}`);
    // Trainable backends first: the first one to finish training provides the shared weights
    // that every later cell (and the inference-only ones) evaluates for the agreement check.
    const reg = await loadRegistry();
    const canTrain = (n: string) => reg.entries.find((e) => e.backend.name === n)?.backend.canTrain ?? true;
    const ordered = [...names.filter(canTrain), ...names.filter((n) => !canTrain(n))];
    let torch = false;
    const wantTorch = opts.torch && (!opts.backends || opts.backends.includes(TORCH_CELL));
    if (wantTorch) {
      const check = checkTorch();
      environment.python = { executable: check.executable, version: check.python, torch: check.torch, note: check.note };
      torch = check.ok;
      if (!check.ok) notes.push(check.note);
    } else {
      notes.push(opts.torch ? 'PyTorch reference not requested (--backends without "pytorch")' : 'PyTorch reference skipped (--no-torch)');
    }
    const trainSeconds = opts.trainSeconds ?? (opts.profile === 'quick' ? profile.trainSeconds : null);
    const config: RunConfig = {
      profile: opts.profile,
      model: opts.model,
      modelSpec: spec,
      dataset: opts.dataset,
      dataSource: { kind: data.source.kind, dir: data.source.dir, files: data.source.files.map((f) => ({ file: f.file, sha256: f.sha256 })) },
      trainCount: data.train.count,
      testCount: data.test.count,
      limit: opts.limit ?? null,
      seed: opts.seed,
      epochs: opts.epochs ?? profile.epochs,
      batchSize: 128,
      lr: 0.1,
      targetAccuracy: opts.targetAccuracy,
      threads: opts.threads ?? null,
      trainSeconds,
      maxStepsPerEpoch: opts.trainSteps ?? null,
      maxProjectedSeconds: trainSeconds === null ? profile.maxProjectedSeconds : null,
      fallbackTrainSeconds: trainSeconds === null ? profile.fallbackTrainSeconds : null,
      inferenceSeconds: opts.inferenceSeconds ?? profile.inferenceSeconds,
      agreementImages: Math.min(opts.agreementImages ?? profile.agreementImages, data.test.count),
      backends: [...ordered, ...(torch ? [TORCH_CELL] : [])],
      torch,
      skipped,
    };
    if (!config.backends.length) throw new UsageError('no backend to run: none is available here (see lenet-bench backends)');
    ctx = {
      dir,
      config,
      environment,
      tool: { name: 'lenet-bench', version },
      createdAt: new Date().toISOString(),
      priorWallSeconds: 0,
      notes,
      train: data.train,
      test: data.test,
      dataDir: opts.dataDir,
      json,
      progress: progressMode(json),
      cellTimeoutSeconds: timeoutFor(config),
    };
  }

  const shown = relative(process.env.INIT_CWD ?? process.cwd(), ctx.dir) || '.';
  if (json) jsonLine({ type: 'start', dir: ctx.dir, resume: !!opts.resume, config: ctx.config });
  else {
    const c = ctx.config;
    process.stderr.write(
      `${opts.resume ? 'resuming' : 'running'} ${c.modelSpec.name} on ${c.dataset}, ${c.profile} profile, seed ${c.seed}: ${c.backends.join(', ')}\n` +
        `report folder: ${shown}\n` +
        `data: ${c.dataset} from ${describeSource(c.dataSource)}\n`,
    );
  }
  const { report, interrupted } = await executeRun(ctx);
  const files = { json: join(ctx.dir, 'report.json'), md: join(ctx.dir, 'report.md'), html: join(ctx.dir, 'report.html') };
  if (json) jsonLine({ type: 'done', status: report.status, dir: ctx.dir, files, errors: report.errors, wallSeconds: report.wallSeconds });
  else {
    process.stdout.write(`\n${markdownTable(trainingTable(report))}\n\n${markdownTable(inferenceTable(report))}\n\n`);
    if (report.errors.length) process.stdout.write(`${report.errors.length} backend(s) failed: ${report.errors.map((e) => e.backend).join(', ')} (see the Errors table)\n`);
    process.stdout.write(`report (${report.status}): ${files.html}\n  also ${files.md} and ${files.json}\n`);
    if (report.status !== 'complete') process.stdout.write(`continue with: lenet-bench run --resume ${shellQuote(shown)}\n`);
  }
  if (interrupted) process.exitCode = EXIT.interrupted;
  else if (report.errors.length) process.exitCode = EXIT.cellsFailed;
}

function timeoutFor(c: RunConfig): number {
  if (c.trainSeconds !== null) return Math.max(600, c.trainSeconds * 6 + 300);
  return 8 * 3600;
}
