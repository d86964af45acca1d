// WebAssembly SIMD kernels for the "plain" tier, compiled by AssemblyScript (see package.json
// "build:wasm"). Pointers are byte addresses into the (imported) memory; strides are in
// float32 elements. Semantics equal the JS gemm in src/kernels.ts:
//   C[c + (i*N + j)] (=|+=) sum_k A[a + i*sAi + k*sAk] * B[b + k*sBk + j*sBj]
// The sum over k runs in float32 without FMA (WebAssembly SIMD has none); the JS tier sums in
// float64, so the tiers agree to float32 rounding, not bit for bit.

// @ts-ignore: decorator
@inline function st(c: usize, v: f32, acc: i32): void {
  if (acc) store<f32>(c, load<f32>(c) + v);
  else store<f32>(c, v);
}

// @ts-ignore: decorator
@inline function stv(c: usize, v: v128, acc: i32): void {
  if (acc) v128.store(c, f32x4.add(v128.load(c), v));
  else v128.store(c, v);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** B rows contiguous along j (sBj == 1): vectorise over j, broadcast A. 4x8 register tiles. */
function gemmVecJ(M: i32, N: i32, K: i32, a: usize, sAi: i32, sAk: i32, b: usize, sBk: i32, c: usize, acc: i32): void {
  const sAi4 = <usize>sAi << 2;
  const sAk4 = <usize>sAk << 2;
  const sBk4 = <usize>sBk << 2;
  const N4 = <usize>N << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const ra = a + <usize>i * sAi4;
    const rc = c + <usize>i * N4;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let av = v128.load32_splat(pa);
        c00 = f32x4.add(c00, f32x4.mul(av, b0)); c01 = f32x4.add(c01, f32x4.mul(av, b1));
        av = v128.load32_splat(pa + sAi4);
        c10 = f32x4.add(c10, f32x4.mul(av, b0)); c11 = f32x4.add(c11, f32x4.mul(av, b1));
        av = v128.load32_splat(pa + 2 * sAi4);
        c20 = f32x4.add(c20, f32x4.mul(av, b0)); c21 = f32x4.add(c21, f32x4.mul(av, b1));
        av = v128.load32_splat(pa + 3 * sAi4);
        c30 = f32x4.add(c30, f32x4.mul(av, b0)); c31 = f32x4.add(c31, f32x4.mul(av, b1));
        pa += sAk4;
        pb += sBk4;
      }
      const p = rc + (<usize>j << 2);
      stv(p, c00, acc); stv(p + 16, c01, acc);
      stv(p + N4, c10, acc); stv(p + N4 + 16, c11, acc);
      stv(p + 2 * N4, c20, acc); stv(p + 2 * N4 + 16, c21, acc);
      stv(p + 3 * N4, c30, acc); stv(p + 3 * N4 + 16, c31, acc);
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), b0));
        c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(pa + sAi4), b0));
        c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(pa + 2 * sAi4), b0));
        c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(pa + 3 * sAi4), b0));
        pa += sAk4;
        pb += sBk4;
      }
      const p = rc + (<usize>j << 2);
      stv(p, c0, acc); stv(p + N4, c1, acc); stv(p + 2 * N4, c2, acc); stv(p + 3 * N4, c3, acc);
    }
    for (; j < N; j++) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const bv = load<f32>(pb);
        s0 += load<f32>(pa) * bv;
        s1 += load<f32>(pa + sAi4) * bv;
        s2 += load<f32>(pa + 2 * sAi4) * bv;
        s3 += load<f32>(pa + 3 * sAi4) * bv;
        pa += sAk4;
        pb += sBk4;
      }
      const p = rc + (<usize>j << 2);
      st(p, s0, acc); st(p + N4, s1, acc); st(p + 2 * N4, s2, acc); st(p + 3 * N4, s3, acc);
    }
  }
  // Two remaining rows: 2x8 tiles (conv1 has 6 output channels = 4 + 2).
  if (i + 2 <= M) {
    const ra = a + <usize>i * sAi4;
    const rc = c + <usize>i * N4;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const a0 = v128.load32_splat(pa);
        const a1 = v128.load32_splat(pa + sAi4);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        pa += sAk4;
        pb += sBk4;
      }
      const p = rc + (<usize>j << 2);
      stv(p, c00, acc); stv(p + 16, c01, acc);
      stv(p + N4, c10, acc); stv(p + N4 + 16, c11, acc);
    }
    // Columns left over, row by row.
    rowVecJ(j, N, K, ra, sAk4, b, sBk4, rc, acc);
    rowVecJ(j, N, K, ra + sAi4, sAk4, b, sBk4, rc + N4, acc);
    i += 2;
  }
  for (; i < M; i++) rowVecJ(0, N, K, a + <usize>i * sAi4, sAk4, b, sBk4, c + <usize>i * N4, acc);
}

/** One row of C from column j0 on: 16 columns per tile, then 4, then single. */
// @ts-ignore: decorator
@inline function rowVecJ(j0: i32, N: i32, K: i32, ra: usize, sAk4: usize, b: usize, sBk4: usize, rc: usize, acc: i32): void {
  {
    let j = j0;
    for (; j + 16 <= N; j += 16) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const av = v128.load32_splat(pa);
        c0 = f32x4.add(c0, f32x4.mul(av, v128.load(pb)));
        c1 = f32x4.add(c1, f32x4.mul(av, v128.load(pb, 16)));
        c2 = f32x4.add(c2, f32x4.mul(av, v128.load(pb, 32)));
        c3 = f32x4.add(c3, f32x4.mul(av, v128.load(pb, 48)));
        pa += sAk4;
        pb += sBk4;
      }
      const p = rc + (<usize>j << 2);
      stv(p, c0, acc); stv(p + 16, c1, acc); stv(p + 32, c2, acc); stv(p + 48, c3, acc);
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0);
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
        pa += sAk4;
        pb += sBk4;
      }
      stv(rc + (<usize>j << 2), c0, acc);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += sAk4;
        pb += sBk4;
      }
      st(rc + (<usize>j << 2), s, acc);
    }
  }
}

/** A rows and B columns contiguous along k (sAk == sBk == 1): dot products vectorised over k. */
function gemmVecK(M: i32, N: i32, K: i32, a: usize, sAi: i32, b: usize, sBj: i32, c: usize, acc: i32): void {
  const sAi4 = <usize>sAi << 2;
  const sBj4 = <usize>sBj << 2;
  const N4 = <usize>N << 2;
  const K4 = K & ~3;
  let i = 0;
  for (; i + 2 <= M; i += 2) {
    const ra = a + <usize>i * sAi4;
    const rc = c + <usize>i * N4;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const rb = b + <usize>j * sBj4;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
      let k = 0;
      for (; k < K4; k += 4) {
        const o = <usize>k << 2;
        const a0 = v128.load(ra + o);
        const a1 = v128.load(ra + sAi4 + o);
        let bv = v128.load(rb + o);
        c00 = f32x4.add(c00, f32x4.mul(a0, bv)); c10 = f32x4.add(c10, f32x4.mul(a1, bv));
        bv = v128.load(rb + sBj4 + o);
        c01 = f32x4.add(c01, f32x4.mul(a0, bv)); c11 = f32x4.add(c11, f32x4.mul(a1, bv));
        bv = v128.load(rb + 2 * sBj4 + o);
        c02 = f32x4.add(c02, f32x4.mul(a0, bv)); c12 = f32x4.add(c12, f32x4.mul(a1, bv));
        bv = v128.load(rb + 3 * sBj4 + o);
        c03 = f32x4.add(c03, f32x4.mul(a0, bv)); c13 = f32x4.add(c13, f32x4.mul(a1, bv));
      }
      let s00 = hsum(c00), s01 = hsum(c01), s02 = hsum(c02), s03 = hsum(c03);
      let s10 = hsum(c10), s11 = hsum(c11), s12 = hsum(c12), s13 = hsum(c13);
      for (; k < K; k++) {
        const o = <usize>k << 2;
        const a0 = load<f32>(ra + o), a1 = load<f32>(ra + sAi4 + o);
        const b0 = load<f32>(rb + o), b1 = load<f32>(rb + sBj4 + o);
        const b2 = load<f32>(rb + 2 * sBj4 + o), b3 = load<f32>(rb + 3 * sBj4 + o);
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
      }
      const p = rc + (<usize>j << 2);
      st(p, s00, acc); st(p + 4, s01, acc); st(p + 8, s02, acc); st(p + 12, s03, acc);
      st(p + N4, s10, acc); st(p + N4 + 4, s11, acc); st(p + N4 + 8, s12, acc); st(p + N4 + 12, s13, acc);
    }
    for (; j < N; j++) {
      const rb = b + <usize>j * sBj4;
      st(rc + (<usize>j << 2), dot(ra, rb, K, K4), acc);
      st(rc + N4 + (<usize>j << 2), dot(ra + sAi4, rb, K, K4), acc);
    }
  }
  for (; i < M; i++) {
    const ra = a + <usize>i * sAi4;
    const rc = c + <usize>i * N4;
    for (let j = 0; j < N; j++) {
      st(rc + (<usize>j << 2), dot(ra, b + <usize>j * sBj4, K, K4), acc);
    }
  }
}

// @ts-ignore: decorator
@inline function dot(pa: usize, pb: usize, K: i32, K4: i32): f32 {
  let v = f32x4.splat(0);
  let k = 0;
  for (; k < K4; k += 4) {
    const o = <usize>k << 2;
    v = f32x4.add(v, f32x4.mul(v128.load(pa + o), v128.load(pb + o)));
  }
  let s = hsum(v);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    s += load<f32>(pa + o) * load<f32>(pb + o);
  }
  return s;
}

/** Any strides: scalar loops. */
function gemmScalar(M: i32, N: i32, K: i32, a: usize, sAi: i32, sAk: i32, b: usize, sBk: i32, sBj: i32, c: usize, acc: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = 0;
      let pa = a + (<usize>(i * sAi) << 2);
      let pb = b + (<usize>(j * sBj) << 2);
      for (let k = 0; k < K; k++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += <usize>sAk << 2;
        pb += <usize>sBk << 2;
      }
      st(c + (<usize>(i * N + j) << 2), s, acc);
    }
  }
}

export function gemm(M: i32, N: i32, K: i32, a: usize, sAi: i32, sAk: i32, b: usize, sBk: i32, sBj: i32, c: usize, acc: i32): void {
  if (M <= 0 || N <= 0) return;
  if (sBj == 1) gemmVecJ(M, N, K, a, sAi, sAk, b, sBk, c, acc);
  else if (sAk == 1 && sBk == 1) gemmVecK(M, N, K, a, sAi, b, sBj, c, acc);
  else gemmScalar(M, N, K, a, sAi, sAk, b, sBk, sBj, c, acc);
}

// ---------------------------------------------------------------------------------------------
// Patch matrices (im2col / col2im), same layout as src/layers/conv2d.ts:
//   col[q, p], q = (c*k + ky)*k + kx, p = oy*ow + ox.

// @ts-ignore: decorator
@inline function rangeLo(t: i32, stride: i32, pad: i32): i32 {
  // smallest o >= 0 with o*stride - pad + t >= 0
  const d = pad - t;
  if (d <= 0) return 0;
  return (d + stride - 1) / stride;
}

// @ts-ignore: decorator
@inline function rangeHi(t: i32, size: i32, out: i32, stride: i32, pad: i32): i32 {
  // one past the largest o with o*stride - pad + t <= size - 1
  const d = size - 1 + pad - t;
  if (d < 0) return 0;
  const h = d / stride + 1;
  return h < out ? h : out;
}

export function im2col(cin: i32, h: i32, w: i32, k: i32, s: i32, pad: i32, oh: i32, ow: i32, x: usize, col: usize): void {
  const P = oh * ow;
  let q = col;
  for (let c = 0; c < cin; c++) {
    const xc = x + (<usize>(c * h * w) << 2);
    for (let ky = 0; ky < k; ky++) {
      const oyLo = rangeLo(ky, s, pad);
      let oyHi = rangeHi(ky, h, oh, s, pad);
      if (oyHi < oyLo) oyHi = oyLo;
      for (let kx = 0; kx < k; kx++) {
        const oxLo = rangeLo(kx, s, pad);
        let oxHi = rangeHi(kx, w, ow, s, pad);
        if (oxHi < oxLo) oxHi = oxLo;
        let p = q;
        for (let oy = 0; oy < oh; oy++) {
          if (oy < oyLo || oy >= oyHi) {
            memory.fill(p, 0, <usize>ow << 2);
          } else {
            const row = xc + (<usize>((oy * s - pad + ky) * w - pad + kx) << 2);
            if (oxLo > 0) memory.fill(p, 0, <usize>oxLo << 2);
            if (s == 1) {
              memory.copy(p + (<usize>oxLo << 2), row + (<usize>oxLo << 2), <usize>(oxHi - oxLo) << 2);
            } else {
              for (let ox = oxLo; ox < oxHi; ox++) {
                store<f32>(p + (<usize>ox << 2), load<f32>(row + (<usize>(ox * s) << 2)));
              }
            }
            if (oxHi < ow) memory.fill(p + (<usize>oxHi << 2), 0, <usize>(ow - oxHi) << 2);
          }
          p += <usize>ow << 2;
        }
        q += <usize>P << 2;
      }
    }
  }
}

export function col2im(cin: i32, h: i32, w: i32, k: i32, s: i32, pad: i32, oh: i32, ow: i32, col: usize, dx: usize): void {
  const P = oh * ow;
  memory.fill(dx, 0, <usize>(cin * h * w) << 2);
  let q = col;
  for (let c = 0; c < cin; c++) {
    const xc = dx + (<usize>(c * h * w) << 2);
    for (let ky = 0; ky < k; ky++) {
      const oyLo = rangeLo(ky, s, pad);
      const oyHi = rangeHi(ky, h, oh, s, pad);
      for (let kx = 0; kx < k; kx++) {
        const oxLo = rangeLo(kx, s, pad);
        const oxHi = rangeHi(kx, w, ow, s, pad);
        for (let oy = oyLo; oy < oyHi; oy++) {
          const row = xc + (<usize>((oy * s - pad + ky) * w - pad + kx) << 2);
          const p = q + (<usize>(oy * ow) << 2);
          let ox = oxLo;
          if (s == 1) {
            for (; ox + 4 <= oxHi; ox += 4) {
              const a = row + (<usize>ox << 2);
              v128.store(a, f32x4.add(v128.load(a), v128.load(p + (<usize>ox << 2))));
            }
          }
          for (; ox < oxHi; ox++) {
            const a = row + (<usize>(ox * s) << 2);
            store<f32>(a, load<f32>(a) + load<f32>(p + (<usize>ox << 2)));
          }
        }
        q += <usize>P << 2;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Activations. fn: 0 sigmoid, 1 relu, 2 tanh.

// exp for 4 lanes: x = n*ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial (Cephes expf
// coefficients), times 2^n built in the exponent bits. Relative error ~1e-7 over the clamped range.
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

// @ts-ignore: decorator
@inline function act4(fn: i32, v: v128): v128 {
  const one = f32x4.splat(1.0);
  if (fn == 0) return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(v))));
  if (fn == 1) return f32x4.max(v, f32x4.splat(0));
  // tanh(v) = 1 - 2 / (1 + exp(2v))
  return f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(one, exp4(f32x4.add(v, v)))));
}

export function activationForward(fn: i32, len: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, act4(fn, v128.load(x + o)));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(act4(fn, f32x4.splat(load<f32>(x + o))), 0));
  }
}

// @ts-ignore: decorator
@inline function dact4(fn: i32, y: v128, dy: v128): v128 {
  const one = f32x4.splat(1.0);
  if (fn == 0) return f32x4.mul(f32x4.mul(dy, y), f32x4.sub(one, y));
  if (fn == 1) return v128.and(dy, f32x4.gt(y, f32x4.splat(0)));
  return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(y, y)));
}

export function activationBackward(fn: i32, len: i32, y: usize, dy: usize, dx: usize): void {
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, dact4(fn, v128.load(y + o), v128.load(dy + o)));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, f32x4.extract_lane(dact4(fn, f32x4.splat(load<f32>(y + o)), f32x4.splat(load<f32>(dy + o))), 0));
  }
}

// ---------------------------------------------------------------------------------------------
// Pooling, same semantics as src/layers/pool2d.ts. mode: 0 avg, 1 max.

export function poolForward(mode: i32, planes: i32, h: i32, w: i32, k: i32, s: i32, oh: i32, ow: i32, x: usize, y: usize): void {
  const inv: f32 = <f32>1.0 / <f32>(k * k);
  let py = y;
  for (let pl = 0; pl < planes; pl++) {
    const xp = x + (<usize>(pl * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const base = xp + (<usize>(oy * s * w + ox * s) << 2);
        if (mode == 1) {
          let m = load<f32>(base);
          for (let ky = 0; ky < k; ky++) {
            const r = base + (<usize>(ky * w) << 2);
            for (let kx = 0; kx < k; kx++) {
              const v = load<f32>(r + (<usize>kx << 2));
              if (v > m) m = v;
            }
          }
          store<f32>(py, m);
        } else {
          let sum: f32 = 0;
          for (let ky = 0; ky < k; ky++) {
            const r = base + (<usize>(ky * w) << 2);
            for (let kx = 0; kx < k; kx++) sum += load<f32>(r + (<usize>kx << 2));
          }
          store<f32>(py, sum * inv);
        }
        py += 4;
      }
    }
  }
}

export function poolBackward(mode: i32, planes: i32, h: i32, w: i32, k: i32, s: i32, oh: i32, ow: i32, x: usize, dy: usize, dx: usize): void {
  const inv: f32 = <f32>1.0 / <f32>(k * k);
  memory.fill(dx, 0, <usize>(planes * h * w) << 2);
  let pd = dy;
  for (let pl = 0; pl < planes; pl++) {
    const off = <usize>(pl * h * w) << 2;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const b = <usize>(oy * s * w + ox * s) << 2;
        const d = load<f32>(pd);
        pd += 4;
        if (mode == 1) {
          let best = b;
          let m = load<f32>(x + off + b);
          for (let ky = 0; ky < k; ky++) {
            const r = b + (<usize>(ky * w) << 2);
            for (let kx = 0; kx < k; kx++) {
              const v = load<f32>(x + off + r + (<usize>kx << 2));
              if (v > m) {
                m = v;
                best = r + (<usize>kx << 2);
              }
            }
          }
          const a = dx + off + best;
          store<f32>(a, load<f32>(a) + d);
        } else {
          const v = d * inv;
          for (let ky = 0; ky < k; ky++) {
            const r = dx + off + b + (<usize>(ky * w) << 2);
            for (let kx = 0; kx < k; kx++) {
              const a = r + (<usize>kx << 2);
              store<f32>(a, load<f32>(a) + v);
            }
          }
        }
      }
    }
  }
}
