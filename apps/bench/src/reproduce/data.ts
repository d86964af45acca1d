/**
 * The data a reproduce run trains and evaluates on: the recipe's dataset (with --limit's
 * stratified subsets), and with --validation the recipe's validation split carved from the
 * training split (stratifiedHoldout): training on the rest, evaluation on the holdout, the test
 * split untouched. The forked child, the PyTorch child's job files and the agreement check all
 * take their splits from here, so they evaluate on the same images.
 */
import { CATALOG, stratifiedHoldout, type ImageSplit } from '@lenet/datasets';
import { loadData } from '../data.js';
import { validationSize, type Recipe } from './recipes.js';

/** Which images a run is evaluated on (recorded in config.json and shown in every summary). */
export type EvaluationSplit = { kind: 'test'; images: number } | { kind: 'validation'; images: number; seed: number };

export interface RecipeData {
  train: ImageSplit;
  /** The test split, or the validation holdout with --validation. */
  evaluate: ImageSplit;
  evaluation: EvaluationSplit;
}

export async function loadRecipeData(recipe: Recipe, o: { dataDir?: string; limit?: number | null; validation: boolean }): Promise<RecipeData> {
  const data = await loadData(recipe.dataset, { dataDir: o.dataDir, limit: o.limit ?? undefined, quiet: true });
  if (!o.validation) return { train: data.train, evaluate: data.test, evaluation: { kind: 'test', images: data.test.count } };
  const size = validationSize(recipe, data.train.count, CATALOG[recipe.dataset].counts.train);
  const seed = recipe.validation!.seed;
  const { rest, holdout } = stratifiedHoldout(data.train, size, seed);
  return { train: rest, evaluate: holdout, evaluation: { kind: 'validation', images: holdout.count, seed } };
}

/** The evaluation split of a run, known before loading the data (--limit takes stratified subsets of known size). */
export function evaluationOf(recipe: Recipe, limit: number | null | undefined, validation: boolean): EvaluationSplit {
  const counts = CATALOG[recipe.dataset].counts;
  if (!validation) return { kind: 'test', images: limit ? Math.min(limit, counts.test) : counts.test };
  const train = limit ? Math.min(limit, counts.train) : counts.train;
  return { kind: 'validation', images: validationSize(recipe, train, counts.train), seed: recipe.validation!.seed };
}

/** "test split (10,000 images)" or "validation (10,000 images held out of the training set)". */
export function describeEvaluation(e: EvaluationSplit | undefined): string {
  if (!e || e.kind === 'test') return e ? `test split (${e.images.toLocaleString('en-US')} images)` : 'test split';
  return `validation (${e.images.toLocaleString('en-US')} images held out of the training set, seed ${e.seed}; the test set is not used)`;
}
