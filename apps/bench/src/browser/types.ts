/**
 * What the page of @lenet/web (apps/web) returns from `window.lenetBench.run()`; mirrors
 * apps/web/src/types.ts (apps do not import each other, so the JSON contract is restated here
 * and checked when it arrives: checkBrowserRun).
 */
import type { EvaluationResult, InferenceResult } from '../run/types.js';

export interface BrowserResult {
  id: string;
  family: 'ort-web' | 'tfjs' | 'plain';
  backend: string;
  package: string;
  where: 'main thread' | 'web worker';
  status: 'ok' | 'unavailable' | 'error';
  reason: string | null;
  phase: string | null;
  description: string;
  runtime: string | null;
  versions: Record<string, string>;
  threads: number | null;
  /** GPU backends: the adapter / renderer (absent on pages that predate it). */
  adapter?: string | null;
  /** GPU backends: a software fallback (SwiftShader etc.): timings not representative. */
  softwareFallback?: boolean | null;
  startedAt: string;
  wallSeconds: number;
  evaluation: EvaluationResult | null;
  inference: InferenceResult | null;
  /** Logits on the agreement subset (when asked for), as `lenet-bench run` cells produce them. */
  agreementLogits: number[] | null;
}

export interface BrowserRun {
  /** e.g. "Chromium 156.0.8078.108" (the page's userAgentData full version). */
  browser: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  weights: { source: string; model: string; params: number; format: string };
  dataset: string;
  limit: number | null;
  testCount: number;
  inferenceSeconds: number;
  startedAt: string;
  finishedAt: string;
  results: BrowserResult[];
}

/** The browser that produced the results (from playwright and the page's user agent). */
export interface BrowserInfo {
  name: string;
  version: string;
  executable: string;
  headless: boolean;
  args: string[];
}

/** The page's answer is data from another program: check the parts the merge relies on. */
export function checkBrowserRun(value: unknown): BrowserRun {
  const fail = (what: string): never => {
    throw new Error(`the page returned an unexpected result: ${what}`);
  };
  if (!value || typeof value !== 'object') fail('not an object');
  const run = value as BrowserRun;
  if (!Array.isArray(run.results)) fail('no results array');
  for (const r of run.results) {
    if (typeof r.id !== 'string' || !['ok', 'unavailable', 'error'].includes(r.status)) fail(`bad row ${JSON.stringify(r).slice(0, 120)}`);
    if (r.status === 'ok' && (!r.evaluation || !r.inference)) fail(`${r.id} is ok but lacks evaluation/inference`);
    if (r.adapter != null && (typeof r.adapter !== 'string' || r.adapter === '')) fail(`${r.id}: adapter must be a non-empty string`);
    if (r.softwareFallback != null && typeof r.softwareFallback !== 'boolean') fail(`${r.id}: softwareFallback must be a boolean`);
  }
  if (typeof run.testCount !== 'number') fail('no testCount');
  return run;
}
