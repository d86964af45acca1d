/** Seed lists, summary statistics and the inside/outside verdict of `lenet-bench reproduce`. */
import { InvalidArgumentError } from 'commander';
import jStat from 'jstat';
import type { Band } from './recipes.js';

const MAX_SEEDS = 100;

/** "0-4" -> [0..4]; "0,2,5" -> [0,2,5]; "3" -> [3]; mixed "0-2,7". Duplicates are an error. */
export function parseSeeds(value: string): number[] {
  const out: number[] = [];
  const text = value.trim();
  if (text === '') throw new InvalidArgumentError('expected seeds like 0-4, 0,1,2 or 3.');
  for (const part of text.split(',')) {
    const p = part.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(p);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new InvalidArgumentError(`range "${p}" runs backwards; expected low-high, e.g. 0-4.`);
      if (b - a + 1 > MAX_SEEDS) throw new InvalidArgumentError(`range "${p}" has more than ${MAX_SEEDS} seeds.`);
      for (let s = a; s <= b; s++) out.push(s);
    } else if (/^\d+$/.test(p)) out.push(Number(p));
    else throw new InvalidArgumentError(`"${p}" is not a seed (a non-negative integer) or a range like 0-4.`);
  }
  for (const s of out) if (!Number.isSafeInteger(s) || s > 0xffffffff) throw new InvalidArgumentError(`seed ${s} is not a 32-bit unsigned integer.`);
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`seed ${dup} is listed twice.`);
  if (out.length > MAX_SEEDS) throw new InvalidArgumentError(`more than ${MAX_SEEDS} seeds.`);
  return out;
}

export interface Stats {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  sd: number;
  min: number;
  max: number;
}

export function stats(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

export type VerdictKind = 'inside' | 'outside' | 'no results';

export interface Verdict {
  verdict: VerdictKind;
  /** Seeds whose final accuracy lies in the band. */
  seedsInside: number;
  seeds: number;
  text: string;
}

/**
 * A backend is "inside" when the mean final accuracy of its seeds lies in [low, high] (the band is
 * meant for one run's spread, so the mean of several runs must sit in it too); the count of
 * individual seeds inside is reported next to it.
 */
export function verdict(band: Band, finals: readonly number[]): Verdict {
  const s = stats(finals);
  if (!s) return { verdict: 'no results', seedsInside: 0, seeds: 0, text: 'no finished seeds' };
  const inBand = (a: number) => a >= band.low && a <= band.high;
  const seedsInside = finals.filter(inBand).length;
  const v: VerdictKind = inBand(s.mean) ? 'inside' : 'outside';
  const where = v === 'inside' ? '' : s.mean < band.low ? ' (below)' : ' (above)';
  return { verdict: v, seedsInside, seeds: s.n, text: `${v}${where}: mean ${(s.mean * 100).toFixed(2)}%, ${seedsInside}/${s.n} seeds inside` };
}

export function formatBand(band: Band): string {
  const p = (x: number) => `${(x * 100).toFixed(2)}%`;
  return band.kind === 'goal' ? `>= ${p(band.low)}` : `${p(band.low)} – ${p(band.high)}`;
}

/** A two-sided confidence interval of a mean. */
export interface MeanInterval {
  /** e.g. 0.95 */
  level: number;
  low: number;
  high: number;
  /** t * sd / sqrt(n). */
  halfWidth: number;
  /** Student t quantile used (jstat), with n - 1 degrees of freedom. */
  t: number;
  df: number;
}

/**
 * Student-t confidence interval of the mean of `values` (sample sd, n - 1 degrees of freedom);
 * null for fewer than 2 values. The t quantile comes from jstat, not from code of ours.
 */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval | null {
  const s = stats(values);
  if (!s || s.n < 2) return null;
  if (!(level > 0 && level < 1)) throw new RangeError(`meanInterval: level must be in (0, 1), got ${level}`);
  const df = s.n - 1;
  const t = jStat.studentt.inv(1 - (1 - level) / 2, df);
  const halfWidth = (t * s.sd) / Math.sqrt(s.n);
  return { level, low: s.mean - halfWidth, high: s.mean + halfWidth, halfWidth, t, df };
}
