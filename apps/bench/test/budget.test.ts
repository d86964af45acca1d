// The budget rule of `lenet-bench run` (src/run/budget.ts): which training cells are cut to the
// profile's fallback budget, when the check is made, and the reason the report gives.
import { describe, expect, it } from 'vitest';
import { duration } from '../src/format.js';
import { decideBudget, SLOW_FRACTION, type BudgetCell, type BudgetProfile } from '../src/run/budget.js';

// The quick profile's numbers (commands/run.ts PROFILES.quick) on the full training split.
const quick: BudgetProfile = { epochs: 10, trainCount: 60_000, maxProjectedSeconds: 80, fallbackTrainSeconds: 15 };
const smoke: BudgetProfile = { epochs: 1, trainCount: 60_000, maxProjectedSeconds: null, fallbackTrainSeconds: null };

/** A cell after `windows` windows of `windowSeconds` each at `ips` img/s (the first one is the warm-up). */
function measured(ips: number, windows: number, windowSeconds: number, over: Partial<BudgetCell> = {}): BudgetCell {
  const warm = Math.max(0, windows - 1) * windowSeconds;
  return { kind: 'backend', windows, trainedSeconds: windows * windowSeconds, warmSeconds: warm, warmImages: warm * ips, budgetSeconds: 150, projectionChecked: false, ...over };
}

const FASTEST = 5000;
const SLOW = 300; // < SLOW_FRACTION * FASTEST, and 10 epochs of 60k images take ~33 min at this pace

describe('decideBudget', () => {
  const cases: { name: string; profile: BudgetProfile; cell: BudgetCell; checked: boolean; cut: boolean; exhausted: boolean }[] = [
    { name: 'the fastest backend is not cut (projected over the limit, but not slow)', profile: quick, cell: measured(FASTEST, 3, 2), checked: true, cut: false, exhausted: false },
    { name: 'a backend at 60% of the fastest is not cut', profile: quick, cell: measured(0.6 * FASTEST, 3, 2), checked: true, cut: false, exhausted: false },
    { name: 'a slow backend is cut after 3 windows', profile: quick, cell: measured(SLOW, 3, 2), checked: true, cut: true, exhausted: false },
    { name: 'a slow backend whose recipe is projected under the limit is not cut', profile: { ...quick, trainCount: 1000 }, cell: measured(SLOW, 3, 2), checked: true, cut: false, exhausted: false },
    { name: 'no check after 2 short windows', profile: quick, cell: measured(SLOW, 2, 2), checked: false, cut: false, exhausted: false },
    { name: 'a single window outlasting the fallback budget: checked after 2 windows, cut and used up', profile: quick, cell: measured(SLOW, 2, 8), checked: true, cut: true, exhausted: true },
    { name: 'no check on the warm-up window alone', profile: quick, cell: measured(SLOW, 1, 20), checked: false, cut: false, exhausted: false },
    { name: 'the PyTorch reference is never cut', profile: quick, cell: measured(SLOW, 3, 2, { kind: 'reference' }), checked: false, cut: false, exhausted: false },
    { name: 'the projection is made once', profile: quick, cell: measured(SLOW, 4, 2, { projectionChecked: true }), checked: false, cut: false, exhausted: false },
    { name: 'no cut when the budget is already at most the fallback', profile: quick, cell: measured(SLOW, 3, 2, { budgetSeconds: 15 }), checked: true, cut: false, exhausted: false },
    { name: 'a profile without a projection limit never checks; its budget still ends training', profile: smoke, cell: measured(SLOW, 10, 2, { budgetSeconds: 20 }), checked: false, cut: false, exhausted: true },
    { name: 'no budget: never used up', profile: smoke, cell: measured(SLOW, 50, 2, { budgetSeconds: null }), checked: false, cut: false, exhausted: false },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const d = decideBudget(t.profile, t.cell, Math.max(FASTEST, t.cell.warmSeconds ? t.cell.warmImages / t.cell.warmSeconds : 0));
      expect({ checked: d.checked, cut: d.cut !== null, exhausted: d.exhausted }).toEqual({ checked: t.checked, cut: t.cut, exhausted: t.exhausted });
      if (d.cut) expect(d.cut.budgetSeconds).toBe(t.profile.fallbackTrainSeconds);
    });
  }

  it('says why a cell was cut: its pace, the fastest, the projection and the limit', () => {
    const cell = measured(SLOW, 3, 2);
    const d = decideBudget(quick, cell, FASTEST);
    const projected = duration((quick.epochs * quick.trainCount) / SLOW);
    expect(projected).toBe('33m20s');
    expect(d.cut?.reason).toBe(`at ~${SLOW} img/s (fastest: ~${FASTEST}) the 10-epoch recipe would take ~${projected} (more than 1m20s), so it trained for 15 s`);
  });

  it('cuts exactly below SLOW_FRACTION of the fastest', () => {
    const at = (ips: number) => decideBudget(quick, measured(ips, 3, 2), FASTEST).cut !== null;
    expect(at(SLOW_FRACTION * FASTEST * 0.99)).toBe(true);
    expect(at(SLOW_FRACTION * FASTEST)).toBe(false);
  });
});
