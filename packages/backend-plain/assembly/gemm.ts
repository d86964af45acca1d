// GEMM: C (=|+=) A·B with strides, SIMD register tiles (semantics in kernels.ts).
import { hsum, madd, smadd, st, stv } from './simd';

/** B rows contiguous along j (sBj == 1): vectorise over j, broadcast A. 4x8 register tiles. */
export function gemmVecJ(M: i32, N: i32, K: i32, a: usize, sAi: i32, sAk: i32, b: usize, sBk: i32, c: usize, acc: i32): void {
  const sAi4 = <usize>sAi << 2;
  const sAk4 = <usize>sAk << 2;
  const sBk4 = <usize>sBk << 2;
  const N4 = <usize>N << 2;
  let i = 0;
  // 6-row tiles first: 12 accumulators + 2 B vectors + 1 A splat + 1 temporary fill the 16
  // xmm registers V8 allocates on x64, and each A splat / B load now feeds 8 / 6 mul-adds
  // instead of 8 / 4 (conv1 has 6 output channels; conv2's dcol GEMM has 150 rows).
  for (; i + 6 <= M; i += 6) gemmVecJ6(N, K, a + <usize>i * sAi4, sAi4, sAk4, b, sBk4, c + <usize>i * N4, N4, acc);
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
        c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
        av = v128.load32_splat(pa + sAi4);
        c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
        av = v128.load32_splat(pa + 2 * sAi4);
        c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
        av = v128.load32_splat(pa + 3 * sAi4);
        c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
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
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa + sAi4), b0, c1);
        c2 = madd(v128.load32_splat(pa + 2 * sAi4), b0, c2);
        c3 = madd(v128.load32_splat(pa + 3 * sAi4), b0, c3);
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
        s0 = smadd(load<f32>(pa), bv, s0);
        s1 = smadd(load<f32>(pa + sAi4), bv, s1);
        s2 = smadd(load<f32>(pa + 2 * sAi4), bv, s2);
        s3 = smadd(load<f32>(pa + 3 * sAi4), bv, s3);
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
        c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
        c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
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

/**
 * Six rows of C (at rc, row stride N4 bytes) from A rows at ra (row stride sAi4 bytes): 6x8
 * tiles, then 6x4, then single columns. Every element is the same float32 sum over k in order as
 * in the 4-row and edge paths, so the bits do not depend on which tile computed it.
 */
export function gemmVecJ6(N: i32, K: i32, ra: usize, sAi4: usize, sAk4: usize, b: usize, sBk4: usize, rc: usize, N4: usize, acc: i32): void {
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
    let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
    let pa = ra;
    let pb = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let av = v128.load32_splat(pa);
      c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
      av = v128.load32_splat(pa + sAi4);
      c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
      av = v128.load32_splat(pa + 2 * sAi4);
      c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
      av = v128.load32_splat(pa + 3 * sAi4);
      c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
      av = v128.load32_splat(pa + 4 * sAi4);
      c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
      av = v128.load32_splat(pa + 5 * sAi4);
      c50 = madd(av, b0, c50); c51 = madd(av, b1, c51);
      pa += sAk4;
      pb += sBk4;
    }
    const p = rc + (<usize>j << 2);
    stv(p, c00, acc); stv(p + 16, c01, acc);
    stv(p + N4, c10, acc); stv(p + N4 + 16, c11, acc);
    stv(p + 2 * N4, c20, acc); stv(p + 2 * N4 + 16, c21, acc);
    stv(p + 3 * N4, c30, acc); stv(p + 3 * N4 + 16, c31, acc);
    stv(p + 4 * N4, c40, acc); stv(p + 4 * N4 + 16, c41, acc);
    stv(p + 5 * N4, c50, acc); stv(p + 5 * N4 + 16, c51, acc);
  }
  for (; j + 4 <= N; j += 4) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
    let pa = ra;
    let pb = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(pb);
      c0 = madd(v128.load32_splat(pa), b0, c0);
      c1 = madd(v128.load32_splat(pa + sAi4), b0, c1);
      c2 = madd(v128.load32_splat(pa + 2 * sAi4), b0, c2);
      c3 = madd(v128.load32_splat(pa + 3 * sAi4), b0, c3);
      c4 = madd(v128.load32_splat(pa + 4 * sAi4), b0, c4);
      c5 = madd(v128.load32_splat(pa + 5 * sAi4), b0, c5);
      pa += sAk4;
      pb += sBk4;
    }
    const p = rc + (<usize>j << 2);
    stv(p, c0, acc); stv(p + N4, c1, acc); stv(p + 2 * N4, c2, acc);
    stv(p + 3 * N4, c3, acc); stv(p + 4 * N4, c4, acc); stv(p + 5 * N4, c5, acc);
  }
  for (; j < N; j++) {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, s5: f32 = 0;
    let pa = ra;
    let pb = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const bv = load<f32>(pb);
      s0 = smadd(load<f32>(pa), bv, s0);
      s1 = smadd(load<f32>(pa + sAi4), bv, s1);
      s2 = smadd(load<f32>(pa + 2 * sAi4), bv, s2);
      s3 = smadd(load<f32>(pa + 3 * sAi4), bv, s3);
      s4 = smadd(load<f32>(pa + 4 * sAi4), bv, s4);
      s5 = smadd(load<f32>(pa + 5 * sAi4), bv, s5);
      pa += sAk4;
      pb += sBk4;
    }
    const p = rc + (<usize>j << 2);
    st(p, s0, acc); st(p + N4, s1, acc); st(p + 2 * N4, s2, acc);
    st(p + 3 * N4, s3, acc); st(p + 4 * N4, s4, acc); st(p + 5 * N4, s5, acc);
  }
}

/** One row of C from column j0 on: 16 columns per tile, then 4, then single. */
// @ts-ignore: decorator
@inline export function rowVecJ(j0: i32, N: i32, K: i32, ra: usize, sAk4: usize, b: usize, sBk4: usize, rc: usize, acc: i32): void {
  {
    let j = j0;
    for (; j + 16 <= N; j += 16) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pa = ra;
      let pb = b + (<usize>j << 2);
      for (let k = 0; k < K; k++) {
        const av = v128.load32_splat(pa);
        c0 = madd(av, v128.load(pb), c0);
        c1 = madd(av, v128.load(pb, 16), c1);
        c2 = madd(av, v128.load(pb, 32), c2);
        c3 = madd(av, v128.load(pb, 48), c3);
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
        c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
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
        s = smadd(load<f32>(pa), load<f32>(pb), s);
        pa += sAk4;
        pb += sBk4;
      }
      st(rc + (<usize>j << 2), s, acc);
    }
  }
}

/** A rows and B columns contiguous along k (sAk == sBk == 1): dot products vectorised over k. */
export function gemmVecK(M: i32, N: i32, K: i32, a: usize, sAi: i32, b: usize, sBj: i32, c: usize, acc: i32): void {
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
        c00 = madd(a0, bv, c00); c10 = madd(a1, bv, c10);
        bv = v128.load(rb + sBj4 + o);
        c01 = madd(a0, bv, c01); c11 = madd(a1, bv, c11);
        bv = v128.load(rb + 2 * sBj4 + o);
        c02 = madd(a0, bv, c02); c12 = madd(a1, bv, c12);
        bv = v128.load(rb + 3 * sBj4 + o);
        c03 = madd(a0, bv, c03); c13 = madd(a1, bv, c13);
      }
      const p = rc + (<usize>j << 2);
      if (k == K) {
        // Reduce four accumulators at once into one vector of the four dot products (row i,
        // columns j..j+3 are contiguous in C): shuffles instead of 8 horizontal sums.
        stv(p, hsum4(c00, c01, c02, c03), acc);
        stv(p + N4, hsum4(c10, c11, c12, c13), acc);
        continue;
      }
      let s00 = hsum(c00), s01 = hsum(c01), s02 = hsum(c02), s03 = hsum(c03);
      let s10 = hsum(c10), s11 = hsum(c11), s12 = hsum(c12), s13 = hsum(c13);
      for (; k < K; k++) {
        const o = <usize>k << 2;
        const a0 = load<f32>(ra + o), a1 = load<f32>(ra + sAi4 + o);
        const b0 = load<f32>(rb + o), b1 = load<f32>(rb + sBj4 + o);
        const b2 = load<f32>(rb + 2 * sBj4 + o), b3 = load<f32>(rb + 3 * sBj4 + o);
        s00 = smadd(a0, b0, s00); s01 = smadd(a0, b1, s01); s02 = smadd(a0, b2, s02); s03 = smadd(a0, b3, s03);
        s10 = smadd(a1, b0, s10); s11 = smadd(a1, b1, s11); s12 = smadd(a1, b2, s12); s13 = smadd(a1, b3, s13);
      }
      st(p, s00, acc); st(p + 4, s01, acc); st(p + 8, s02, acc); st(p + 12, s03, acc);
      st(p + N4, s10, acc); st(p + N4 + 4, s11, acc); st(p + N4 + 8, s12, acc); st(p + N4 + 12, s13, acc);
    }
    for (; j < N; j++) {
      const rb = b + <usize>j * sBj4;
      st(rc + (<usize>j << 2), dot(ra, rb, K, K4), acc);
      st(rc + N4 + (<usize>j << 2), dot(ra + sAi4, rb, K, K4), acc);
    }
  }
  // Last row (all of batch-1 inference's dense layers): four dot products at a time, so four
  // independent accumulator chains hide the add latency that a lone dot() waits on. Same
  // per-element arithmetic as dot() and the 2x4 tiles: vector partial sums, hsum order, tail.
  for (; i < M; i++) {
    const ra = a + <usize>i * sAi4;
    const rc = c + <usize>i * N4;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const rb = b + <usize>j * sBj4;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let k = 0;
      for (; k < K4; k += 4) {
        const o = <usize>k << 2;
        const av = v128.load(ra + o);
        c0 = madd(av, v128.load(rb + o), c0);
        c1 = madd(av, v128.load(rb + sBj4 + o), c1);
        c2 = madd(av, v128.load(rb + 2 * sBj4 + o), c2);
        c3 = madd(av, v128.load(rb + 3 * sBj4 + o), c3);
      }
      const p = rc + (<usize>j << 2);
      if (k == K) {
        stv(p, hsum4(c0, c1, c2, c3), acc);
        continue;
      }
      let s0 = hsum(c0), s1 = hsum(c1), s2 = hsum(c2), s3 = hsum(c3);
      for (; k < K; k++) {
        const o = <usize>k << 2;
        const av = load<f32>(ra + o);
        s0 = smadd(av, load<f32>(rb + o), s0);
        s1 = smadd(av, load<f32>(rb + sBj4 + o), s1);
        s2 = smadd(av, load<f32>(rb + 2 * sBj4 + o), s2);
        s3 = smadd(av, load<f32>(rb + 3 * sBj4 + o), s3);
      }
      st(p, s0, acc); st(p + 4, s1, acc); st(p + 8, s2, acc); st(p + 12, s3, acc);
    }
    for (; j < N; j++) {
      st(rc + (<usize>j << 2), dot(ra, b + <usize>j * sBj4, K, K4), acc);
    }
  }
}

// @ts-ignore: decorator
@inline export function dot(pa: usize, pb: usize, K: i32, K4: i32): f32 {
  let v = f32x4.splat(0);
  let k = 0;
  for (; k < K4; k += 4) {
    const o = <usize>k << 2;
    v = madd(v128.load(pa + o), v128.load(pb + o), v);
  }
  let s = hsum(v);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    s = smadd(load<f32>(pa + o), load<f32>(pb + o), s);
  }
  return s;
}

/**
 * [hsum(a), hsum(b), hsum(c), hsum(d)] with exactly hsum's order, (l0 + l1) + (l2 + l3), so a
 * dot product gives the same bits in a full tile and in an edge (a sample's logits must not
 * depend on its position in the batch).
 */
// @ts-ignore: decorator
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 2, 6), v128.shuffle<f32>(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 2, 6), v128.shuffle<f32>(c, d, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Any strides: scalar loops. */
export function gemmScalar(M: i32, N: i32, K: i32, a: usize, sAi: i32, sAk: i32, b: usize, sBk: i32, sBj: i32, c: usize, acc: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = 0;
      let pa = a + (<usize>(i * sAi) << 2);
      let pb = b + (<usize>(j * sBj) << 2);
      for (let k = 0; k < K; k++) {
        s = smadd(load<f32>(pa), load<f32>(pb), s);
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
