/**
 * What a reader of the page sees, in Chromium on real Fashion-MNIST, without weights served (so
 * the page starts on untrained seed-0 weights): the chance-level warning; unique element ids;
 * the benchmark form with backends that cannot run here unticked and disabled with a reason;
 * the default training (the quick recipe, via the form) learning well above chance with an
 * overall ETA and separate loss / accuracy panels; "Use these weights" feeding the grid,
 * canvas and benchmark ("n of N" progress); the d2l recipe one click away with its plateau
 * note; and the layout at 390 px (no horizontal overflow, charts inside the viewport).
 * Screenshots (test-artifacts/): page-before.png, page-training.png, page-after.png,
 * page-390.png, page-d2l-plateau.png.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { BrowserRun, BrowserTraining } from '../src/types.js';
import { ARTIFACTS, CHROMIUM, ensureBuilt, openPage, startPreview } from './page.js';

const TEST_IMAGES = 500;

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage });
  expect(statSync(path).size, name).toBeGreaterThan(20_000);
}

/** Ids that occur more than once in the document. */
const duplicateIds = (page: Page) =>
  page.evaluate(() => {
    const seen = new Map<string, number>();
    for (const e of document.querySelectorAll('[id]')) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  });

describe.skipIf(!existsSync(CHROMIUM))(`the page as a reader sees it, in Chromium (needs ${CHROMIUM}, Debian package chromium)`, () => {
  let server: { close(): Promise<void>; url: string };

  beforeAll(async () => {
    await ensureBuilt();
    server = await startPreview(); // no weights file: the page starts on untrained weights
  });
  afterAll(async () => {
    await server?.close();
  });

  it('warns at chance, trains the default recipe above chance with an ETA, uses the trained weights, fits 390 px', async () => {
    const { page, errors, close } = await openPage(`${server.url}?limit=${TEST_IMAGES}`);
    try {
      // Before: untrained weights, and the page says what that means wherever it predicts.
      expect(await page.getAttribute('body', 'data-weights')).toBe('untrained');
      const warnings = page.locator('.chance-warning:visible');
      expect(await warnings.count()).toBe(3); // model, grid, canvas
      expect(await warnings.first().textContent()).toMatch(/Untrained weights: .*about 10 % accuracy — chance for 10 classes/);
      expect(await duplicateIds(page)).toEqual([]);

      // The benchmark form: what cannot run here is unticked and disabled, with its reason.
      const webgl = page.locator('label[data-backend="ort-web-webgl"]');
      expect(await webgl.locator('input').isChecked()).toBe(false);
      expect(await webgl.locator('input').isDisabled()).toBe(true);
      expect(await webgl.locator('.backend-reason').textContent()).toMatch(/^cannot run here: .*no WebGL EP/);
      // This Chromium has no WebGPU (not started with --enable-unsafe-webgpu): no adapter, so disabled.
      for (const id of ['ort-web-webgpu', 'tfjs-webgpu']) {
        const l = page.locator(`label[data-backend="${id}"]`);
        expect(await l.locator('input').isDisabled(), id).toBe(true);
        expect(await l.locator('.backend-reason').textContent(), id).toMatch(/^cannot run here: .*WebGPU/);
      }
      for (const id of ['ort-web-wasm', 'tfjs-wasm', 'plain-wasm']) expect(await page.isChecked(`label[data-backend="${id}"] input`), id).toBe(true);
      await shot(page, 'page-before.png', false);

      // A short run of d2l's sigmoid LeNet (through the API, 10 steps) ends on its plateau: the
      // panel says why, and using those weights keeps a (now measured) chance warning.
      const stuck: BrowserTraining = await page.evaluate(() =>
        window.lenetBench.train({ backend: 'plain-wasm', model: 'lenet5', epochs: 1, trainLimit: 1280, testLimit: 500, maxStepsPerEpoch: 10, evalEverySteps: 5, trainAccImages: 200 }),
      );
      expect(stuck.finalEvaluation!.accuracy, 'lenet5 after 10 steps').toBeLessThan(0.2);
      expect(await page.textContent('#train-chance')).toMatch(/chance level .*d2l’s sigmoid LeNet sits at chance \(loss ≈ 2\.30\) for about its first two epochs/);
      await page.click('#train-use');
      expect(await page.getAttribute('body', 'data-weights')).toBe('near-chance');
      expect(await page.locator('.chance-warning:visible').first().textContent()).toMatch(/Accuracy \d+\.\d % on 500 test images \(test accuracy at the end of the in-page training\) is near chance/);

      // The d2l recipe is one click away and warns about its plateau; the quick one is the default.
      expect(await page.getAttribute('#train', 'data-recipe')).toBe('quick');
      await page.click('#train-recipe-d2l');
      expect([await page.inputValue('#train-model'), await page.inputValue('#train-epochs'), await page.inputValue('#train-limit')]).toEqual(['lenet5', '10', 'all']);
      expect(await page.textContent('#train-recipe-note')).toMatch(/sits at chance \(10 %, loss ≈ 2\.30\) for about two epochs/);
      await page.click('#train-recipe-quick');
      expect([await page.inputValue('#train-model'), await page.inputValue('#train-limit'), await page.inputValue('#train-backend')]).toEqual(['lenet5-modern', '6000', 'plain-wasm']);

      // The default training, from the form.
      await page.click('#train-start');
      await page.waitForFunction(() => document.querySelectorAll('#train-plot-accuracy path.testAccuracy').length > 0 && Number(document.getElementById('train')!.dataset.steps ?? 0) >= 60, null, { timeout: 120_000 });
      expect(await page.textContent('#train-eta')).toMatch(/elapsed \d+:\d\d · ETA \d+:\d\d · about \d+:\d\d in all \(\d+ steps\)/);
      expect(await page.locator('#train-plot svg').count()).toBe(2); // loss and accuracy on separate axes
      expect(await page.locator('#train-plot-accuracy .chance-line').count()).toBe(1);
      await page.locator('#train').evaluate((e) => e.scrollIntoView({ block: 'start' })); // the section from its title
      await shot(page, 'page-training.png', false);
      await page.waitForFunction(() => ['finished', 'stopped', 'error'].includes(document.getElementById('train')!.dataset.state ?? ''), null, { timeout: 240_000 });
      const trained: BrowserTraining = (await page.evaluate(() => window.lenetBench.lastTraining()))!;
      expect(trained.status, trained.reason ?? '').toBe('ok');
      expect([trained.request.model, trained.trainCount, trained.request.epochs]).toEqual(['lenet5-modern', 6000, 5]);
      expect(trained.finalEvaluation!.accuracy, 'the default recipe learns').toBeGreaterThan(0.6);
      expect(await page.textContent('#train-eta')).toMatch(/^took \d+:\d\d/);
      expect(await page.isVisible('#train-chance')).toBe(false);

      // Use these weights: grid, canvas and benchmark predict with them; the warnings go.
      const gridBefore = await page.$$eval('#grid figure .pred', (p) => p.map((x) => x.textContent));
      await page.click('#train-use');
      expect(await page.getAttribute('body', 'data-weights')).toBe('learned');
      expect([await page.textContent('#train-use'), await page.isDisabled('#train-use')]).toEqual(['✓ Using these weights', true]);
      expect(await page.locator('.chance-warning:visible').count()).toBe(0);
      expect(await page.textContent('#model-info')).toMatch(/^lenet5-modern, .* from the training in this page: plain-wasm, \d+ steps \(5 epochs\)/);
      const gridAfter = await page.$$eval('#grid figure .pred', (p) => p.map((x) => x.textContent));
      expect(gridAfter).not.toEqual(gridBefore);
      const right = await page.locator('#grid figure.right').count();
      expect(right / 48, 'grid accuracy with the trained weights').toBeGreaterThan(0.5);

      // The benchmark from the form, on the ticked default set trimmed to two: "n of N" progress.
      for (const box of await page.$$('#backend-choices input:checked')) await box.uncheck();
      await page.check('label[data-backend="plain-wasm"] input');
      await page.check('label[data-backend="tfjs-wasm"] input');
      await page.fill('#seconds', '0.2');
      // Every text the progress line shows during the run ("1 of 2: plain-wasm…", …).
      await page.evaluate(() => {
        const line = document.getElementById('run-progress-text')!;
        const seen: string[] = ((window as unknown as { progressTexts: string[] }).progressTexts = []);
        new MutationObserver(() => seen.push(line.textContent ?? '')).observe(line, { childList: true, characterData: true, subtree: true });
      });
      await page.click('#run');
      await page.waitForFunction(() => /^2 of 2 done/.test(document.getElementById('run-progress-text')!.textContent ?? ''), null, { timeout: 120_000 });
      const progressTexts = await page.evaluate(() => (window as unknown as { progressTexts: string[] }).progressTexts);
      const during = progressTexts.filter((t) => /^\d of 2: /.test(t));
      expect(during.map((t) => t.slice(0, 7)), progressTexts.join(' | ')).toEqual(['1 of 2:', '2 of 2:']);
      expect(during.map((t) => t.slice(8)).sort()).toEqual(['plain-wasm…', 'tfjs-wasm…']);
      const run: BrowserRun = (await page.evaluate(() => window.lenetBench.lastRun()))!;
      expect(run.weights.source).toMatch(/^the training in this page/);
      for (const r of run.results) {
        expect(r.status, `${r.id}: ${r.reason}`).toBe('ok');
        // The same weights as the training's end, on the page's test subset (a different subset
        // than the training's 1,000 images, so only "learned" is asserted).
        expect(r.evaluation!.accuracy, r.id).toBeGreaterThan(0.6);
      }
      expect(await page.isVisible('#results-note')).toBe(false);
      await shot(page, 'page-after.png');
      expect(await duplicateIds(page)).toEqual([]);

      // 390 px (a phone): nothing wider than the viewport, every chart inside it.
      expect(await page.isVisible('.scroll-hint')).toBe(false);
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(200);
      // The results table scrolls inside its box there, and says so.
      expect(await page.isVisible('.scroll-hint')).toBe(true);
      const overflow = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        clipped: [...document.querySelectorAll('svg, canvas#pad, form, fieldset')]
          .map((e) => ({ what: e.id || e.getAttribute('aria-label') || e.tagName, right: e.getBoundingClientRect().right }))
          .filter((e) => e.right > document.documentElement.clientWidth + 0.5),
      }));
      expect(overflow.scroll, 'no horizontal scrolling at 390 px').toBeLessThanOrEqual(overflow.client);
      expect(overflow.clipped).toEqual([]);
      await shot(page, 'page-390.png');

      // The d2l recipe, started from the form: its first points sit on the plateau and the panel
      // says that this is expected; Stop ends it there, and the trained weights stay in use.
      await page.setViewportSize({ width: 1280, height: 1000 });
      await page.click('#train-recipe-d2l');
      await page.click('#train-start');
      await page.waitForSelector('#train-chance:visible', { timeout: 120_000 });
      expect(await page.textContent('#train-chance')).toMatch(/= chance \(10 % for 10 classes\), loss ≈ 2\.\d\d: expected — d2l’s sigmoid LeNet sits on this plateau for about two epochs, then learns/);
      await page.locator('#train').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await shot(page, 'page-d2l-plateau.png', false);
      await page.click('#train-stop');
      await page.waitForFunction(() => document.getElementById('train')!.dataset.state === 'stopped', null, { timeout: 120_000 });
      expect(await page.textContent('#train-chance')).toMatch(/is chance level .*this run was stopped within its first epoch/);
      expect(await page.getAttribute('body', 'data-weights')).toBe('learned');
      expect([await page.textContent('#train-use'), await page.isDisabled('#train-use')]).toEqual(['Use these weights', false]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
