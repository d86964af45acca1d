// Issue 28's training features through `lenet-bench reproduce`: the record recipes' networks stay
// under 100,000 parameters; the recipe/override plumbing as units; and end to end on real
// Fashion-MNIST (tiny: --limit, 1 epoch, 1 thread) `reproduce fashion-record --validation`
// (momentum, Nesterov, weight decay, validation holdout) on plain and ort-node,
// whose final weights agree within the tolerance of the reference-following checks; tfjs-layers
// refuses the recipe by name before training; a resume with another --lr is refused.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertClose } from '@lenet/core';
import { summarize } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';
import { describeAugment, getRecipe, withOverrides } from '../src/reproduce/recipes.js';
import { evaluationOf } from '../src/reproduce/data.js';
import { optimizerFromFlags } from '../src/commands/train.js';
import { runCli } from './cli-process.js';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const tmp = mkdtempSync(join(tmpdir(), 'lenet-recipe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('record recipes (issue 28 placeholders)', () => {
  it.each(['fashion-record', 'mnist-record'])('%s: < 100,000 parameters, <= 30 epochs, momentum + weight decay, a validation split', (name) => {
    const r = getRecipe(name);
    const { totalParams } = summarize(r.model());
    expect(totalParams).toBeLessThan(100_000);
    // conv1 16·25+16, conv2 32·16·25+32, fc1 96·800+96, fc2 10·96+10.
    expect(totalParams).toBe(416 + 12_832 + 76_896 + 970);
    expect(r.epochs).toBeLessThanOrEqual(30);
    expect(r.optimizer).toEqual({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    expect(r.validation).toEqual({ size: 10000, seed: 12345 });
  });

  it('overrides replace the peak lr, momentum and weight decay; momentum 0 drops Nesterov', () => {
    const r = getRecipe('fashion-record');
    const o = withOverrides(r, { lr: 0.02, weightDecay: 1e-3 });
    expect(o.schedule).toEqual({ ...r.schedule, lr: 0.02 });
    expect(o.optimizer).toEqual({ momentum: 0.9, nesterov: true, weightDecay: 1e-3 });
    expect(withOverrides(r, { momentum: 0 }).optimizer).toEqual({ momentum: 0, nesterov: false, weightDecay: 5e-4 });
    expect(withOverrides(r, { momentum: 0, weightDecay: 0 }).optimizer).toBeUndefined();
    expect(withOverrides(r, {})).toBe(r);
  });

  it('the validation split keeps its share of the training split under --limit', () => {
    const r = getRecipe('fashion-record');
    expect(evaluationOf(r, null, true)).toEqual({ kind: 'validation', images: 10000, seed: 12345 });
    expect(evaluationOf(r, 6000, true)).toEqual({ kind: 'validation', images: 1000, seed: 12345 });
    expect(evaluationOf(r, 600, false)).toEqual({ kind: 'test', images: 600 });
  });

  it('train --momentum/--weight-decay/--nesterov become the session optimizer (plain SGD when all are defaults)', () => {
    expect(optimizerFromFlags({ momentum: 0, weightDecay: 0 })).toBeUndefined();
    expect(optimizerFromFlags({ momentum: 0.9, nesterov: true })).toEqual({ momentum: 0.9, weightDecay: 0, nesterov: true });
    expect(() => optimizerFromFlags({ nesterov: true })).toThrow(/--nesterov needs --momentum > 0/);
  });
});

describe('reproduce fashion-record --validation end to end (real Fashion-MNIST, 1 epoch)', () => {
  const args = ['fashion-record', '--validation', '--seeds', '0', '--epochs', '1', '--limit', '600', '--threads', '1', '--data-dir', FASHION_DIR];

  it('plain and ort-node train the same work to agreeing weights, evaluated on the holdout only', async (ctx) => {
    if (!existsSync(FASHION_DIR)) ctx.skip(`Fashion-MNIST is not installed at ${FASHION_DIR}`);
    const out = join(tmp, 'record');
    const r = await runCli(['reproduce', ...args, '--backends', 'plain,ort-node', '--out', out], tmp, {}, { timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ recipe: 'fashion-record', optimizer: 'SGD (momentum 0.9 nesterov, weight decay 0.0005)', evaluation: { kind: 'validation', images: 100, seed: 12345 } });
    expect(config.augment).toBe(describeAugment(getRecipe('fashion-record').augment));
    expect(r.stdout).toMatch(/accuracy measured on: validation \(100 images held out of the training set/);
    expect(r.stdout).toMatch(/final valid\. acc/);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/Accuracy measured on: validation \(100 images held out of the training set/);
    for (const backend of ['plain', 'ort-node']) {
      const run = JSON.parse(readFileSync(join(out, 'runs', `${backend}-seed0.json`), 'utf8'));
      expect(run.status, JSON.stringify(run.error)).toBe('ok');
      // 600 stratified images minus the 100 held out: 500 training images, 8 steps of 64.
      expect(run.epochs[0].images).toBe(500);
    }
    const spec = getRecipe('fashion-record').model();
    const plain = (await loadWeightsFile(join(out, 'weights', 'plain-seed0.safetensors'), spec)).weights;
    const ort = (await loadWeightsFile(join(out, 'weights', 'ort-node-seed0.safetensors'), spec)).weights;
    expect(JSON.parse((await loadWeightsFile(join(out, 'weights', 'plain-seed0.safetensors'), spec)).metadata.optimizer!)).toEqual({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    for (const [name, t] of plain) assertClose(`ort-node vs plain: ${name}`, ort.get(name)!.data, t.data, { atol: 1e-5, rtol: 1e-4 });

    // The same folder with another lr is another experiment: resume refuses it.
    const again = await runCli(['reproduce', ...args, '--backends', 'plain', '--lr', '0.02', '--out', out], tmp, {}, { timeoutMs: 120_000 });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/holds runs made with different settings \(.*overrides: undefined there, \{"lr":0\.02\} now/);
  }, 300_000);

  it('tfjs-layers refuses the recipe by name before training (usage error, exit 2)', async () => {
    const r = await runCli(['reproduce', ...args, '--backends', 'tfjs-layers-cpu', '--out', join(tmp, 'layers')], tmp, {}, { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backends: cannot run recipe "fashion-record" on tfjs-layers-cpu: tfjs-layers-cpu cannot train with momentum or weight decay/);
    expect(existsSync(join(tmp, 'layers', 'runs'))).toBe(false);
  });
});

describe('train --momentum/--weight-decay/--nesterov (real Fashion-MNIST, a few steps)', () => {
  it('trains with the optimizer and records it in the JSON result and the weights; tfjs-layers refuses it (exit 2)', async (ctx) => {
    if (!existsSync(FASHION_DIR)) ctx.skip(`Fashion-MNIST is not installed at ${FASHION_DIR}`);
    const common = ['--limit', '200', '--epochs', '1', '--batch-size', '50', '--threads', '1', '--data-dir', FASHION_DIR, '--momentum', '0.9', '--nesterov', '--weight-decay', '5e-4', '--json'];
    const out = join(tmp, 'train.safetensors');
    const r = await runCli(['train', '--backend', 'plain', '--model', 'lenet5-modern', ...common, '--out', out], tmp, {}, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const result = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.type === 'result')!;
    expect(result.optimizer).toEqual({ name: 'sgd', momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    expect(JSON.parse((await loadWeightsFile(out)).metadata.optimizer!)).toEqual(result.optimizer);
    const refused = await runCli(['train', '--backend', 'tfjs-layers-cpu', ...common, '--out', join(tmp, 'layers.safetensors')], tmp, {}, { timeoutMs: 120_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: --momentum\/--weight-decay: tfjs-layers-cpu cannot train with momentum or weight decay/m);
  }, 240_000);
});
