/**
 * The budget rule of `lenet-bench run`'s training phase, as a pure function: after each training
 * window of a cell, does its training get cut to the profile's fallback budget, and is its budget
 * used up? The runner (phases/train.ts) feeds it the measured windows; the reason string it
 * returns is the one report.json/md give in `training.budget.reason` ("budget-limited: …").
 */
import { duration } from '../format.js';

/** A backend below this share of the fastest trainer's img/s, projected over the profile's limit, is budget-limited. */
export const SLOW_FRACTION = 0.5;

/** The profile's numbers the rule reads (RunConfig fields). */
export interface BudgetProfile {
  epochs: number;
  trainCount: number;
  /** A cell whose recipe would take longer than this (and is slow, see SLOW_FRACTION) is cut; null = never. */
  maxProjectedSeconds: number | null;
  /** The training seconds a cut cell gets; null = no cut. */
  fallbackTrainSeconds: number | null;
}

/** What has been measured of one cell so far (its windows, the first one included). */
export interface BudgetCell {
  kind: 'backend' | 'reference';
  windows: number;
  /** Training seconds of every window. */
  trainedSeconds: number;
  /** The same without the first (warm-up) window. */
  warmSeconds: number;
  warmImages: number;
  /** The cell's training budget now (seconds), null = none. */
  budgetSeconds: number | null;
  /** Whether the projection was already made (it is made once per cell). */
  projectionChecked: boolean;
}

export interface BudgetDecision {
  /** The projection was made at this window (the caller records it, so it is made once). */
  checked: boolean;
  /** Set when this window cuts the cell's training: its new budget and why (for the report). */
  cut: { budgetSeconds: number; reason: string } | null;
  /** The cell's budget (the new one after a cut) is used up: its training ends as 'budget'. */
  exhausted: boolean;
}

/**
 * The rule: a backend that would need far longer than the profile allows for the recipe is cut.
 * The reference is never cut (every ratio is to it); the first window (warm-up) is not used.
 * Checked after 3 windows, or after 2 when one window already outlasts the fallback budget (a
 * backend whose single step takes longer than a window would overshoot it by a window). Relative
 * too: on a slow (or busy) machine the fastest trainers still train, so the report shows learning;
 * only backends below SLOW_FRACTION of the fastest trainer's warm img/s are cut.
 *
 * `fastestWarmImagesPerSecond`: the highest warm img/s among the run's trainers that have a warm
 * window (this cell included).
 */
export function decideBudget(profile: BudgetProfile, cell: BudgetCell, fastestWarmImagesPerSecond: number): BudgetDecision {
  const { maxProjectedSeconds, fallbackTrainSeconds } = profile;
  let budget = cell.budgetSeconds;
  let checked = false;
  let cut: BudgetDecision['cut'] = null;
  const measured = cell.windows >= 3 || (cell.windows >= 2 && fallbackTrainSeconds !== null && cell.trainedSeconds >= fallbackTrainSeconds);
  if (!cell.projectionChecked && maxProjectedSeconds !== null && measured && cell.warmSeconds > 0 && cell.kind !== 'reference') {
    checked = true;
    const ips = cell.warmImages / cell.warmSeconds;
    const projected = (profile.epochs * profile.trainCount) / Math.max(ips, 1e-9);
    const fastest = fastestWarmImagesPerSecond;
    if (projected > maxProjectedSeconds && ips < SLOW_FRACTION * fastest && fallbackTrainSeconds !== null && (budget === null || fallbackTrainSeconds < budget)) {
      budget = fallbackTrainSeconds;
      cut = {
        budgetSeconds: fallbackTrainSeconds,
        reason:
          `at ~${Math.round(ips)} img/s (fastest: ~${Math.round(fastest)}) the ${profile.epochs}-epoch recipe would take ~${duration(projected)} ` +
          `(more than ${duration(maxProjectedSeconds)}), so it trained for ${fallbackTrainSeconds} s`,
      };
    }
  }
  return { checked, cut, exhausted: budget !== null && cell.trainedSeconds >= budget - 1e-6 };
}
