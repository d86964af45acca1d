/**
 * Both WebAssembly tiers (SIMD128: mul + add; relaxed SIMD: relaxed_madd, fused on FMA CPUs)
 * against the plain-js reference tier: every kernel on random data (odd sizes, all transpose
 * layouts, strides, padding), then whole sessions. The tiers differ only by float32 rounding
 * (wasm sums in float32, JS in float64; wasm exp is a polynomial), so the bounds are tight; the
 * bit-for-bit identities between kernel paths hold within each wasm tier.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONFORMANCE_VARIANT, conformanceWeights, randomImages, randomLabels } from '@lenet/core';
import { flattenWeights, getPreset, initWeights, type ActivationFn, type ModelSpec } from '@lenet/model';
import {
  jsKernels, loadWasmKernels, loadWasmModule, instantiateWasm, plainBackend, plainJsBackend, relaxedSimdSupported,
  type Kernels, type WasmArena,
} from '../dist/index.js';
import { TIERS } from './tiers.js';
import { convGeometry, colSize, convKeepsCols, directConvApplies, directConvPays, directFilterApplies } from '../src/layers/conv2d.js';
import { buildPlan } from '../src/plan.js';
import { Engine } from '../src/engine.js';
import { poolGeometry } from '../src/layers/pool2d.js';
import { randomF32 } from './helpers.js';

const js = jsKernels as Kernels<Float32Array>;
let arena: WasmArena;

function close(what: string, got: Float32Array, want: Float32Array, rtol = 2e-5, atol = 1e-6): void {
  expect(got.length, what).toBe(want.length);
  let worst = -1;
  let ratio = 0;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(r <= ratio)) {
      ratio = r;
      worst = i;
    }
  }
  expect(ratio, `${what}: worst at ${worst}: wasm ${got[worst]} vs js ${want[worst]}`).toBeLessThanOrEqual(1);
}

/** Places arrays one after another in the wasm memory and returns their offsets. */
function place(...arrays: Float32Array[]): number[] {
  let top = 0;
  return arrays.map((a) => {
    const at = top;
    arena.mem.set(a, at);
    top += (a.length + 15) & ~15;
    return at;
  });
}

for (const { tier, unavailable } of TIERS) describe(`${tier} kernels equal the JS kernels`, () => {
  beforeAll(async () => {
    if (unavailable) return;
    const m = await loadWasmKernels(tier);
    if (typeof m === 'string') throw new Error(`the ${tier} kernels must load in this environment: ${m}`);
    arena = instantiateWasm(m.module, 1 << 20);
    expect(arena.tier).toBe(tier);
  });
  beforeEach((ctx) => {
    if (unavailable) ctx.skip(unavailable);
  });

  it('gemm: all transpose layouts, edge sizes and accumulate', () => {
    const sizes = [[1, 1, 1], [3, 5, 2], [4, 8, 4], [6, 784, 25], [16, 150, 100], [16, 120, 400], [7, 13, 19], [5, 17, 33]];
    for (const [M, N, K] of sizes) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
        for (const acc of [false, true]) {
          const A = randomF32(M + N, M * K), B = randomF32(N + K, K * N), C = randomF32(M * K, M * N);
          const sAi = tA ? 1 : K, sAk = tA ? M : 1, sBk = tB ? 1 : N, sBj = tB ? K : 1;
          const want = C.slice();
          js.gemm(M, N, K, A, 0, sAi, sAk, B, 0, sBk, sBj, want, 0, acc);
          const [a, b, c] = place(A, B, C);
          arena.kernels.gemm(M, N, K, arena.mem, a, sAi, sAk, arena.mem, b, sBk, sBj, arena.mem, c, acc);
          close(`gemm ${M}x${N}x${K} tA=${tA} tB=${tB} acc=${acc}`, arena.mem.slice(c, c + M * N), want, 1e-5, 1e-5);
        }
      }
    }
  });

  it('gemm: a row of C does not depend on M or the row position (same bits in tiles and edges)', () => {
    // A sample's logits must not depend on where it sits in a batch (dense layers put samples
    // on the rows of C): every layout, K with and without a remainder mod 4.
    for (const [N, K] of [[10, 84], [120, 400], [13, 19], [8, 25]]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
        const M = 7;
        const A = randomF32(N + K, M * K), B = randomF32(N * K, K * N);
        const sAi = tA ? 1 : K, sAk = tA ? M : 1, sBk = tB ? 1 : N, sBj = tB ? K : 1;
        const [a, b, c] = place(A, B, new Float32Array(M * N));
        arena.kernels.gemm(M, N, K, arena.mem, a, sAi, sAk, arena.mem, b, sBk, sBj, arena.mem, c, false);
        const full = arena.mem.slice(c, c + M * N);
        for (const row of [0, 5, 6]) {
          const c1 = c + ((M * N + 15) & ~15); // just past C
          arena.kernels.gemm(1, N, K, arena.mem, a + row * sAi, sAi, sAk, arena.mem, b, sBk, sBj, arena.mem, c1, false);
          expect(Array.from(arena.mem.slice(c1, c1 + N)), `row ${row} of ${M}x${N}x${K} tA=${tA} tB=${tB}`)
            .toEqual(Array.from(full.subarray(row * N, (row + 1) * N)));
        }
      }
    }
  });

  it('im2col and col2im with padding and strides', () => {
    for (const [cin, h, w, k, s, p] of [[1, 28, 28, 5, 1, 2], [6, 14, 14, 5, 1, 0], [3, 11, 9, 3, 2, 1], [2, 10, 8, 2, 3, 0], [2, 7, 7, 3, 1, 3]]) {
      const g = convGeometry(cin, h, w, 4, k, s, p);
      const x = randomF32(h * w, cin * h * w);
      const col = new Float32Array(colSize(g));
      js.im2col(g, x, 0, col, 0);
      const [xo, co] = place(x, new Float32Array(col.length));
      arena.kernels.im2col(g, arena.mem, xo, arena.mem, co);
      expect(Array.from(arena.mem.slice(co, co + col.length)), `im2col ${cin}x${h}x${w} k${k} s${s} p${p}`).toEqual(Array.from(col));
      const dcol = randomF32(5, col.length);
      const dx = new Float32Array(x.length);
      js.col2im(g, dcol, 0, dx, 0);
      const [dco, dxo] = place(dcol, randomF32(9, x.length));
      arena.kernels.col2im(g, arena.mem, dco, arena.mem, dxo);
      close(`col2im ${cin}x${h}x${w} k${k} s${s} p${p}`, arena.mem.slice(dxo, dxo + x.length), dx);
    }
  });

  it('direct convolution (no patch matrix) has the bits of im2col + fillRows + gemm', () => {
    // Odd widths exercise the overlapping last column tile; 6-, 4- and 1-channel groups.
    // Rows of 8m + 2 in 4-channel groups take 2x2 tiles (two rows at a time; an odd last row
    // falls back to the overlapping tile).
    for (const [cin, h, w, cout, k, p] of [[1, 28, 28, 6, 5, 2], [6, 14, 14, 16, 5, 0], [3, 9, 7, 7, 3, 1], [2, 8, 11, 5, 3, 3],
      [1, 6, 6, 1, 3, 1], [4, 12, 12, 11, 5, 2], [2, 5, 9, 13, 2, 0], [2, 9, 12, 8, 3, 0], [1, 11, 10, 4, 1, 0], [3, 9, 16, 12, 5, 1]]) {
      const g = convGeometry(cin, h, w, cout, k, 1, p);
      expect(directConvApplies(g)).toBe(true);
      const P = g.outH * g.outW, Q = cin * k * k;
      const x = randomF32(h + w, cin * h * w), wt = randomF32(cout, cout * Q), b = randomF32(k, cout);
      const [xo, wo, bo, co, yo, so] = place(x, wt, b, new Float32Array(colSize(g)), new Float32Array(cout * P), new Float32Array(colSize(g)));
      const mem = arena.mem;
      arena.kernels.im2col(g, mem, xo, mem, co);
      arena.kernels.fillRows(cout, P, mem, bo, mem, yo);
      arena.kernels.gemm(cout, P, Q, mem, wo, Q, 1, mem, co, P, 1, mem, yo, true);
      const want = mem.slice(yo, yo + cout * P);
      mem.fill(NaN, yo, yo + cout * P);
      arena.kernels.convForward!(g, mem, xo, mem, wo, mem, bo, mem, so, mem, yo);
      const got = mem.slice(yo, yo + cout * P);
      expect(Array.from(got), `conv ${cin}x${h}x${w} -> ${cout} k${k} p${p}`).toEqual(Array.from(want));
      // And the JS reference tier (float64 sums) within float32 rounding.
      const col = new Float32Array(colSize(g));
      const ref = new Float32Array(cout * P);
      js.im2col(g, x, 0, col, 0);
      js.fillRows(cout, P, b, 0, ref, 0);
      js.gemm(cout, P, Q, wt, 0, Q, 1, col, 0, P, 1, ref, 0, true);
      close(`conv ${cin}x${h}x${w} -> ${cout} k${k} p${p} vs js`, got, ref, 1e-5, 1e-5);
    }
  });

  it('direct filter gradient (no patch matrix) has the bits of im2col + gemm, accumulating into dW', () => {
    // Rows of 4, 8, 12, 28 outputs; odd channel counts (a last lone output channel) and patch
    // rows not a multiple of 4 (the single-row tail); with and without padding.
    // Rows of 4m + 2 in pairs: conv2 (10x10), rows of 6 (with padding, an odd channel count,
    // 9 patch rows) and of 14.
    for (const [cin, h, w, cout, k, p] of [[1, 28, 28, 6, 5, 2], [3, 9, 8, 7, 3, 1], [2, 6, 5, 3, 2, 0], [4, 12, 12, 11, 5, 2],
      [1, 6, 4, 1, 3, 1], [6, 15, 16, 16, 5, 0], [2, 5, 6, 5, 3, 2],
      [6, 14, 14, 16, 5, 0], [3, 6, 6, 4, 3, 1], [1, 8, 8, 3, 3, 0], [3, 16, 16, 2, 3, 0]]) {
      const g = convGeometry(cin, h, w, cout, k, 1, p);
      expect(directFilterApplies(g), `${cin}x${h}x${w} k${k} p${p}`).toBe(true);
      const P = g.outH * g.outW, Q = cin * k * k;
      const x = randomF32(h + w, cin * h * w), dy = randomF32(cout + k, cout * P), dw0 = randomF32(Q, cout * Q);
      const [xo, dyo, dwo, co, so] = place(x, dy, dw0, new Float32Array(colSize(g)), new Float32Array(colSize(g)));
      const mem = arena.mem;
      arena.kernels.im2col(g, mem, xo, mem, co);
      arena.kernels.gemm(cout, Q, P, mem, dyo, P, 1, mem, co, 1, P, mem, dwo, true);
      const want = mem.slice(dwo, dwo + cout * Q);
      mem.set(dw0, dwo);
      arena.kernels.convFilterGrad!(g, mem, xo, mem, dyo, mem, dwo, mem, so);
      const got = mem.slice(dwo, dwo + cout * Q);
      expect(Array.from(got), `dW ${cin}x${h}x${w} -> ${cout} k${k} p${p}`).toEqual(Array.from(want));
      // And the JS reference tier (float64 sums) within float32 rounding.
      const col = new Float32Array(colSize(g));
      const ref = dw0.slice();
      js.im2col(g, x, 0, col, 0);
      js.gemm(cout, Q, P, dy, 0, P, 1, col, 0, 1, P, ref, 0, true);
      close(`dW ${cin}x${h}x${w} -> ${cout} k${k} p${p} vs js`, got, ref, 1e-4, 1e-5);
    }
  });

  it('a training chunk without kept patch matrices has the bits of the im2col path, and of inference', () => {
    // The engine takes the direct forward and filter gradient where convKeepsCols() is false
    // (LeNet's conv1 and conv2); the same kernels minus convFilterGrad keep and use patch
    // matrices. Gradients must agree
    // bit for bit, so training trajectories do not change.
    for (const name of ['lenet5', 'lenet5-modern'] as const) {
      const spec = getPreset(name);
      const plan = buildPlan(spec, 16);
      const op1 = plan.ops[0];
      if (op1.kind !== 'conv2d') throw new Error('conv1 expected first');
      const g1 = op1.geom;
      expect(convKeepsCols(arena.kernels, g1)).toBe(false);
      // conv2 (rows of 10) too.
      const op2 = plan.ops.find((o, i) => i > 0 && o.kind === 'conv2d');
      if (op2?.kind !== 'conv2d') throw new Error('conv2 expected');
      expect(directConvPays(op2.geom)).toBe(true);
      expect(convKeepsCols(arena.kernels, op2.geom)).toBe(false);
      const { convFilterGrad: _omit, ...rest } = arena.kernels;
      const viaCol: Kernels<Float32Array> = rest;
      expect(convKeepsCols(viaCol, g1)).toBe(true);
      expect(convKeepsCols(viaCol, op2.geom)).toBe(true);
      const params = flattenWeights(spec, initWeights(spec, 3));
      const n = 13;
      const x = randomImages(4, n, 28 * 28), y = randomLabels(5, n, 10);
      const run = (k: Kernels<Float32Array>): { grads: number[]; logits: number[] } => {
        const eng = new Engine(plan, k, arena.mem.subarray(0, plan.arena.size));
        arena.mem.fill(0, 0, plan.arena.size);
        eng.loadParams(params, 0);
        eng.forward(x, 0, n, false);
        const predicted = Array.from(arena.mem.slice(eng.logitsOffset, eng.logitsOffset + n * 10));
        eng.forward(x, 0, n, true);
        const logits = Array.from(arena.mem.slice(eng.logitsOffset, eng.logitsOffset + n * 10));
        // Inference (direct conv1 and conv2) and training forward agree bit for bit.
        expect(predicted, `${name} inference vs training logits`).toEqual(logits);
        eng.backward(y, 0, n, 1 / n, new Float64Array(n), 0);
        return { grads: Array.from(arena.mem.slice(eng.gradsOffset, eng.gradsOffset + plan.paramCount)), logits };
      };
      const direct = run(arena.kernels);
      const im2col = run(viaCol);
      expect(direct.logits, `${name} logits`).toEqual(im2col.logits);
      expect(direct.grads, `${name} gradients`).toEqual(im2col.grads);
    }
  });

  it('activations forward and backward (incl. saturated inputs)', () => {
    for (const fn of ['sigmoid', 'relu', 'tanh'] as ActivationFn[]) {
      const len = 1003; // not a multiple of 4
      const x = randomF32(1, len, -12, 12);
      x[0] = 100; x[1] = -100; x[2] = 0; x[3] = -0;
      for (let i = 8; i < 16; i++) x[i] = i % 2 ? 200 : -200; // whole vectors saturated
      const y = new Float32Array(len);
      js.activationForward(fn, len, x, 0, y, 0);
      const [xo] = place(x);
      arena.kernels.activationForward(fn, len, arena.mem, xo, arena.mem, xo);
      const yw = arena.mem.slice(xo, xo + len);
      close(`${fn} forward`, yw, y, 1e-6, 1e-7);
      const dy = randomF32(2, len);
      const dx = new Float32Array(len);
      js.activationBackward(fn, len, y, 0, dy, 0, dx, 0);
      const [yo, dyo] = place(y, dy);
      arena.kernels.activationBackward(fn, len, arena.mem, yo, arena.mem, dyo, arena.mem, dyo);
      close(`${fn} backward`, arena.mem.slice(dyo, dyo + len), dx, 1e-6, 1e-7);
    }
  });

  it('pooling forward and backward', () => {
    // 2x2/stride-2 windows take a vectorised path (4 windows at a time, scalar tail, odd sizes
    // leave a zero row/column in dx); 'ties' quantises x so max windows hold equal maxima and
    // the gradient must go to the first one in scan order, as in the JS tier.
    const cases = [['avg', 2, 2, 28, 28], ['max', 2, 2, 10, 10], ['avg', 2, 2, 11, 13], ['max', 2, 2, 13, 21],
      ['max', 3, 2, 9, 7], ['avg', 3, 2, 9, 7], ['max', 2, 3, 8, 11]] as const;
    for (const ties of [false, true]) for (const [mode, k, s, h, w] of cases) {
      const g = poolGeometry(mode, 3, h, w, k, s);
      const n = 2;
      const x = randomF32(3, n * 3 * h * w);
      if (ties) for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i] * 2) / 2;
      const outLen = n * 3 * g.outH * g.outW;
      const y = new Float32Array(outLen);
      js.poolForward(g, n, x, 0, y, 0);
      const dy = randomF32(4, outLen);
      const dx = new Float32Array(x.length);
      js.poolBackward(g, n, x, 0, dy, 0, dx, 0);
      const [xo, yo, dyo, dxo] = place(x, new Float32Array(outLen), dy, new Float32Array(x.length));
      arena.kernels.poolForward(g, n, arena.mem, xo, arena.mem, yo);
      arena.kernels.poolBackward(g, n, arena.mem, xo, arena.mem, dyo, arena.mem, dxo);
      close(`${mode} pool k${k} s${s} ${h}x${w} ties=${ties} forward`, arena.mem.slice(yo, yo + outLen), y);
      close(`${mode} pool k${k} s${s} ${h}x${w} ties=${ties} backward`, arena.mem.slice(dxo, dxo + x.length), dx);
    }
  });

  it('bias helpers: sumRows accumulates row sums, fillRows broadcasts', () => {
    for (const [M, N] of [[6, 784], [16, 100], [3, 7], [1, 1], [5, 13]]) {
      const a = randomF32(M + N, M * N);
      const out = randomF32(M, M);
      const want = out.slice();
      js.sumRows(M, N, a, 0, want, 0);
      const [ao, oo] = place(a, out);
      arena.kernels.sumRows(M, N, arena.mem, ao, arena.mem, oo);
      close(`sumRows ${M}x${N}`, arena.mem.slice(oo, oo + M), want, 1e-5, 1e-5);
      const b = randomF32(N, M);
      const y = new Float32Array(M * N);
      js.fillRows(M, N, b, 0, y, 0);
      const [bo, yo] = place(b, randomF32(1, M * N));
      arena.kernels.fillRows(M, N, arena.mem, bo, arena.mem, yo);
      expect(Array.from(arena.mem.slice(yo, yo + M * N)), `fillRows ${M}x${N}`).toEqual(Array.from(y));
      for (let i = 0; i < M; i++) expect(y[i * N + N - 1]).toBe(b[i]);
    }
  });
});

for (const { tier, backend, unavailable } of TIERS) describe(`plain [${tier}] sessions equal plain-js sessions`, () => {
  beforeEach((ctx) => {
    if (unavailable) ctx.skip(unavailable);
  });
  const specs: [string, ModelSpec][] = [['lenet5', getPreset('lenet5')], ['lenet5-modern', getPreset('lenet5-modern')], ['variant', CONFORMANCE_VARIANT]];
  for (const [name, spec] of specs) {
    it(`${name}: logits, losses and weights after 3 SGD steps`, async () => {
      const w = conformanceWeights(spec, 5);
      const [a, b] = await Promise.all([backend.createSession(spec, w, { threads: 1 }), plainJsBackend.createSession(spec, w, { threads: 1 })]);
      const n = 40;
      const x = randomImages(6, n, 784);
      close('logits', await a.predict(x, n), await b.predict(x, n), 1e-5, 1e-5);
      for (let step = 0; step < 3; step++) {
        const y = randomLabels(7 + step, n, 10);
        const la = await a.trainStep(x, y, n, 0.1);
        const lb = await b.trainStep(x, y, n, 0.1);
        expect(Math.abs(la - lb), `loss at step ${step}`).toBeLessThan(1e-5);
      }
      const [wa, wb] = [await a.getWeights(), await b.getWeights()];
      for (const [pname, t] of wb) close(pname, wa.get(pname)!.data, t.data, 1e-4, 1e-6);
      await Promise.all([a.dispose(), b.dispose()]);
    });
  }

  it('names its tier in info() and in the session', async () => {
    const info = await backend.info({ threads: 2 });
    expect(info.runtime).toMatch(tier === 'relaxed-simd' ? /WebAssembly relaxed-SIMD kernels/ : /WebAssembly SIMD128 kernels/);
    expect(info.threads).toBe(2);
    const spec = getPreset('lenet5');
    const s = await backend.createSession(spec, initWeights(spec, 0), { threads: 1 });
    expect(s.kernelName).toBe(tier === 'relaxed-simd' ? 'wasm-relaxed-simd' : 'wasm-simd');
    await s.dispose();
  });
});

describe('tier selection', () => {
  it('plain picks relaxed SIMD when the engine validates it, SIMD128 otherwise', async () => {
    const m = await loadWasmKernels('auto');
    if (typeof m === 'string') throw new Error(m);
    expect(m.tier).toBe(relaxedSimdSupported() ? 'relaxed-simd' : 'simd128');
    const info = await plainBackend.info({ threads: 1 });
    expect(info.runtime).toContain(relaxedSimdSupported() ? 'relaxed-SIMD' : 'SIMD128');
    // loadWasmModule (the 0.1 API) hands out the same module.
    expect(await loadWasmModule('auto')).toBe(m.module);
  });

  it('LENET_PLAIN_WASM_TIER forces a tier and rejects unknown values in one line', async () => {
    const saved = process.env.LENET_PLAIN_WASM_TIER;
    try {
      process.env.LENET_PLAIN_WASM_TIER = 'simd128';
      expect((await plainBackend.info({ threads: 1 })).runtime).toContain('SIMD128');
      const spec = getPreset('lenet5');
      const s = await plainBackend.createSession(spec, initWeights(spec, 0), { threads: 1 });
      expect(s.kernelName).toBe('wasm-simd');
      await s.dispose();
      process.env.LENET_PLAIN_WASM_TIER = 'avx512';
      await expect(plainBackend.createSession(spec, initWeights(spec, 0), { threads: 1 }))
        .rejects.toThrow(/^plain: LENET_PLAIN_WASM_TIER=avx512: expected one of auto, relaxed-simd, simd128$/);
    } finally {
      if (saved === undefined) delete process.env.LENET_PLAIN_WASM_TIER;
      else process.env.LENET_PLAIN_WASM_TIER = saved;
    }
  });

  it('the two tiers are different modules that agree to float32 rounding on a whole forward pass', async (ctx) => {
    if (!relaxedSimdSupported()) ctx.skip('this engine rejects WebAssembly relaxed SIMD');
    const spec = getPreset('lenet5-modern');
    const w = conformanceWeights(spec, 9);
    const [a, b] = await Promise.all(TIERS.map((t) => t.backend.createSession(spec, w, { threads: 1 })));
    const n = 32;
    const x = randomImages(11, n, 784);
    const [la, lb] = [await a.predict(x, n), await b.predict(x, n)];
    close('relaxed vs simd128 logits', la, lb, 1e-5, 1e-5);
    await Promise.all([a.dispose(), b.dispose()]);
  });
});
