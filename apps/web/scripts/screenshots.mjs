// Screenshots of the training section for README.md (docs/train-running.png, docs/train-finished.png):
// the built page (vite preview with vite.config.ts, so COOP/COEP and the data routes) in Debian's
// Chromium through playwright-core; the form's default (quick) recipe: lenet5-modern, 5 epochs on
// a 6,000-image train subset (stratified, seed 0) with plain's WebAssembly kernels in a pool of
// Web Workers.
// Run: pnpm --filter @lenet/web build && node apps/web/scripts/screenshots.mjs
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';
import { chromium } from 'playwright-core';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(APP, 'docs');
mkdirSync(OUT, { recursive: true });
const server = await preview({ root: APP, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0 } });
const profile = mkdtempSync(join(tmpdir(), 'lenet-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.LENET_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1100, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${server.resolvedUrls.local[0]}?limit=1000`);
  await page.evaluate(() => window.lenetBench.ready);
  await page.click('#train-recipe-quick');
  await page.click('#train-start');
  const section = page.locator('#train');
  // Mid-run: once the curve has passed two epochs.
  await page.waitForFunction(() => Number(document.getElementById('train').dataset.steps ?? 0) >= 2 * 47 + 10, null, { timeout: 600_000 });
  await section.screenshot({ path: join(OUT, 'train-running.png') });
  await page.waitForFunction(() => ['finished', 'stopped', 'error'].includes(document.getElementById('train').dataset.state), null, { timeout: 600_000 });
  await section.screenshot({ path: join(OUT, 'train-finished.png') });
  const r = await page.evaluate(() => window.lenetBench.lastTraining());
  console.log(`${r.id} (${r.runtime}): ${r.totalSteps} steps, ${Math.round(r.imagesPerSecond)} img/s, test accuracy ${(r.finalEvaluation.accuracy * 100).toFixed(2)} % on ${r.finalEvaluation.count}`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  await server.close();
}
