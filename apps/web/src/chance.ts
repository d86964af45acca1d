/**
 * Chance level: with 10 balanced classes a model that has not learned scores about 10 %, and
 * often predicts one class for every image. Wherever the page shows predictions or an
 * accuracy it says so, with the reason (untrained initial weights, or a run that stopped on
 * d2l's sigmoid plateau or its budget), instead of letting "Bag, Bag, Bag" look like a result.
 */

/** 1 / 10 classes. */
export const CHANCE_ACCURACY = 0.1;
/**
 * Below this the weights are treated as "near chance". d2l's sigmoid LeNet reaches ~0.20 only
 * in its third epoch (REFERENCE.md: 0.110, 0.100, 0.198, 0.468, …).
 */
export const NEAR_CHANCE_BELOW = 0.2;

export const isNearChance = (accuracy: number): boolean => accuracy < NEAR_CHANCE_BELOW;

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

/** What the page knows about the weights it predicts with. */
export interface WeightsQuality {
  /** Initial weights (initWeights), never trained. */
  untrained: boolean;
  /** Accuracy on `count` test images, and how it was measured; null while unknown. */
  accuracy: { value: number; count: number; how: string } | null;
}

/** The warning to show next to predictions from these weights, or null when they learned. */
export function chanceWarning(q: WeightsQuality): string | null {
  if (q.untrained) {
    return (
      'Untrained weights: these predictions come from the initial (seeded) weights, so expect about 10 % accuracy — ' +
      'chance for 10 classes, often the same class for every image. Train below and click “Use these weights”, or choose a weights file.'
    );
  }
  if (q.accuracy && isNearChance(q.accuracy.value)) {
    return (
      `Accuracy ${pct(q.accuracy.value)} on ${q.accuracy.count.toLocaleString('en-US')} test images (${q.accuracy.how}) is near chance (10 % for 10 classes): ` +
      'these weights have not learned yet. d2l’s sigmoid LeNet (lenet5) sits at chance for about two epochs; train longer, or use lenet5-modern.'
    );
  }
  return null;
}

/** The note under a finished in-page training whose test accuracy is near chance. */
export function trainingChanceNote(model: string, epochsDone: number, stopped: boolean, accuracy: number): string | null {
  if (!isNearChance(accuracy)) return null;
  const why =
    model === 'lenet5' && epochsDone <= 3
      ? `d2l’s sigmoid LeNet sits at chance (loss ≈ 2.30) for about its first two epochs, then learns; this run ${stopped ? 'was stopped' : 'ended'} ${epochsDone === 0 ? 'within its first epoch' : `after ${epochsDone} epoch${epochsDone === 1 ? '' : 's'}`}. Train 10 epochs (the d2l recipe) or pick lenet5-modern.`
      : stopped
        ? 'the run was stopped before the weights learned.'
        : 'the weights did not learn with this recipe (learning rate too small or too large?).';
  return `Test accuracy ${pct(accuracy)} is chance level (10 % for 10 classes): ${why}`;
}
