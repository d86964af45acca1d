// Chart axes and grouping a reader can trust: ratio ticks at powers of two, 1-2-5 log ticks, and
// coinciding curves found so the chart can say so.
import { describe, expect, it } from 'vitest';
import { backendColours, identicalGroups, logTicks, ratioDomain } from '../src/report/charts.js';

describe('chart axes', () => {
  it('ratio axes tick at powers of two and always include 1', () => {
    expect(ratioDomain([0.3, 3.1])).toEqual({ domain: [0.25, 4], ticks: [0.25, 0.5, 1, 2, 4] });
    expect(ratioDomain([1.1, 1.28]).ticks).toEqual([1, 2]);
    expect(ratioDomain([1 / 118, 0.9])).toEqual({ domain: [2 ** -7, 1], ticks: [2 ** -7, 2 ** -6, 2 ** -5, 2 ** -4, 0.125, 0.25, 0.5, 1] });
    // Over more than 8 powers of two: every other one, always with 1.
    expect(ratioDomain([1 / 300, 5]).ticks).toEqual([2 ** -8, 2 ** -6, 2 ** -4, 0.25, 1, 4]);
  });

  it('log axes tick at 1, 2, 5 per decade, decades only over a wide range', () => {
    expect(logTicks(100, 10_000)).toEqual([100, 200, 500, 1000, 2000, 5000, 10_000]);
    expect(logTicks(0.01, 1000)).toEqual([0.01, 0.1, 1, 10, 100, 1000]);
  });

  it('one colour per backend, by run order', () => {
    const c = backendColours(['a', 'b', 'c']);
    expect(new Set(c).size).toBe(3);
    expect(backendColours(['a', 'b', 'c', 'd'])).toEqual([...c, expect.any(String)]);
  });
});

describe('coinciding curves', () => {
  const curve = (backend: string, ys: number[]) => ys.map((y, i) => ({ backend, x: i, y }));
  it('groups backends whose curves lie on top of each other, not the ones that differ', () => {
    const pts = [...curve('a', [0.1, 0.5, 0.7]), ...curve('b', [0.1, 0.5, 0.7]), ...curve('c', [0.1, 0.3, 0.4]), ...curve('d', [0.1, 0.5001, 0.7])];
    expect(identicalGroups(pts, (p) => p.x, (p) => p.y)).toEqual([['a', 'b', 'd']]);
    expect(identicalGroups(curve('a', [1, 2]), (p) => p.x, (p) => p.y)).toEqual([]);
  });
});
