/**
 * Drives the page headlessly: Debian's Chromium through playwright-core, a fresh profile
 * folder; no GPU unless a GPU backend is asked for (then software WebGL/WebGPU flags, gpu.ts).
 * Returns the page's results and which browser produced them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { onStopSignal } from '../safety/signals.js';
import { chromiumArgs } from './gpu.js';
import { checkBrowserRun, type BrowserInfo, type BrowserRun, type LenetBenchPage } from './types.js';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** Headless, sandbox-free (containers), no GPU, no background network traffic (GPU runs: chromiumArgs). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface DriveOptions {
  url: string;
  executable: string;
  backends: string[] | null;
  dataset: string;
  limit: number | null;
  inferenceSeconds: number;
  /** Logits of this many test images for the agreement check (0: none). */
  agreementImages: number;
  /** Cold-start samples per backend that ran (RunOptions.coldStarts; 0: none). */
  coldStarts?: number;
  screenshot: string | null;
  onStatus?: (text: string) => void;
  /** Runs after the inference run and its screenshot, on the same page (e.g. in-page training). */
  afterRun?: (page: import('playwright-core').Page, run: BrowserRun) => Promise<void>;
}

/** The page as the harness sees it (its answers are checked: they come from another program). */
type PageApi = { lenetBench: LenetBenchPage };

export async function runInChromium(opts: DriveOptions): Promise<{ run: BrowserRun; browser: BrowserInfo }> {
  if (!existsSync(opts.executable)) {
    throw new CliError(`no browser at ${opts.executable}: install Debian's chromium (apt-get install chromium) or pass --chromium <path>`);
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new CliError(`playwright-core could not be loaded (${(e as Error).message.split('\n')[0]}); it is a dependency of @lenet/bench: run pnpm install`);
  }
  const args = chromiumArgs(CHROMIUM_ARGS, opts.backends);
  // Chromium's own temporary files (its singleton-socket folder) go in a folder of ours; the
  // profile is a temporary one of Playwright's (userDataDir ''), which Playwright removes after
  // Chromium has exited, also when this process exits on a signal.
  const chromiumTmp = mkdtempSync(join(tmpdir(), 'lenet-chromium-'));
  const removeChromiumTmp = () => rmSync(chromiumTmp, { recursive: true, force: true });
  // Ctrl-C and SIGTERM are ours (safety/signals.ts: exit 130/143): Playwright's own handlers would
  // close the page under a running evaluate, and that error would win over the signal.
  let launched = false;
  const offStop = onStopSignal({ kill: () => (launched ? undefined : removeChromiumTmp()) });
  const context = await chromium.launchPersistentContext('', {
    executablePath: opts.executable,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args,
    // Unix socket paths are limited to 107 bytes: under a long TMPDIR Chromium keeps its default.
    ...(join(chromiumTmp, 'org.chromium.Chromium.XXXXXX', 'SingletonSocket').length < 100 ? { env: { ...process.env, TMPDIR: chromiumTmp } } : {}),
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  launched = true;
  // Registered after Playwright's 'exit' hook (added at launch), which SIGKILLs Chromium's process
  // group: on an exit by signal, Chromium is gone before its folder is removed.
  process.once('exit', removeChromiumTmp);
  const pageErrors: string[] = [];
  let poll: NodeJS.Timeout | undefined;
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const q = new URLSearchParams({ dataset: opts.dataset, limit: opts.limit === null ? 'all' : String(opts.limit), seconds: String(opts.inferenceSeconds) });
    await page.goto(`${opts.url}?${q}`);
    try {
      await page.evaluate(() => (window as unknown as PageApi).lenetBench.ready);
    } catch (e) {
      const status = await page.textContent('#status').catch(() => null);
      throw new CliError(`the page did not load: ${status ?? (e as Error).message}`);
    }
    const known = await page.evaluate(() => (window as unknown as PageApi).lenetBench.backendIds);
    const unknown = (opts.backends ?? []).filter((b) => !known.includes(b));
    if (unknown.length) throw new CliError(`--backends: unknown browser backend ${unknown.join(', ')} (the page has ${known.join(', ')})`);
    if (opts.onStatus) {
      let last = '';
      poll = setInterval(() => {
        page.textContent('#status').then(
          (t) => {
            if (t && t !== last) opts.onStatus!((last = t));
          },
          () => undefined,
        );
      }, 500);
    }
    const raw = await page.evaluate((o) => (window as unknown as PageApi).lenetBench.run(o), {
      backends: opts.backends ?? known,
      limit: opts.limit,
      inferenceSeconds: opts.inferenceSeconds,
      agreementImages: opts.agreementImages,
      ...(opts.coldStarts ? { coldStarts: opts.coldStarts } : {}),
      // The default set skips GPU backends on a software adapter (SwiftShader: not representative,
      // minutes per WebGPU window); named ones run anyway.
      skipSoftwareGpu: opts.backends === null,
    });
    if (poll) clearInterval(poll);
    const run = checkBrowserRun(raw);
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    if (opts.afterRun) await opts.afterRun(page, run);
    if (pageErrors.length) throw new CliError(`the page reported errors: ${pageErrors.join('; ')}`);
    // The page reports the full version ("Chromium 156.0.8078.108"); the user-agent string
    // is frozen at "156.0.0.0" by Chromium's UA reduction, so it is only the fallback.
    const full = /^(\S+) ([\d.]+)$/.exec(run.browser);
    const ua = /(?:HeadlessChrome|Chrome|Chromium)\/([\d.]+)/.exec(run.userAgent);
    const browser: BrowserInfo = {
      name: full?.[1] ?? 'Chromium',
      version: full?.[2] ?? ua?.[1] ?? 'unknown',
      executable: opts.executable,
      headless: true,
      args,
    };
    return { run, browser };
  } finally {
    if (poll) clearInterval(poll);
    await context.close();
    removeChromiumTmp();
    process.off('exit', removeChromiumTmp);
    offStop();
  }
}
