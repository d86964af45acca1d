// `reproduce` across backends: confidence intervals, the same-seed cross-backend table and mean
// curves as units; the PyTorch job files against the Batcher; and `--backends pytorch,plain` end to
// end on a small Fashion-MNIST subset: identical work, so the per-epoch losses agree closely.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Batcher, type ImageSplit } from '@lenet/datasets';
import { decodeSafetensors, getPreset, initWeights } from '@lenet/model';
import type { EpochMetrics } from '@lenet/core';
import { getRecipe } from '../src/reproduce/recipes.js';
import { meanInterval, stats } from '../src/reproduce/stats.js';
import { accuracyChart, crossBackend, renderMarkdown, summarize } from '../src/reproduce/summary.js';
import type { SeedRun } from '../src/reproduce/types.js';
import { isTorchBuild, readTorchBuild, torchBuildWarning } from '../src/torch/build-info.js';
import { stepsPerEpoch, writeTorchJobFiles } from '../src/torch/job-files.js';
import { runCli } from './cli-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-reproduce-torch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (...args: string[]) => runCli(args, tmp, {}, { timeoutMs: 240_000 });

describe('meanInterval (Student t from jstat)', () => {
  it('95% interval of 3 values uses t(0.975, 2) = 4.3027', () => {
    const ci = meanInterval([0.8, 0.9, 1.0])!;
    expect(ci.df).toBe(2);
    expect(ci.t).toBeCloseTo(4.3026527, 6);
    expect(ci.halfWidth).toBeCloseTo((4.3026527 * 0.1) / Math.sqrt(3), 6);
    expect(ci.low).toBeCloseTo(0.9 - ci.halfWidth, 12);
    expect(ci.high).toBeCloseTo(0.9 + ci.halfWidth, 12);
  });

  it('other levels and sizes: t(0.975, 4) = 2.7764, t(0.95, 9) = 1.8331 (tables, 6 digits); fewer than 2 values: null', () => {
    expect(meanInterval([1, 2, 3, 4, 5])!.t).toBeCloseTo(2.7764451, 6);
    expect(meanInterval(Array.from({ length: 10 }, (_, i) => i), 0.9)!.t).toBeCloseTo(1.8331129, 6);
    expect(meanInterval([0.7])).toBeNull();
    expect(meanInterval([])).toBeNull();
    expect(() => meanInterval([1, 2], 1)).toThrow(/level must be in \(0, 1\)/);
  });
});

function epochs(accs: number[]): EpochMetrics[] {
  return accs.map((a, i) => ({ epoch: i + 1, steps: 1, images: 1, trainLoss: 1, valLoss: 1, valAccuracy: a, seconds: 1, evalSeconds: 0, imagesPerSecond: 1, elapsedSeconds: i + 1, partial: false }));
}

function fakeRun(backend: string, seed: number, accs: number[], status: SeedRun['status'] = 'ok'): SeedRun {
  return {
    recipe: 'd2l', backend, seed, status, startedAt: '', wallSeconds: 1, runtime: `${backend} runtime`, versions: {}, epochs: epochs(accs),
    finalAccuracy: accs.at(-1) ?? null, finalLoss: 1, bestAccuracy: Math.max(...accs), bestEpoch: 1, trainSeconds: 1, imagesPerSecond: 100,
    weightsFile: null, error: status === 'ok' ? null : { phase: 'train', message: 'boom' }, environment: { cpuModel: 'x', cores: 2, node: 'v20', loadAverage: [] },
  };
}

describe('summary across backends', () => {
  const recipe = getRecipe('d2l');
  const runs = [
    fakeRun('pytorch', 0, [0.5, 0.73]),
    fakeRun('pytorch', 1, [0.6, 0.74]),
    fakeRun('plain', 0, [0.5, 0.7305]),
    fakeRun('plain', 1, [0.6, 0.7380]),
    fakeRun('plain', 2, [0.4, 0.72]),
    fakeRun('ort-node', 0, [0.5], 'error'),
  ];
  const s = summarize(recipe, 2, ['pytorch', 'plain', 'ort-node'], runs);

  it('per backend: mean ± sd, 95% CI, mean curve over the finished seeds', () => {
    const [pt, plain, ort] = s.backends;
    expect(pt!.ci95!.low).toBeCloseTo(0.735 - (12.7062047 * stats([0.73, 0.74])!.sd) / Math.sqrt(2), 6);
    expect(plain!.meanCurve).toEqual([
      { epoch: 1, mean: 0.5, n: 3 },
      { epoch: 2, mean: (0.7305 + 0.738 + 0.72) / 3, n: 3 },
    ]);
    expect(ort!.ci95).toBeNull();
    expect(ort!.failed).toHaveLength(1);
  });

  it('same seeds, different backends: per-seed finals and max |Δ acc|; backends without results left out', () => {
    expect(s.crossBackend!.backends).toEqual(['pytorch', 'plain']);
    expect(s.crossBackend!.seeds.map((r) => [r.seed, r.finals, r.maxAbsDelta])).toEqual([
      [0, { pytorch: 0.73, plain: 0.7305 }, expect.closeTo(0.0005, 12)],
      [1, { pytorch: 0.74, plain: 0.738 }, expect.closeTo(0.002, 12)],
      [2, { pytorch: null, plain: 0.72 }, null],
    ]);
    expect(s.crossBackend!.maxAbsDelta).toBeCloseTo(0.002, 12);
    expect(crossBackend(s.backends.slice(0, 1))).toBeNull();
  });

  it('markdown has the CI column and the cross-backend table; the chart draws one mean line per backend', () => {
    const md = renderMarkdown(recipe, s);
    expect(md).toMatch(/\| backend \| seeds \| mean ± sd \| 95% CI of mean \| min – max \| band \| verdict \|/);
    expect(md).toMatch(/\| seed \| pytorch \| plain \| max \\\|Δ acc\\\| \|\n\|---\|---\|---\|---\|\n\| 0 \| 73\.00% \| 73\.05% \| 0\.05 pp \|/);
    const chart = accuracyChart(recipe, s) as unknown as { layer: { data: { values: { run?: string }[] } }[] };
    const lines = new Set(chart.layer.at(-1)!.data.values.map((v) => v.run));
    expect([...lines]).toEqual(['pytorch (mean of 2 seeds)', 'plain (mean of 3 seeds)']);
  });
});

describe('PyTorch job files', () => {
  it('the Batcher orders, the seeded init weights and the per-step lr, as written for Python', async () => {
    const count = 300;
    const split = (n: number, s: 'train' | 'test'): ImageSplit => ({
      dataset: 'fashion-mnist', split: s, count: n, rows: 28, cols: 28,
      images: Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256), labels: Uint8Array.from({ length: n }, (_, i) => i % 10),
      classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    }) as ImageSplit;
    const spec = getPreset('lenet5');
    const steps = stepsPerEpoch(count, 128);
    expect(steps).toBe(3);
    const lr = Float64Array.from({ length: 2 * steps }, (_, k) => 0.1 / (k + 1));
    const dir = mkdtempSync(join(tmp, 'job-'));
    const job = await writeTorchJobFiles(dir, { train: split(count, 'train'), test: split(50, 'test'), spec, seed: 7, batchSize: 128, epochs: 2, lrPerStep: lr });
    expect(job).toMatchObject({ trainCount: count, testCount: 50, rows: 28, cols: 28, classes: 10, stepsPerEpoch: 3, agreementCount: 0 });
    const order = new Uint32Array(new Uint8Array(readFileSync(job.files.order)).buffer);
    const batcher = new Batcher(split(count, 'train'), { batchSize: 128, seed: 7 });
    expect(Array.from(order.subarray(count, 2 * count))).toEqual(Array.from(batcher.epochOrder(1)));
    expect(Array.from(order.subarray(0, count))).toEqual(Array.from(batcher.epochOrder(0)));
    expect(Array.from(new Float64Array(new Uint8Array(readFileSync(job.files.lr!)).buffer))).toEqual(Array.from(lr));
    const init = decodeSafetensors(new Uint8Array(readFileSync(job.files.initWeights))).weights;
    const want = initWeights(spec, 7);
    expect([...init.keys()]).toEqual([...want.keys()]);
    for (const [name, t] of want) expect(Array.from(init.get(name)!.data)).toEqual(Array.from(t.data));
    await expect(writeTorchJobFiles(dir, { train: split(count, 'train'), test: split(50, 'test'), spec, seed: 7, batchSize: 128, epochs: 2, lrPerStep: lr.subarray(1) })).rejects.toThrow(/5 learning rates for 2 epochs x 3 steps/);
  });
});

const torch = readTorchBuild();
const noTorch = isTorchBuild(torch) ? null : torch.error;

describe('reproduce --backends pytorch', () => {
  it('a recipe with augmentation is refused for pytorch (usage error, exit 2)', async () => {
    const r = await run('reproduce', 'fashion-plus', '--backends', 'pytorch', '--seeds', '0', '--out', join(tmp, 'aug'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backends: "pytorch" cannot run recipe "fashion-plus": it uses augmentation \(random shifts of ±1 px, random horizontal flips\)/);
  });

  it.skipIf(!!noTorch)('pytorch and plain on identical work (modern, 1,000 images, 2 epochs): losses agree, build facts recorded', async () => {
    const out = join(tmp, 'pt');
    const r = await run('reproduce', 'modern', '--backends', 'pytorch,plain', '--seeds', '3', '--epochs', '2', '--limit', '1000', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const pt = JSON.parse(readFileSync(join(out, 'runs', 'pytorch-seed3.json'), 'utf8')) as SeedRun;
    const plain = JSON.parse(readFileSync(join(out, 'runs', 'plain-seed3.json'), 'utf8')) as SeedRun;
    expect(pt.status).toBe('ok');
    expect(pt.epochs).toHaveLength(2);
    for (let e = 0; e < 2; e++) {
      expect(pt.epochs[e]!.steps).toBe(plain.epochs[e]!.steps);
      expect(Math.abs(pt.epochs[e]!.trainLoss - plain.epochs[e]!.trainLoss)).toBeLessThan(2e-3);
      expect(Math.abs(pt.epochs[e]!.valAccuracy - plain.epochs[e]!.valAccuracy)).toBeLessThanOrEqual(0.01);
    }
    expect(pt.torchBuild?.blas.kind).toBe((torch as { blas: { kind: string } }).blas.kind);
    expect(pt.versions).toMatchObject({ torch: expect.any(String), python: expect.any(String), blas: expect.stringMatching(/^(openblas|mkl|blis|reference|unknown)/) });
    expect(pt.runtime).toMatch(/^PyTorch \S+ \(Python 3/);
    // The strongest set-up, as in `run`: an OpenBLAS that fell back to generic kernels here gets OPENBLAS_CORETYPE.
    expect(torchBuildWarning(pt.torchBuild!), 'the reproduce child runs a handicapped torch').toBeNull();
    const saved = decodeSafetensors(new Uint8Array(readFileSync(join(out, pt.weightsFile!))));
    expect([...saved.weights.keys()].sort()).toEqual([...initWeights(getPreset('lenet5-modern'), 3).keys()].sort());
    expect(saved.metadata).toMatchObject({ backend: 'pytorch', recipe: 'modern', seed: '3', epochs: '2' });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { crossBackend: { seeds: { seed: number; maxAbsDelta: number }[] } };
    expect(summary.crossBackend.seeds).toEqual([{ seed: 3, finals: { pytorch: pt.finalAccuracy, plain: plain.finalAccuracy }, maxAbsDelta: Math.abs(pt.finalAccuracy! - plain.finalAccuracy!) }]);
    expect(r.stdout).toMatch(/Same seeds, different backends/);
  }, 240_000);
});
