/**
 * `reproduce --backends pytorch`: the (recipe, seed) run in apps/bench/python/torch_child.py
 * (mode "reproduce") instead of a forked Node child. The parent writes the identical work to a
 * temp folder (data bytes, Batcher orders, init weights, per-step lr; torch/job-files.ts); the
 * child's JSON stdout lines are the same ReproduceMessage objects a forked child sends over IPC
 * (the supervisor, process/supervisor.ts, reads both).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadRecipeData } from './data.js';
import { CliError, UsageError } from '../errors.js';
import { describeTorchBuild, torchBuildWarning, type TorchBuild } from '../torch/build-info.js';
import { strongestTorchSetup, type TorchSetup } from '../torch/setup.js';
import { cleanupTorchJob, makeTorchJobDir, stepsPerEpoch, writeTorchJobFiles } from '../torch/job-files.js';
import { pythonExecutable, TORCH_CHILD_SCRIPT, TORCH_INSTALL_HINT } from '../torch/python.js';
import { describeAugment, lrAt, type Recipe } from './recipes.js';
import type { ReproduceJob } from './types.js';

/** The --backends name of the PyTorch reference. */
export const TORCH_BACKEND = 'pytorch';

/**
 * Checks `--backends pytorch` can run this recipe here: no augmentation (its seeded draws live in
 * the JS data pipeline), and a Python that imports torch. Returns its strongest set-up (torch/setup.ts).
 */
export function checkTorchBackend(recipe: Recipe, flag = '--backends'): TorchSetup {
  if (recipe.augment) {
    throw new UsageError(
      `${flag}: "${TORCH_BACKEND}" cannot run recipe "${recipe.name}": it uses augmentation (${describeAugment(recipe.augment)}), ` +
        'whose seeded draws live in the JS data pipeline; PyTorch runs recipes without augmentation (d2l, modern, mnist)',
    );
  }
  const setup = strongestTorchSetup(pythonExecutable());
  if (!setup.build) throw new UsageError(`${flag}: "${TORCH_BACKEND}" needs Python with PyTorch: ${setup.error}; ${TORCH_INSTALL_HINT}`);
  return setup;
}

/** The strings a SeedRun records for a torch build (runtime line and versions). */
export function torchRunFacts(build: TorchBuild): { runtime: string; versions: Record<string, string>; warning: string | null } {
  const ob = build.blas.openblas;
  const versions: Record<string, string> = {
    torch: build.torch,
    python: build.python,
    blas: [build.blas.kind, ob?.version, ob?.threading, ob?.coreType ? `${ob.coreType} kernels` : null].filter(Boolean).join(' '),
    blasLibrary: build.blas.library ?? 'unknown',
    oneDNN: build.mkldnn.available ? (build.mkldnn.version ?? 'yes') : 'no',
    cpuCapability: build.cpuCapability ?? 'unknown',
    threads: String(build.threads),
    sgemmGflops: build.sgemm.gflops.toFixed(1),
  };
  return { runtime: describeTorchBuild(build), versions, warning: torchBuildWarning(build) };
}

export interface TorchJob {
  /** The Python arguments of the child: torch_child.py reproduce JOB.json. */
  args: string[];
  /** Removes the job folder. */
  cleanup: () => Promise<void>;
}

/** Writes the job files of the Python child (to start with the supervisor). */
export async function prepareTorchJob(job: ReproduceJob, recipe: Recipe): Promise<TorchJob> {
  if (recipe.augment) throw new CliError(`recipe "${recipe.name}" uses augmentation; the PyTorch child cannot run it`);
  const data = await loadRecipeData(recipe, { dataDir: job.dataDir, limit: job.limit, validation: !!job.validation });
  const spec = recipe.model();
  const steps = stepsPerEpoch(data.train.count, recipe.batchSize);
  let lrPerStep: Float64Array | null = null;
  if (recipe.schedule.kind !== 'constant') {
    lrPerStep = new Float64Array(job.epochs * steps);
    for (let e = 0; e < job.epochs; e++) {
      for (let s = 0; s < steps; s++) lrPerStep[e * steps + s] = lrAt(recipe.schedule, { epoch: e + 1, step: s + 1, stepsPerEpoch: steps, totalStep: e * steps + s }, job.epochs);
    }
  }
  const dir = await makeTorchJobDir('lenet-torch-reproduce-');
  const cleanup = () => cleanupTorchJob(dir);
  try {
    const files = await writeTorchJobFiles(dir, { train: data.train, test: data.evaluate, spec, seed: job.seed, batchSize: recipe.batchSize, epochs: job.epochs, lrPerStep });
    const jobFile = join(dir, 'job.json');
    await writeFile(
      jobFile,
      JSON.stringify({
        ...job,
        ...files,
        spec,
        batchSize: recipe.batchSize,
        lr: recipe.schedule.lr,
        // torch.optim.SGD(momentum, weight_decay, nesterov): the same rule as @lenet/core's optimizer.ts.
        optimizer: recipe.optimizer ?? null,
        weightsMetadata: {
          spec: JSON.stringify(spec),
          dataset: recipe.dataset,
          recipe: recipe.name,
          seed: String(job.seed),
          batchSize: String(recipe.batchSize),
        },
      }),
    );
    return { args: ['-u', TORCH_CHILD_SCRIPT, 'reproduce', jobFile], cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
