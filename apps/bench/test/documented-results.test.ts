// The published results (docs/results/<recipe>-summary.json, written by `lenet-bench reproduce`)
// must still describe the recipes in the code: a recipe changed after its numbers were published
// would otherwise leave docs/results.md quoting accuracies nobody can reproduce.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeAugment, describeSchedule, getRecipe, RECIPES } from '../src/reproduce/recipes.js';
import { meanInterval, stats, verdict } from '../src/reproduce/stats.js';

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '../../../docs/results');
const files = readdirSync(resultsDir).filter((f) => f.endsWith('-summary.json'));

interface PublishedSummary {
  recipe: string;
  epochs: number;
  config: { recipe: string; model: string; dataset: string; epochs: number; batchSize: number; schedule: string; augment: string; limit: number | null };
  backends: {
    backend: string;
    seeds: number[];
    finals: number[];
    stats: { mean: number };
    verdict: { verdict: string; seedsInside: number };
    /** Since the 95% CI was added; older summaries lack it. */
    ci95?: { low: number; high: number } | null;
  }[];
  runs: { backend: string; seed: number; status: string; finalAccuracy: number | null }[];
  /** Since the same-seed cross-backend table was added; older summaries lack it. */
  crossBackend?: { backends: string[]; seeds: { seed: number; finals: Record<string, number | null>; maxAbsDelta: number | null }[] } | null;
}

describe('docs/results match the recipes', () => {
  it('every recipe has published results (but those marked unpublished, which have none yet)', () => {
    const published = RECIPES.filter((r) => !r.unpublished).map((r) => r.name);
    expect(files.map((f) => f.replace(/-summary\.json$/, '')).sort()).toEqual([...published].sort());
  });

  it.each(files)('%s: same settings as the recipe, verdicts recomputed from the finals', (file) => {
    const s = JSON.parse(readFileSync(join(resultsDir, file), 'utf8')) as PublishedSummary;
    const recipe = getRecipe(s.recipe);
    expect(file).toBe(`${recipe.name}-summary.json`);
    expect(s.config).toMatchObject({
      recipe: recipe.name,
      model: recipe.modelName,
      dataset: recipe.dataset,
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      schedule: describeSchedule(recipe.schedule),
      augment: describeAugment(recipe.augment),
      limit: null,
    });
    expect(recipe.model().name).toBe(s.config.model);
    expect(s.backends.length).toBeGreaterThan(0);
    for (const b of s.backends) {
      const runs = s.runs.filter((r) => r.backend === b.backend && r.status === 'ok').sort((x, y) => x.seed - y.seed);
      expect(runs.map((r) => r.seed)).toEqual(b.seeds);
      expect(runs.map((r) => r.finalAccuracy)).toEqual(b.finals);
      expect(stats(b.finals)?.mean).toBeCloseTo(b.stats.mean, 12);
      expect(verdict(recipe.band, b.finals)).toMatchObject({ verdict: b.verdict.verdict, seedsInside: b.verdict.seedsInside });
      if (b.ci95 !== undefined) {
        const ci = meanInterval(b.finals);
        if (ci === null) expect(b.ci95).toBeNull();
        else expect([b.ci95!.low, b.ci95!.high]).toEqual([expect.closeTo(ci.low, 12), expect.closeTo(ci.high, 12)]);
      }
    }
    // The same-seed table: every backend's final accuracy for the seed, and the spread between them.
    for (const row of s.crossBackend?.seeds ?? []) {
      for (const backend of s.crossBackend!.backends) {
        const r = s.runs.find((x) => x.backend === backend && x.seed === row.seed && x.status === 'ok');
        expect(row.finals[backend]).toBe(r ? r.finalAccuracy : null);
      }
      const got = Object.values(row.finals).filter((v): v is number => v !== null);
      expect(row.maxAbsDelta).toEqual(got.length >= 2 ? expect.closeTo(Math.max(...got) - Math.min(...got), 12) : null);
    }
  });
});
