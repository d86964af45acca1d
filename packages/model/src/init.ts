/**
 * Seeded Xavier/Glorot-uniform initialisation, bit-identical on every platform.
 *
 * Procedure (change it only with a new golden test — saved experiments depend on it):
 * 1. One generator for the whole model: pure-rand 8 `mersenne(seed)`, i.e. the standard
 *    MT19937 seeded with init_genrand(seed), seed an integer in [0, 2^32). (Same stream as
 *    numpy's `RandomState(seed)`. MT19937 rather than xoroshiro128plus because pure-rand seeds
 *    xoroshiro without mixing, so its first outputs for small seeds are far from random —
 *    seed 0 starts with 0xFFFFFFFF.)
 * 2. Parameters are visited in canonical order (paramInfos: conv1.weight, conv1.bias, …).
 *    Biases are zero and draw nothing. Each weight tensor is filled in row-major order.
 * 3. Per element: u = pure-rand `uniformFloat64(rng)`, which takes two 32-bit outputs and keeps
 *    26 + 27 = 53 bits: u = (a & (2^26-1)) * 2^-26 + (b & (2^27-1)) * 2^-53, a multiple of
 *    2^-53 in [0, 1). Then x = (2u - 1) * limit (2u - 1 is exact, so one rounding in the
 *    multiply) in [-limit, limit), with limit = sqrt(6 / (fanIn + fanOut)); conv fanIn =
 *    inC*k*k, fanOut = outC*k*k; dense fanIn = in, fanOut = out (as Keras/PyTorch).
 * 4. x is stored into a Float32Array: IEEE round-to-nearest-even to float32 (so a value can
 *    round up to exactly float32(limit)).
 * All steps are IEEE-754 double operations with a single correctly rounded result (JS has no
 * fused multiply-add contraction; Math.sqrt is correctly rounded on every engine), and the
 * generator is 32-bit integer arithmetic, so results do not depend on platform or engine.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { mersenne } from 'pure-rand/generator/mersenne';
import { describeValue } from './errors.js';
import { paramInfos } from './spec.js';
import type { ModelSpec, ParamInfo, Weights } from './types.js';
import { shapeSize } from './weights.js';

/** Glorot fan-in/fan-out of a weight: conv [out,in,kH,kW] -> in*kH*kW / out*kH*kW; dense [out,in]. */
export function glorotFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((n, d) => n * d, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** The Xavier-uniform bound sqrt(6 / (fanIn + fanOut)) of a weight parameter. */
export function glorotLimit(info: Pick<ParamInfo, 'shape'>): number {
  const { fanIn, fanOut } = glorotFans(info.shape);
  return Math.sqrt(6 / (fanIn + fanOut));
}

/** Xavier/Glorot-uniform weights and zero biases for `spec`, deterministic in `seed`. */
export function initWeights(spec: ModelSpec, seed: number): Weights {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`initWeights: seed must be an integer in [0, 4294967295], got ${describeValue(seed)}`);
  }
  const rng = mersenne(seed);
  const weights: Weights = new Map();
  for (const info of paramInfos(spec)) {
    const data = new Float32Array(shapeSize(info.shape));
    if (info.kind === 'weight') {
      const limit = glorotLimit(info);
      for (let i = 0; i < data.length; i++) data[i] = (2 * uniformFloat64(rng) - 1) * limit;
    }
    weights.set(info.name, { shape: [...info.shape], data });
  }
  return weights;
}
