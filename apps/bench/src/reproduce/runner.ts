/**
 * The parent of `lenet-bench reproduce`: one child process per (backend, seed), one after the
 * other. Each finished run (ok or failed) is written atomically to DIR/runs/<backend>-seed<S>.json
 * at once, so a crash, kill or Ctrl-C loses at most the run in progress, and running the same
 * command again (same --out) skips the runs that finished ok. The children (a forked Node child,
 * or the PyTorch child for `pytorch`) are started and watched by process/supervisor.ts.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EpochMetrics } from '@lenet/core';
import { writeFileAtomic } from '../run/store.js';
import { SupervisedProcess, type ChildExit } from '../process/supervisor.js';
import { pythonExecutable } from '../torch/python.js';
import { CliError } from '../errors.js';
import { fixed, int, jsonLine, pct } from '../format.js';
import type { Recipe } from './recipes.js';
import { prepareTorchJob, TORCH_BACKEND, torchRunFacts, type TorchJob } from './torch-child.js';
import type { ReproduceConfig, ReproduceJob, ReproduceMessage, SeedRun } from './types.js';

export const REPRODUCE_CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.js');

export const runId = (backend: string, seed: number) => `${backend}-seed${seed}`;
export const runFile = (dir: string, backend: string, seed: number) => join(dir, 'runs', `${runId(backend, seed)}.json`);

export function environmentSummary(): SeedRun['environment'] {
  return { cpuModel: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadAverage: loadavg() };
}

/** Writes DIR/config.json, or checks that an existing one matches (resume). */
export async function prepareFolder(dir: string, config: ReproduceConfig): Promise<void> {
  const file = join(dir, 'config.json');
  if (existsSync(file)) {
    let old: ReproduceConfig;
    try {
      old = JSON.parse(await readFile(file, 'utf8')) as ReproduceConfig;
      if (!old || typeof old !== 'object' || Array.isArray(old)) throw new Error('not an object');
    } catch (err) {
      throw new CliError(`${file}: expected the JSON settings object written by lenet-bench reproduce, got unreadable content (${(err as Error).message.split('\n')[0]}); delete it or use another --out folder`);
    }
    // Both sides' keys: a setting recorded there but absent now (or the reverse) is a difference too.
    const keys = [...new Set([...Object.keys(old), ...Object.keys(config)])] as (keyof ReproduceConfig)[];
    const diff = keys.filter((k) => JSON.stringify(old[k]) !== JSON.stringify(config[k]));
    if (diff.length) {
      throw new CliError(
        `${dir} holds runs made with different settings (${diff.map((k) => `${k}: ${JSON.stringify(old[k])} there, ${JSON.stringify(config[k])} now`).join('; ')}); ` +
          'use another --out folder',
      );
    }
    return;
  }
  await writeFileAtomic(file, JSON.stringify(config, null, 1) + '\n');
}

export async function readRun(dir: string, backend: string, seed: number): Promise<SeedRun | null> {
  const file = runFile(dir, backend, seed);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SeedRun;
  } catch {
    return null; // unreadable: run again
  }
}

/**
 * Every finished (status ok) run recorded in DIR/runs, including those of earlier invocations with
 * other --backends/--seeds: the folder, whose config.json fixes the settings, is the unit a summary
 * covers. Failed runs are left out (they are retried when asked for again).
 */
export async function readFinishedRuns(dir: string): Promise<SeedRun[]> {
  const names = existsSync(join(dir, 'runs')) ? await readdir(join(dir, 'runs')) : [];
  const runs: SeedRun[] = [];
  for (const name of names.sort()) {
    const m = /^(.+)-seed(\d+)\.json$/.exec(name);
    if (!m) continue;
    const run = await readRun(dir, m[1]!, Number(m[2]));
    if (run?.status === 'ok' && run.backend === m[1] && run.seed === Number(m[2])) runs.push(run);
  }
  return runs;
}

/** The child's job fields, plus where and how the parent runs it. */
export interface RunSeedOptions extends Pick<ReproduceJob, 'backend' | 'seed' | 'epochs' | 'limit' | 'dataDir' | 'threads' | 'validation' | 'overrides'> {
  dir: string;
  recipe: Recipe;
  json: boolean;
  /** Extra environment of the PyTorch child (torch/setup.ts), when the backend is pytorch. */
  torchEnv?: Record<string, string> | null;
  /** Receives the running child so Ctrl-C can kill it. */
  onChild?: (kill: () => void) => void;
}

function summarizeEpochs(epochs: EpochMetrics[]): Pick<SeedRun, 'finalAccuracy' | 'finalLoss' | 'bestAccuracy' | 'bestEpoch'> {
  const last = epochs.at(-1);
  let best: EpochMetrics | null = null;
  for (const e of epochs) if (!best || e.valAccuracy > best.valAccuracy) best = e;
  return { finalAccuracy: last?.valAccuracy ?? null, finalLoss: last?.valLoss ?? null, bestAccuracy: best?.valAccuracy ?? null, bestEpoch: best?.epoch ?? null };
}

/** "killed by SIGKILL" / "exited with code 1", as a run file's error says it. */
function describeExit(exit: ChildExit): string {
  switch (exit.kind) {
    case 'signal':
      return `killed by ${exit.signal}`;
    case 'aborted':
    case 'timeout':
      return 'killed by SIGKILL';
    case 'exit-code':
      return `exited with code ${exit.code}`;
    case 'spawn-error':
      return 'exited with code -1';
    case 'ok':
      return 'exited with code 0';
  }
}

/** Runs one (backend, seed) in a child process and writes its result file; never throws for a failed run. */
export async function runSeed(o: RunSeedOptions): Promise<SeedRun> {
  const id = runId(o.backend, o.seed);
  const weightsOut = join(o.dir, 'weights', `${id}.safetensors`);
  await mkdir(dirname(weightsOut), { recursive: true });
  await mkdir(join(o.dir, 'logs'), { recursive: true });
  const log = createWriteStream(join(o.dir, 'logs', `${id}.log`), { flags: 'a' });
  log.write(`--- ${new Date().toISOString()} ${o.recipe.name} ${id}\n`);
  const say = (s: string) => {
    if (!o.json) process.stderr.write(s + '\n');
    log.write(s + '\n');
  };
  const started = new Date();
  const t0 = performance.now();
  const run: SeedRun = {
    recipe: o.recipe.name,
    backend: o.backend,
    seed: o.seed,
    status: 'error',
    startedAt: started.toISOString(),
    wallSeconds: 0,
    runtime: null,
    versions: {},
    epochs: [],
    finalAccuracy: null,
    finalLoss: null,
    bestAccuracy: null,
    bestEpoch: null,
    trainSeconds: 0,
    imagesPerSecond: 0,
    weightsFile: null,
    error: null,
    environment: environmentSummary(),
  };
  const job: ReproduceJob = {
    recipe: o.recipe.name, backend: o.backend, seed: o.seed, epochs: o.epochs, limit: o.limit, dataDir: o.dataDir, threads: o.threads, weightsOut,
    ...(o.validation ? { validation: true } : {}),
    ...(o.overrides && Object.keys(o.overrides).length ? { overrides: o.overrides } : {}),
  };
  // pytorch: a Python child on the same work, speaking the same messages as JSON lines on stdout.
  let torchJob: TorchJob | null = null;
  if (o.backend === TORCH_BACKEND) {
    try {
      torchJob = await prepareTorchJob(job, o.recipe);
    } catch (err) {
      run.error = { phase: 'start', message: err instanceof Error ? err.message : String(err) };
      run.wallSeconds = (performance.now() - t0) / 1000;
      log.end();
      await writeFileAtomic(runFile(o.dir, o.backend, o.seed), JSON.stringify(run, null, 1) + '\n');
      return run;
    }
  }
  let lastStepLine = 0;
  let finished = false;
  const onMessage = (raw: unknown) => {
    const m = raw as ReproduceMessage;
    switch (m.type) {
      case 'info':
        run.runtime = m.runtime;
        run.versions = m.versions;
        if (m.torchBuild) {
          const facts = torchRunFacts(m.torchBuild);
          run.runtime = facts.runtime;
          run.versions = { ...m.versions, ...facts.versions };
          run.torchBuild = m.torchBuild;
          run.torchWarning = facts.warning;
        }
        say(`${id}: ${run.runtime}`);
        if (run.torchWarning) say(`${id}: ${run.torchWarning}`);
        break;
      case 'step': {
        const now = performance.now();
        if (!o.json && now - lastStepLine > 30_000) {
          lastStepLine = now;
          process.stderr.write(`${id} epoch ${m.epoch} step ${m.step}/${m.stepsPerEpoch} loss ${m.loss.toFixed(4)}\n`);
        }
        break;
      }
      case 'epoch': {
        const e = m.metrics;
        run.epochs.push(e);
        if (o.json) jsonLine({ type: 'epoch', recipe: o.recipe.name, backend: o.backend, seed: o.seed, ...e });
        say(`${id} epoch ${e.epoch}: train loss ${fixed(e.trainLoss)}, val loss ${fixed(e.valLoss)}, val acc ${pct(e.valAccuracy)}, ${int(e.imagesPerSecond)} img/s`);
        break;
      }
      case 'done':
        run.epochs = m.epochs;
        run.status = 'ok';
        run.trainSeconds = m.trainSeconds;
        run.imagesPerSecond = m.trainSeconds > 0 ? m.totalImages / m.trainSeconds : 0;
        run.weightsFile = relative(o.dir, weightsOut);
        finished = true;
        break;
      case 'error':
        run.epochs = m.epochs;
        run.error = { phase: m.phase, message: m.message };
        finished = true;
        break;
    }
  };
  const child = torchJob
    ? SupervisedProcess.jsonLines(pythonExecutable(), torchJob.args, { log, onMessage, env: o.torchEnv ?? null, tailLines: 10 })
    : SupervisedProcess.fork(REPRODUCE_CHILD, { log, onMessage, tailLines: 10 });
  if (!torchJob) child.send(job);
  o.onChild?.(() => child.kill());
  const exit = await child.exited;
  if (!finished || (run.status === 'ok' && exit.kind !== 'ok')) {
    run.status = 'error';
    const tail = child.stderrTail(1);
    run.error = { phase: 'train', message: exit.kind === 'aborted' ? 'interrupted' : `the child process ${describeExit(exit)} without reporting a result${tail.length ? `: ${tail[0]}` : ''}` };
  }
  await torchJob?.cleanup();
  Object.assign(run, summarizeEpochs(run.epochs));
  run.wallSeconds = (performance.now() - t0) / 1000;
  log.end();
  // An interrupted run is not recorded: the next invocation simply runs it again.
  if (exit.kind !== 'aborted') await writeFileAtomic(runFile(o.dir, o.backend, o.seed), JSON.stringify(run, null, 1) + '\n');
  return run;
}
