import { describe, expect, it } from 'vitest';
import { conformanceSuite, CONFORMANCE_GROUPS, expectFirstStepsFollowReference } from '../src/conformance.js';
import type { ConformanceCase } from '../src/conformance.js';
import { referenceBackend } from '../src/reference-backend.js';
import { brokenBackend } from './broken-backends.js';
import type { Bug } from './broken-backends.js';
import { syntheticSplit, TINY_SPEC } from './helpers.js';

describe('conformance suite on the reference backend (all cases pass)', () => {
  const cases = conformanceSuite(referenceBackend, { optimizer: true });
  it('has a case in every group, with unique names', () => {
    const groups = new Set(cases.map((c) => c.name.slice(0, c.name.indexOf(':'))));
    expect([...groups].sort()).toEqual([...CONFORMANCE_GROUPS].sort());
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
  for (const c of cases) it(c.name, c.run, 60_000);
});

async function failures(cases: ConformanceCase[]): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  for (const c of cases) {
    try {
      await c.run();
    } catch (e) {
      failed.set(c.name, e instanceof Error ? e.message : String(e));
    }
  }
  return failed;
}

const groupOf = (name: string) => name.slice(0, name.indexOf(':'));

describe('conformance suite catches broken backends', () => {
  // Expected failing cases per bug: [group or case-name prefix, message fragment of the first].
  const expectations: [Bug, string[], RegExp][] = [
    ['wrong-sign', ['sgd-step: lenet5,', 'sgd-step: lenet5-modern', 'sgd-step: variant'], /the update of conv1\.weight .*differs from the reference/],
    ['sum-not-mean', ['sgd-step: lenet5,', 'sgd-step: lenet5-modern', 'sgd-step: variant'], /after the step: element \[/],
    ['dense-bias-ignored', ['forward: lenet5,', 'forward: lenet5-modern', 'forward: variant', 'forward: reads only', 'forward: accepts', 'sgd-step: lenet5,', 'sgd-step: lenet5-modern', 'sgd-step: variant', 'sgd-step: lr = 0', 'weights: createSession copies', 'weights: getWeights returns a copy'], /forward lenet5 n=1: logit \[sample 0, class \d\] expected .* got .*atol 0\.0001 \+ rtol 0\.001/],
    ['no-validation', ['rejects'], /expected a BackendInputError/],
    ['no-copy', ['weights: createSession copies', 'determinism: two sessions', 'optimizer: all-default options'], /determinism: losses of the second run: step 1 differs/],
    ['getweights-alias', ['weights: getWeights returns a copy'], /second getWeights after mutating the first result: conv1\.weight: element \[0, 0, 0, 0\] differs/],
    ['reads-whole-buffer', ['forward: reads only', 'sgd-step: lenet5,', 'sgd-step: lenet5-modern', 'sgd-step: variant'], /predict returned 50 logits, expected n\*classes = 3\*10 = 30/],
    ['nondeterministic', ['determinism: predict twice'], /second predict: logit \[sample \d, class \d\] differs/],
    ['stale-forward-cache', ['sgd-step: lenet5,', 'sgd-step: lenet5-modern', 'sgd-step: variant'], /predict after the step \(must use the updated weights\)/],
    // Only the learning case sees this one: a single step is right, later steps are lost.
    ['updates-once', ['learns'], /learns: (train accuracy|loss went from)/],
    // A backend that silently trains plain SGD when asked for momentum / weight decay.
    ['ignores-optimizer', ['optimizer: a non-default optimizer is refused', 'optimizer: bad momentum'], /expected a BackendInputError, but the call succeeded/],
  ];
  for (const [bug, expected, message] of expectations) {
    it(`${bug}: fails exactly the cases that check it`, async () => {
      const backend = brokenBackend(bug);
      const wantsLearn = expected.some((e) => e.startsWith('learns'));
      const cases = conformanceSuite(backend, { skip: wantsLearn ? [] : ['learns'] });
      const failed = await failures(cases);
      const matches = (name: string) => expected.some((e) => name === e || groupOf(name) === e || name.startsWith(e));
      const unexpected = [...failed.keys()].filter((n) => !matches(n));
      const missed = cases.map((c) => c.name).filter((n) => matches(n) && !failed.has(n));
      expect({ unexpected, missed }).toEqual({ unexpected: [], missed: [] });
      expect([...failed.values()][0]).toMatch(message);
    }, 60_000);
  }

  it('a float32-precision backend (rounding + ~1e-6 relative error per layer) passes every case', async () => {
    const failed = await failures(conformanceSuite(brokenBackend('float32-noise'), { skip: ['learns'] }));
    expect([...failed]).toEqual([]);
  }, 60_000);

  it('dispose-kills-all: the dispose case notices that disposing one session broke another', async () => {
    const cases = conformanceSuite(brokenBackend('dispose-kills-all')).filter((c) => c.name.startsWith('dispose'));
    expect(cases.length).toBe(1);
    await expect(cases[0]!.run()).rejects.toThrow(/backend was disposed/);
  });
});

describe('conformance options', () => {
  it('skip removes groups and single cases; unknown entries throw', () => {
    const all = conformanceSuite(referenceBackend);
    const some = conformanceSuite(referenceBackend, { skip: ['learns', all[0]!.name] });
    expect(some.length).toBe(all.length - 2);
    expect(some.some((c) => c.name.startsWith('learns'))).toBe(false);
    expect(() => conformanceSuite(referenceBackend, { skip: ['lerns'] })).toThrow(
      /skip entry "lerns" matches no case; use a group \(info, forward, sgd-step, learns, determinism, weights, rejects, dispose, optimizer\) or a full case name/,
    );
  });

  it('an inference-only backend gets no training cases', () => {
    const { createTrainingSession: _, ...inferenceOnly } = { ...referenceBackend, name: 'reference-infer' };
    const names = conformanceSuite(inferenceOnly).map((c) => c.name);
    expect(names.some((n) => n.startsWith('sgd-step') || n.startsWith('learns'))).toBe(false);
    expect(names.filter((n) => n.includes('trainStep') || n.includes('trained'))).toEqual([]);
    expect(names.length).toBeGreaterThan(0);
  });

  it('a tighter tolerance than float32 output allows makes forward cases fail with the numbers', async () => {
    const c = conformanceSuite(referenceBackend, { tolerance: { atol: 0, rtol: 0 } }).find((x) => x.name.startsWith('forward: lenet5, batch 7'))!;
    await expect(c.run()).rejects.toThrow(/forward lenet5 n=7: logit \[sample \d, class \d\] expected .* got .* values out of tolerance, max \|diff\|/);
  });

  it('passes threads through to createSession', async () => {
    const seen: unknown[] = [];
    const spy = {
      ...referenceBackend,
      createSession: (spec: Parameters<typeof referenceBackend.createSession>[0], w: Parameters<typeof referenceBackend.createSession>[1], o?: Parameters<typeof referenceBackend.createSession>[2]) => {
        seen.push(o?.threads);
        return referenceBackend.createSession(spec, w, o);
      },
    };
    const c = conformanceSuite(spy, { threads: 3 }).find((x) => x.name.startsWith('forward: lenet5, batch 1'))!;
    await c.run();
    expect(seen).toEqual([3]);
  });

  it('training cases build their sessions with createTrainingSession, passing threads', async () => {
    const seen: string[] = [];
    const spy = {
      ...referenceBackend,
      createTrainingSession: (...args: Parameters<typeof referenceBackend.createTrainingSession>) => {
        seen.push(`threads ${args[2]?.threads}`);
        return referenceBackend.createTrainingSession(...args);
      },
    };
    const c = conformanceSuite(spy, { threads: 2 }).find((x) => x.name.startsWith('sgd-step: lr = 0'))!;
    await c.run();
    expect(seen).toEqual(['threads 2']);
  });
});

describe('expectFirstStepsFollowReference (the real-data check of the jax and tf.layers tests)', () => {
  const split = syntheticSplit(64, 5);
  it('passes the reference backend and a float32 one', async () => {
    await expectFirstStepsFollowReference(referenceBackend, TINY_SPEC, split);
    await expectFirstStepsFollowReference(brokenBackend('float32-noise'), TINY_SPEC, split);
  });
  it('names the backend, the model and the step that goes wrong', async () => {
    await expect(expectFirstStepsFollowReference(brokenBackend('updates-once'), TINY_SPEC, split)).rejects.toThrow(/^broken-updates-once tiny: step 3 \(batch 32\) loss /);
    await expect(expectFirstStepsFollowReference(brokenBackend('wrong-sign'), TINY_SPEC, split)).rejects.toThrow(/^broken-wrong-sign tiny: step 2 \(batch 32\) loss /);
  });
});
