// WebAssembly SIMD kernels for the "plain" tier, compiled by AssemblyScript (see package.json
// "build:wasm"). Pointers are byte addresses into the (imported) memory; strides are in
// float32 elements. Semantics equal the JS gemm in src/kernels.ts:
//   C[c + (i*N + j)] (=|+=) sum_k A[a + i*sAi + k*sAk] * B[b + k*sBk + j*sBj]
// The sum over k runs in float32; the JS tier sums in float64, so the tiers agree to float32
// rounding, not bit for bit.
//
// Two modules are built from this file (package.json "build:wasm"): the SIMD128 tier, where
// every multiply-accumulate of the GEMM/conv tiles is f32x4.mul + f32x4.add (two roundings), and
// the relaxed-SIMD tier (--enable relaxed-simd), where it is one f32x4.relaxed_madd: a fused
// multiply-add (one rounding) on CPUs with FMA, which the engine picks once per process, so
// results are deterministic within a tier on one machine. The switch is madd() below.
// Activations, pooling and bias sums use no madd: they are the same code in both tiers.

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  // ASC_FEATURE_RELAXED_SIMD is a compile-time constant: the untaken branch is not emitted.
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function smadd(a: f32, b: f32, c: f32): f32 {
  // The scalar edges of the tiles round like their vector lanes, so a sum's bits do not depend on
  // whether it landed in a tile or an edge (wasm has no scalar FMA: one lane of relaxed_madd).
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return c + a * b;
}

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
function gemmVecJ6(N: i32, K: i32, ra: usize, sAi4: usize, sAk4: usize, b: usize, sBk4: usize, rc: usize, N4: usize, acc: i32): void {
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
@inline function rowVecJ(j0: i32, N: i32, K: i32, ra: usize, sAk4: usize, b: usize, sBk4: usize, rc: usize, acc: i32): void {
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
@inline function dot(pa: usize, pb: usize, K: i32, K4: i32): f32 {
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
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 2, 6), v128.shuffle<f32>(a, b, 1, 5, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 2, 6), v128.shuffle<f32>(c, d, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Any strides: scalar loops. */
function gemmScalar(M: i32, N: i32, K: i32, a: usize, sAi: i32, sAk: i32, b: usize, sBk: i32, sBj: i32, c: usize, acc: i32): void {
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

// ---------------------------------------------------------------------------------------------
// Patch matrices (im2col / col2im), same layout as src/layers/conv2d.ts:
//   col[q, p], q = (c*k + ky)*k + kx, p = oy*ow + ox.

// @ts-ignore: decorator
@inline function rangeLo(t: i32, stride: i32, pad: i32): i32 {
  // smallest o >= 0 with o*stride - pad + t >= 0
  const d = pad - t;
  if (d <= 0) return 0;
  if (stride == 1) return d; // no integer division in the common case
  return (d + stride - 1) / stride;
}

// @ts-ignore: decorator
@inline function rangeHi(t: i32, size: i32, out: i32, stride: i32, pad: i32): i32 {
  // one past the largest o with o*stride - pad + t <= size - 1
  const d = size - 1 + pad - t;
  if (d < 0) return 0;
  const h = (stride == 1 ? d : d / stride) + 1;
  return h < out ? h : out;
}

// Short row copies/fills inline: memory.copy/fill are calls into the runtime, which dominate
// for LeNet's 10- to 28-float rows.
// @ts-ignore: decorator
@inline function copyRow(dst: usize, src: usize, n: i32): void {
  if (n >= 4) {
    // Vectors, the last one overlapping the previous (it rewrites the same values).
    let i = 0;
    for (; i + 4 < n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, v128.load(src + o));
    }
    const o = <usize>(n - 4) << 2;
    v128.store(dst + o, v128.load(src + o));
  } else {
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(dst + o, load<f32>(src + o));
    }
  }
}

// @ts-ignore: decorator
@inline function zeroRow(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  if (n >= 4) {
    let i = 0;
    for (; i + 4 < n; i += 4) v128.store(dst + (<usize>i << 2), z);
    v128.store(dst + (<usize>(n - 4) << 2), z);
  } else {
    for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
  }
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
        if (oyLo > 0) zeroRow(p, oyLo * ow);
        p += <usize>(oyLo * ow) << 2;
        if (s == 1 && oxLo == 0 && oxHi == ow && w == ow) {
          // Whole rows, contiguous in x too: one copy.
          const row = xc + (<usize>((oyLo - pad + ky) * w - pad + kx) << 2);
          copyRow(p, row, (oyHi - oyLo) * ow);
          p += <usize>((oyHi - oyLo) * ow) << 2;
        } else {
          for (let oy = oyLo; oy < oyHi; oy++) {
            const row = xc + (<usize>((oy * s - pad + ky) * w - pad + kx) << 2);
            if (oxLo > 0) zeroRow(p, oxLo);
            if (s == 1) {
              copyRow(p + (<usize>oxLo << 2), row + (<usize>oxLo << 2), oxHi - oxLo);
            } else {
              for (let ox = oxLo; ox < oxHi; ox++) {
                store<f32>(p + (<usize>ox << 2), load<f32>(row + (<usize>(ox * s) << 2)));
              }
            }
            if (oxHi < ow) zeroRow(p + (<usize>oxHi << 2), ow - oxHi);
            p += <usize>ow << 2;
          }
        }
        if (oyHi < oh) zeroRow(p, (oh - oyHi) * ow);
        q += <usize>P << 2;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Direct convolution for inference (stride 1): the im2col GEMM with the patch matrix left
// implicit. B row q = (c, ky, kx) of an 8-column tile at output (oy, ox) is the contiguous input
// run xp[c, oy + ky, ox + kx ..+8], so the tile reads the (zero-padded) input directly instead
// of a 25x-larger patch matrix written and read back per sample. Each output is
// bias + (the same float32 sum over q in the same order as the GEMM, padding zeros included),
// so the result has the same bits as im2col + fillRows + gemm.

/** Copies x[cin, h, w] into xp[cin, h + 2pad, w + 2pad] with a zero border. */
function padInput(cin: i32, h: i32, w: i32, pad: i32, x: usize, xp: usize): void {
  const wp = w + 2 * pad;
  const hp = h + 2 * pad;
  zeroRow(xp, cin * hp * wp);
  for (let c = 0; c < cin; c++) {
    let src = x + (<usize>(c * h * w) << 2);
    let dst = xp + (<usize>((c * hp + pad) * wp + pad) << 2);
    for (let r = 0; r < h; r++) {
      copyRow(dst, src, w);
      src += <usize>w << 2;
      dst += <usize>wp << 2;
    }
  }
}

/**
 * Three output channels (weights at pa, row stride qb bytes) x 8 columns starting at pb. Not
 * 6x8: V8 (15 allocatable xmm registers on x64) hoists the six weight splats and spilled four
 * of the twelve accumulators, a store/reload on each chain per step.
 */
// @ts-ignore: decorator
@inline function convTile3x8(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
  bias: usize, py: usize, pb4: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  for (let c = 0; c < cin; c++) {
    let pr = pb + <usize>c * hpwp4;
    for (let ky = 0; ky < k; ky++) {
      let q = pr;
      for (let kx = 0; kx < k; kx++) {
        const b0 = v128.load(q);
        const b1 = v128.load(q, 16);
        let av = v128.load32_splat(pa);
        c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
        av = v128.load32_splat(pa + qb);
        c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
        av = v128.load32_splat(pa + 2 * qb);
        c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
        pa += 4;
        q += 4;
      }
      pr += wp4;
    }
  }
  let bv = v128.load32_splat(bias);
  v128.store(py, f32x4.add(bv, c00)); v128.store(py, f32x4.add(bv, c01), 16);
  bv = v128.load32_splat(bias + 4);
  v128.store(py + pb4, f32x4.add(bv, c10)); v128.store(py + pb4, f32x4.add(bv, c11), 16);
  bv = v128.load32_splat(bias + 8);
  v128.store(py + 2 * pb4, f32x4.add(bv, c20)); v128.store(py + 2 * pb4, f32x4.add(bv, c21), 16);
}

/** Three output channels x 4 columns. */
// @ts-ignore: decorator
@inline function convTile3x4(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
  bias: usize, py: usize, pb4: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
  for (let c = 0; c < cin; c++) {
    let pr = pb + <usize>c * hpwp4;
    for (let ky = 0; ky < k; ky++) {
      let q = pr;
      for (let kx = 0; kx < k; kx++) {
        const b0 = v128.load(q);
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa + qb), b0, c1);
        c2 = madd(v128.load32_splat(pa + 2 * qb), b0, c2);
        pa += 4;
        q += 4;
      }
      pr += wp4;
    }
  }
  v128.store(py, f32x4.add(v128.load32_splat(bias), c0));
  v128.store(py + pb4, f32x4.add(v128.load32_splat(bias + 4), c1));
  v128.store(py + 2 * pb4, f32x4.add(v128.load32_splat(bias + 8), c2));
}

/** Four output channels x 8 columns. */
// @ts-ignore: decorator
@inline function convTile4x8(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
  bias: usize, py: usize, pb4: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let c = 0; c < cin; c++) {
    let pr = pb + <usize>c * hpwp4;
    for (let ky = 0; ky < k; ky++) {
      let q = pr;
      for (let kx = 0; kx < k; kx++) {
        const b0 = v128.load(q);
        const b1 = v128.load(q, 16);
        let av = v128.load32_splat(pa);
        c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
        av = v128.load32_splat(pa + qb);
        c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
        av = v128.load32_splat(pa + 2 * qb);
        c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
        av = v128.load32_splat(pa + 3 * qb);
        c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
        pa += 4;
        q += 4;
      }
      pr += wp4;
    }
  }
  let bv = v128.load32_splat(bias);
  v128.store(py, f32x4.add(bv, c00)); v128.store(py, f32x4.add(bv, c01), 16);
  bv = v128.load32_splat(bias + 4);
  v128.store(py + pb4, f32x4.add(bv, c10)); v128.store(py + pb4, f32x4.add(bv, c11), 16);
  bv = v128.load32_splat(bias + 8);
  v128.store(py + 2 * pb4, f32x4.add(bv, c20)); v128.store(py + 2 * pb4, f32x4.add(bv, c21), 16);
  bv = v128.load32_splat(bias + 12);
  v128.store(py + 3 * pb4, f32x4.add(bv, c30)); v128.store(py + 3 * pb4, f32x4.add(bv, c31), 16);
}

/**
 * Four output channels x 2 columns x 2 rows (rows oy and oy + 1, columns ox, ox + 1 in lanes
 * 0..3): the 2 columns a row of 8-column tiles leaves when ow = 8m + 2 (conv2's rows of 10),
 * without recomputing columns; each lane's input pair is two 64-bit loads. Same per-element
 * sum as the other tiles.
 */
// @ts-ignore: decorator
@inline function convTile4x2x2(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
  bias: usize, py: usize, pb4: usize, ow4: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let c = 0; c < cin; c++) {
    let pr = pb + <usize>c * hpwp4;
    for (let ky = 0; ky < k; ky++) {
      let q = pr;
      for (let kx = 0; kx < k; kx++) {
        const b0 = v128.load64_lane(q + wp4, v128.load64_zero(q), 1);
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa + qb), b0, c1);
        c2 = madd(v128.load32_splat(pa + 2 * qb), b0, c2);
        c3 = madd(v128.load32_splat(pa + 3 * qb), b0, c3);
        pa += 4;
        q += 4;
      }
      pr += wp4;
    }
  }
  let v = f32x4.add(v128.load32_splat(bias), c0);
  v128.store64_lane(py, v, 0); v128.store64_lane(py + ow4, v, 1);
  v = f32x4.add(v128.load32_splat(bias + 4), c1);
  v128.store64_lane(py + pb4, v, 0); v128.store64_lane(py + pb4 + ow4, v, 1);
  v = f32x4.add(v128.load32_splat(bias + 8), c2);
  v128.store64_lane(py + 2 * pb4, v, 0); v128.store64_lane(py + 2 * pb4 + ow4, v, 1);
  v = f32x4.add(v128.load32_splat(bias + 12), c3);
  v128.store64_lane(py + 3 * pb4, v, 0); v128.store64_lane(py + 3 * pb4 + ow4, v, 1);
}

/** Four output channels x 4 columns. */
// @ts-ignore: decorator
@inline function convTile4x4(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
  bias: usize, py: usize, pb4: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let c = 0; c < cin; c++) {
    let pr = pb + <usize>c * hpwp4;
    for (let ky = 0; ky < k; ky++) {
      let q = pr;
      for (let kx = 0; kx < k; kx++) {
        const b0 = v128.load(q);
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa + qb), b0, c1);
        c2 = madd(v128.load32_splat(pa + 2 * qb), b0, c2);
        c3 = madd(v128.load32_splat(pa + 3 * qb), b0, c3);
        pa += 4;
        q += 4;
      }
      pr += wp4;
    }
  }
  v128.store(py, f32x4.add(v128.load32_splat(bias), c0));
  v128.store(py + pb4, f32x4.add(v128.load32_splat(bias + 4), c1));
  v128.store(py + 2 * pb4, f32x4.add(v128.load32_splat(bias + 8), c2));
  v128.store(py + 3 * pb4, f32x4.add(v128.load32_splat(bias + 12), c3));
}

/** One output channel x 4 columns (channels left over after the 4- and 3-channel groups). */
// @ts-ignore: decorator
@inline function convTile1x4(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, pb: usize, bias: usize, py: usize): void {
  let c0 = f32x4.splat(0);
  for (let c = 0; c < cin; c++) {
    let pr = pb + <usize>c * hpwp4;
    for (let ky = 0; ky < k; ky++) {
      let q = pr;
      for (let kx = 0; kx < k; kx++) {
        c0 = madd(v128.load32_splat(pa), v128.load(q), c0);
        pa += 4;
        q += 4;
      }
      pr += wp4;
    }
  }
  v128.store(py, f32x4.add(v128.load32_splat(bias), c0));
}

/**
 * y[co, oy, ox] = b[co] + sum_{c,ky,kx} W[co, c, ky, kx] * x[c, oy + ky - pad, ox + kx - pad]
 * for one sample, stride 1, ow >= 4 (the caller checks). xp is scratch for the zero-padded
 * input when pad > 0 (cin * (h + 2pad) * (w + 2pad) floats). Columns run in tiles of 8; the last
 * tile is moved left to end at ow (it recomputes a few columns with the same bits) so no scalar
 * tail is needed.
 */
export function convForward(cin: i32, h: i32, w: i32, cout: i32, k: i32, pad: i32, oh: i32, ow: i32,
  x: usize, wt: usize, bias: usize, y: usize, xp: usize): void {
  if (pad > 0) padInput(cin, h, w, pad, x, xp);
  else xp = x;
  const wp = w + 2 * pad;
  const hp = h + 2 * pad;
  const wp4 = <usize>wp << 2;
  const hpwp4 = <usize>(hp * wp) << 2;
  const qb = <usize>(cin * k * k) << 2;
  const pb4 = <usize>(oh * ow) << 2;
  let co = 0;
  // Groups of 4 (conv2's 16 = 4x4), but 6 left = 3 + 3 (conv1) rather than 4 + 1 + 1; then 3s.
  for (; co + 4 <= cout && cout - co != 6; co += 4) {
    const pa = wt + <usize>co * qb;
    const bb = bias + (<usize>co << 2);
    const yc = y + <usize>co * pb4;
    for (let oy = 0; oy < oh; oy++) {
      const row = xp + <usize>oy * wp4;
      const yr = yc + (<usize>(oy * ow) << 2);
      let ox = 0;
      for (; ox + 8 <= ow; ox += 8) convTile4x8(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
      if (ow - ox == 2 && ow >= 8 && (oy & 1) == 1) {
        // Done by the row above's 2x2 tile.
      } else if (ow - ox == 2 && ow >= 8 && oy + 1 < oh) {
        convTile4x2x2(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4, <usize>ow << 2);
      } else if (ox < ow) {
        if (ow >= 8 && ow - ox > 4) {
          ox = ow - 8;
          convTile4x8(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
        } else {
          if (ow - ox > 4) convTile4x4(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
          ox = ow - 4;
          convTile4x4(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
        }
      }
    }
  }
  for (; co + 3 <= cout; co += 3) {
    const pa = wt + <usize>co * qb;
    const bb = bias + (<usize>co << 2);
    const yc = y + <usize>co * pb4;
    for (let oy = 0; oy < oh; oy++) {
      const row = xp + <usize>oy * wp4;
      const yr = yc + (<usize>(oy * ow) << 2);
      let ox = 0;
      for (; ox + 8 <= ow; ox += 8) convTile3x8(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
      if (ox < ow) {
        if (ow >= 8 && ow - ox > 4) {
          ox = ow - 8;
          convTile3x8(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
        } else {
          if (ow - ox > 4) convTile3x4(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
          ox = ow - 4;
          convTile3x4(cin, k, hpwp4, wp4, pa, qb, row + (<usize>ox << 2), bb, yr + (<usize>ox << 2), pb4);
        }
      }
    }
  }
  for (; co < cout; co++) {
    const pa = wt + <usize>co * qb;
    const bb = bias + (<usize>co << 2);
    const yc = y + <usize>co * pb4;
    for (let oy = 0; oy < oh; oy++) {
      const row = xp + <usize>oy * wp4;
      const yr = yc + (<usize>(oy * ow) << 2);
      for (let ox = 0; ox < ow; ox += 4) {
        const o = ox + 4 <= ow ? ox : ow - 4;
        convTile1x4(cin, k, hpwp4, wp4, pa, row + (<usize>o << 2), bb, yr + (<usize>o << 2));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Filter gradient without a patch matrix (training, stride 1, ow % 4 == 0; rows of 4m + 2 in
// pairs further below): the im2col dW GEMM
//   dW[co, q] += sum_p dy[co, p] * col[q, p]
// (gemmVecK: dot products vectorised over p) with col row q = (c, ky, kx) read from the
// zero-padded input: col[q, p..p+3] = xp[c, oy + ky, ox + kx ..+4] when ow % 4 == 0 (a 4-block of
// p never crosses an output row). Each element gets the same vector partial sums in the same p
// order, the same hsum and the same final add into dW as the GEMM, so the bits are equal, while
// the 25x-larger patch matrix is neither written in forward nor streamed from L2 here.

/** Byte offset of col row q = (c, ky, kx) in the padded input xp[c, hp, wp]. */
// @ts-ignore: decorator
@inline function colRowOffset(q: i32, k: i32, hp: i32, wp: i32): usize {
  const kk = k * k;
  const c = q / kk;
  const r = q - c * kk;
  const ky = r / k;
  return <usize>((c * hp + ky) * wp + r - ky * k) << 2;
}

/**
 * Two output channels' dy rows (at d0, d0 + P4) dotted with four col rows (at x0..x3 in xp): the
 * GEMM's 2x4 dot-product tile, reduced with hsum4 into one vector of four dW entries each. 8
 * accumulators, 2 dy vectors, an input vector and a temporary stay in the 15 xmm registers V8
 * allocates (6x2 and 3x3 tiles spilled accumulators to the stack). Loops over output rows, 4
 * columns per step; lanes hold p mod 4 as in the GEMM.
 */
function filterTile2x4(d0: usize, P4: usize, x0: usize, x1: usize, x2: usize, x3: usize, oh: i32, ow4: usize, wp4: usize,
  p: usize, Q4: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  // The input pointers advance row by row (loop-carried): when the tile was inlined with
  // computed offsets, binaryen sank that computation into the row loop.
  let pd = d0;
  for (let oy = 0; oy < oh; oy++) {
    for (let o: usize = 0; o < ow4; o += 16) {
      const a0 = v128.load(pd + o);
      const a1 = v128.load(pd + P4 + o);
      let bv = v128.load(x0 + o);
      c00 = madd(a0, bv, c00); c10 = madd(a1, bv, c10);
      bv = v128.load(x1 + o);
      c01 = madd(a0, bv, c01); c11 = madd(a1, bv, c11);
      bv = v128.load(x2 + o);
      c02 = madd(a0, bv, c02); c12 = madd(a1, bv, c12);
      bv = v128.load(x3 + o);
      c03 = madd(a0, bv, c03); c13 = madd(a1, bv, c13);
    }
    pd += ow4;
    x0 += wp4;
    x1 += wp4;
    x2 += wp4;
    x3 += wp4;
  }
  stv(p, hsum4(c00, c01, c02, c03), 1);
  stv(p + Q4, hsum4(c10, c11, c12, c13), 1);
}

/**
 * Six output channels (dy rows at d0 + i*P4) dotted with one col row (at x0): for the patch
 * rows left over by the 2x4 tiles, six independent chains instead of one latency-bound chain.
 */
function filterTile6x1(d0: usize, P4: usize, x0: usize, oh: i32, ow4: usize, wp4: usize, p: usize, Q4: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0);
  let c3 = f32x4.splat(0), c4 = f32x4.splat(0), c5 = f32x4.splat(0);
  let pd = d0;
  for (let oy = 0; oy < oh; oy++) {
    for (let o: usize = 0; o < ow4; o += 16) {
      const bv = v128.load(x0 + o);
      const a = pd + o;
      c0 = madd(v128.load(a), bv, c0);
      c1 = madd(v128.load(a + P4), bv, c1);
      c2 = madd(v128.load(a + 2 * P4), bv, c2);
      c3 = madd(v128.load(a + 3 * P4), bv, c3);
      c4 = madd(v128.load(a + 4 * P4), bv, c4);
      c5 = madd(v128.load(a + 5 * P4), bv, c5);
    }
    pd += ow4;
    x0 += wp4;
  }
  st(p, hsum(c0), 1); st(p + Q4, hsum(c1), 1); st(p + 2 * Q4, hsum(c2), 1);
  st(p + 3 * Q4, hsum(c3), 1); st(p + 4 * Q4, hsum(c4), 1); st(p + 5 * Q4, hsum(c5), 1);
}

/** One output channel's dy row (at pd) dotted with one col row (at px in xp), stored with acc. */
function filterDot(pd: usize, px: usize, oh: i32, ow4: usize, wp4: usize, p: usize): void {
  let v = f32x4.splat(0);
  for (let oy = 0; oy < oh; oy++) {
    for (let o: usize = 0; o < ow4; o += 16) v = madd(v128.load(pd + o), v128.load(px + o), v);
    pd += ow4;
    px += wp4;
  }
  st(p, hsum(v), 1);
}

// Rows of ow = 4m + 2 (conv2's 10) in pairs: a 4-block of p then crosses a row once per row
// pair. Per pair A, B: m blocks of row A, one block of A's last 2 and B's first 2 columns (two
// 64-bit loads, straddle()), m blocks of row B from column 2. Same lanes (p mod 4) and order as
// the GEMM, so the same bits. m4 = 16m bytes, the full blocks of a row.

/** Input lanes of the block straddling rows A (at x) and B: A's columns 4m, 4m + 1, B's 0, 1. */
// @ts-ignore: decorator
@inline function straddle(x: usize, m4: usize, wp4: usize): v128 {
  return v128.load64_lane(x + wp4, v128.load64_zero(x + m4), 1);
}

/** filterTile2x4 for rows of 4m + 2 in pairs (oh even). */
function filterTile2x4Pairs(d0: usize, P4: usize, x0: usize, x1: usize, x2: usize, x3: usize, oh: i32, ow4: usize, wp4: usize,
  p: usize, Q4: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  const m4 = ow4 - 8;
  let pd = d0;
  for (let oy = 0; oy < oh; oy += 2) {
    for (let o: usize = 0; o < m4; o += 16) {
      const a0 = v128.load(pd);
      const a1 = v128.load(pd + P4);
      let bv = v128.load(x0 + o);
      c00 = madd(a0, bv, c00); c10 = madd(a1, bv, c10);
      bv = v128.load(x1 + o);
      c01 = madd(a0, bv, c01); c11 = madd(a1, bv, c11);
      bv = v128.load(x2 + o);
      c02 = madd(a0, bv, c02); c12 = madd(a1, bv, c12);
      bv = v128.load(x3 + o);
      c03 = madd(a0, bv, c03); c13 = madd(a1, bv, c13);
      pd += 16;
    }
    {
      const a0 = v128.load(pd);
      const a1 = v128.load(pd + P4);
      let bv = straddle(x0, m4, wp4);
      c00 = madd(a0, bv, c00); c10 = madd(a1, bv, c10);
      bv = straddle(x1, m4, wp4);
      c01 = madd(a0, bv, c01); c11 = madd(a1, bv, c11);
      bv = straddle(x2, m4, wp4);
      c02 = madd(a0, bv, c02); c12 = madd(a1, bv, c12);
      bv = straddle(x3, m4, wp4);
      c03 = madd(a0, bv, c03); c13 = madd(a1, bv, c13);
      pd += 16;
    }
    x0 += wp4;
    x1 += wp4;
    x2 += wp4;
    x3 += wp4;
    for (let o: usize = 8; o < ow4; o += 16) {
      const a0 = v128.load(pd);
      const a1 = v128.load(pd + P4);
      let bv = v128.load(x0 + o);
      c00 = madd(a0, bv, c00); c10 = madd(a1, bv, c10);
      bv = v128.load(x1 + o);
      c01 = madd(a0, bv, c01); c11 = madd(a1, bv, c11);
      bv = v128.load(x2 + o);
      c02 = madd(a0, bv, c02); c12 = madd(a1, bv, c12);
      bv = v128.load(x3 + o);
      c03 = madd(a0, bv, c03); c13 = madd(a1, bv, c13);
      pd += 16;
    }
    x0 += wp4;
    x1 += wp4;
    x2 += wp4;
    x3 += wp4;
  }
  stv(p, hsum4(c00, c01, c02, c03), 1);
  stv(p + Q4, hsum4(c10, c11, c12, c13), 1);
}

/**
 * Four output channels' dy rows (at d0 + i*P4) dotted with one col row, rows of 4m + 2 in pairs:
 * the patch rows left over by the 2x4 tiles, four independent chains instead of one.
 */
function filterTile4x1Pairs(d0: usize, P4: usize, x0: usize, oh: i32, ow4: usize, wp4: usize, p: usize, Q4: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const m4 = ow4 - 8;
  let pd = d0;
  for (let oy = 0; oy < oh; oy += 2) {
    for (let o: usize = 0; o < m4; o += 16) {
      const bv = v128.load(x0 + o);
      c0 = madd(v128.load(pd), bv, c0);
      c1 = madd(v128.load(pd + P4), bv, c1);
      c2 = madd(v128.load(pd + 2 * P4), bv, c2);
      c3 = madd(v128.load(pd + 3 * P4), bv, c3);
      pd += 16;
    }
    const sv = straddle(x0, m4, wp4);
    c0 = madd(v128.load(pd), sv, c0);
    c1 = madd(v128.load(pd + P4), sv, c1);
    c2 = madd(v128.load(pd + 2 * P4), sv, c2);
    c3 = madd(v128.load(pd + 3 * P4), sv, c3);
    pd += 16;
    x0 += wp4;
    for (let o: usize = 8; o < ow4; o += 16) {
      const bv = v128.load(x0 + o);
      c0 = madd(v128.load(pd), bv, c0);
      c1 = madd(v128.load(pd + P4), bv, c1);
      c2 = madd(v128.load(pd + 2 * P4), bv, c2);
      c3 = madd(v128.load(pd + 3 * P4), bv, c3);
      pd += 16;
    }
    x0 += wp4;
  }
  st(p, hsum(c0), 1); st(p + Q4, hsum(c1), 1); st(p + 2 * Q4, hsum(c2), 1); st(p + 3 * Q4, hsum(c3), 1);
}

/** One output channel's dy row dotted with one col row, rows of 4m + 2 in pairs. */
function filterDotPairs(pd: usize, x0: usize, oh: i32, ow4: usize, wp4: usize, p: usize): void {
  let v = f32x4.splat(0);
  const m4 = ow4 - 8;
  for (let oy = 0; oy < oh; oy += 2) {
    for (let o: usize = 0; o <= m4; o += 16) {
      v = madd(v128.load(pd), o == m4 ? straddle(x0, m4, wp4) : v128.load(x0 + o), v);
      pd += 16;
    }
    x0 += wp4;
    for (let o: usize = 8; o < ow4; o += 16) {
      v = madd(v128.load(pd), v128.load(x0 + o), v);
      pd += 16;
    }
    x0 += wp4;
  }
  st(p, hsum(v), 1);
}

/**
 * dw[co, q] += sum_p dy[co, p] * col[q, p] for one sample (q = (c*k + ky)*k + kx), col implicit
 * (see above). Stride 1, and ow % 4 == 0, or ow % 4 == 2 with oh even (the caller checks:
 * directFilterApplies). xp is scratch for the zero-padded input when pad > 0.
 */
export function convFilterGrad(cin: i32, h: i32, w: i32, cout: i32, k: i32, pad: i32, oh: i32, ow: i32,
  x: usize, dy: usize, dw: usize, xp: usize): void {
  if (pad > 0) padInput(cin, h, w, pad, x, xp);
  else xp = x;
  const wp = w + 2 * pad;
  const hp = h + 2 * pad;
  const Q = cin * k * k;
  const P4 = <usize>(oh * ow) << 2;
  const Q4 = <usize>Q << 2;
  const wp4 = <usize>wp << 2;
  const ow4 = <usize>ow << 2;
  const Q4r = Q & ~3;
  const rowJump = wp4 - (<usize>k << 2);
  const chanJump = (<usize>(hp * wp) << 2) - <usize>k * wp4;
  let co = 0;
  if ((ow & 3) == 2) {
    // Rows of 4m + 2 in pairs (the caller guarantees an even oh).
    for (; co + 2 <= cout; co += 2) {
      const d0 = dy + <usize>co * P4;
      const rc = dw + <usize>co * Q4;
      // Offsets of consecutive col rows, stepped (kx, ky, c) without integer division.
      let kx = 0, ky = 0;
      let off: usize = 0;
      for (let q = 0; q < Q4r; q += 4) {
        const o0 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
        const o1 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
        const o2 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
        const o3 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
        filterTile2x4Pairs(d0, P4, xp + o0, xp + o1, xp + o2, xp + o3, oh, ow4, wp4, rc + (<usize>q << 2), Q4);
      }
    }
    // Patch rows left over (Q mod 4): four channels at a time, then one by one; then all patch
    // rows of an odd last channel.
    for (let q = Q4r; q < Q; q++) {
      const px = xp + colRowOffset(q, k, hp, wp);
      const rc = dw + (<usize>q << 2);
      let c = 0;
      for (; c + 4 <= co; c += 4) filterTile4x1Pairs(dy + <usize>c * P4, P4, px, oh, ow4, wp4, rc + <usize>c * Q4, Q4);
      for (; c < co; c++) filterDotPairs(dy + <usize>c * P4, px, oh, ow4, wp4, rc + <usize>c * Q4);
    }
    for (; co < cout; co++) {
      for (let q = 0; q < Q; q++) filterDotPairs(dy + <usize>co * P4, xp + colRowOffset(q, k, hp, wp), oh, ow4, wp4, dw + <usize>co * Q4 + (<usize>q << 2));
    }
    return;
  }
  for (; co + 2 <= cout; co += 2) {
    const d0 = dy + <usize>co * P4;
    const rc = dw + <usize>co * Q4;
    let kx = 0, ky = 0;
    let off: usize = 0;
    for (let q = 0; q < Q4r; q += 4) {
      const o0 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
      const o1 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
      const o2 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
      const o3 = off; kx++; off += 4; if (kx == k) { kx = 0; off += rowJump; ky++; if (ky == k) { ky = 0; off += chanJump; } }
      filterTile2x4(d0, P4, xp + o0, xp + o1, xp + o2, xp + o3, oh, ow4, wp4, rc + (<usize>q << 2), Q4);
    }
  }
  for (; co < cout; co++) {
    const d0 = dy + <usize>co * P4;
    const rc = dw + <usize>co * Q4;
    for (let q = 0; q < Q4r; q++) filterDot(d0, xp + colRowOffset(q, k, hp, wp), oh, ow4, wp4, rc + (<usize>q << 2));
  }
  // Patch rows left over (Q mod 4), all channels: six at a time, then one by one.
  for (let q = Q4r; q < Q; q++) {
    const px = xp + colRowOffset(q, k, hp, wp);
    const rc = dw + (<usize>q << 2);
    co = 0;
    for (; co + 6 <= cout; co += 6) filterTile6x1(dy + <usize>co * P4, P4, px, oh, ow4, wp4, rc + <usize>co * Q4, Q4);
    for (; co < cout; co++) filterDot(dy + <usize>co * P4, px, oh, ow4, wp4, rc + <usize>co * Q4);
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
            if (ox + 2 <= oxHi) {
              // Two floats in the low lanes (conv2's rows of 10 = 4 + 4 + 2); same adds.
              const a = row + (<usize>ox << 2);
              v128.store64_lane(a, f32x4.add(v128.load64_zero(a), v128.load64_zero(p + (<usize>ox << 2))), 0);
              ox += 2;
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
// n is rounded with the 1.5*2^23 trick (adding it leaves round(x*log2e) in the low mantissa
// bits), which is cheaper than f32x4.nearest + i32x4.trunc_sat (the latter is a long sequence
// on x64). The input is clamped to [-80, 80] so neither exp nor the callers' results become
// subnormal (subnormal arithmetic is ~100x slower on x86).
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  // pmin/pmax are single instructions on x64 (min/max with NaN propagation are not).
  x = f32x4.pmin(f32x4.splat(80.0), f32x4.pmax(f32x4.splat(-80.0), x));
  const magic = f32x4.splat(12582912.0);
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
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
  // bits(t) = 0x4B400000 + n; exponent field = n + 127.
  const e = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4B400000)), 23);
  return f32x4.mul(p, e);
}

// @ts-ignore: decorator
@inline function act4(fn: i32, v: v128): v128 {
  const one = f32x4.splat(1.0);
  if (fn == 0) return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(v))));
  if (fn == 1) return f32x4.pmax(f32x4.splat(0), v); // 0 < v ? v : 0, as the JS tier
  // tanh(v) = 1 - 2 / (1 + exp(2v))
  return f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(one, exp4(f32x4.add(v, v)))));
}

export function activationForward(fn: i32, len: i32, x: usize, y: usize): void {
  if (fn == 0) sigmoidLoop(len, x, y);
  else if (fn == 1) actLoop(1, len, x, y);
  else actLoop(2, len, x, y);
}

/**
 * Sigmoid, the same arithmetic as act4(0, .) but with the constants hoisted out of the loop:
 * V8 rematerialises a constant splat (several instructions) at every use inside a loop.
 */
function sigmoidLoop(len: i32, x: usize, y: usize): void {
  const lo = f32x4.splat(-80.0), hi = f32x4.splat(80.0);
  const magic = f32x4.splat(12582912.0), log2e = f32x4.splat(1.44269504088896341);
  const ln2hi = f32x4.splat(0.693359375), ln2lo = f32x4.splat(-2.12194440e-4);
  const p0 = f32x4.splat(1.9875691500e-4), p1 = f32x4.splat(1.3981999507e-3), p2 = f32x4.splat(8.3334519073e-3);
  const p3 = f32x4.splat(4.1665795894e-2), p4 = f32x4.splat(1.6666665459e-1), p5 = f32x4.splat(5.0000001201e-1);
  const one = f32x4.splat(1.0), bias = i32x4.splat(127 - 0x4B400000);
  let i = 0;
  // Two independent vectors per iteration: the exp chain is latency-bound, and V8 does not
  // overlap loop iterations on its own as far as needed. Same arithmetic per lane.
  for (; i + 8 <= len; i += 8) {
    const o = <usize>i << 2;
    const va = f32x4.neg(v128.load(x + o));
    const vb = f32x4.neg(v128.load(x + o, 16));
    const xa = f32x4.pmin(hi, f32x4.pmax(lo, va));
    const xb = f32x4.pmin(hi, f32x4.pmax(lo, vb));
    const ta = f32x4.add(f32x4.mul(xa, log2e), magic);
    const tb = f32x4.add(f32x4.mul(xb, log2e), magic);
    const na = f32x4.sub(ta, magic);
    const nb = f32x4.sub(tb, magic);
    let ra = f32x4.sub(xa, f32x4.mul(na, ln2hi));
    let rb = f32x4.sub(xb, f32x4.mul(nb, ln2hi));
    ra = f32x4.sub(ra, f32x4.mul(na, ln2lo));
    rb = f32x4.sub(rb, f32x4.mul(nb, ln2lo));
    let pa = f32x4.add(f32x4.mul(p0, ra), p1);
    let pb = f32x4.add(f32x4.mul(p0, rb), p1);
    pa = f32x4.add(f32x4.mul(pa, ra), p2);
    pb = f32x4.add(f32x4.mul(pb, rb), p2);
    pa = f32x4.add(f32x4.mul(pa, ra), p3);
    pb = f32x4.add(f32x4.mul(pb, rb), p3);
    pa = f32x4.add(f32x4.mul(pa, ra), p4);
    pb = f32x4.add(f32x4.mul(pb, rb), p4);
    pa = f32x4.add(f32x4.mul(pa, ra), p5);
    pb = f32x4.add(f32x4.mul(pb, rb), p5);
    pa = f32x4.add(f32x4.add(f32x4.mul(pa, f32x4.mul(ra, ra)), ra), one);
    pb = f32x4.add(f32x4.add(f32x4.mul(pb, f32x4.mul(rb, rb)), rb), one);
    const ea = f32x4.mul(pa, i32x4.shl(i32x4.add(ta, bias), 23));
    const eb = f32x4.mul(pb, i32x4.shl(i32x4.add(tb, bias), 23));
    v128.store(y + o, f32x4.div(one, f32x4.add(one, ea)));
    v128.store(y + o, f32x4.div(one, f32x4.add(one, eb)), 16);
  }
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const v = f32x4.neg(v128.load(x + o));
    const xx = f32x4.pmin(hi, f32x4.pmax(lo, v));
    const t = f32x4.add(f32x4.mul(xx, log2e), magic);
    const n = f32x4.sub(t, magic);
    let r = f32x4.sub(xx, f32x4.mul(n, ln2hi));
    r = f32x4.sub(r, f32x4.mul(n, ln2lo));
    let p = f32x4.add(f32x4.mul(p0, r), p1);
    p = f32x4.add(f32x4.mul(p, r), p2);
    p = f32x4.add(f32x4.mul(p, r), p3);
    p = f32x4.add(f32x4.mul(p, r), p4);
    p = f32x4.add(f32x4.mul(p, r), p5);
    p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), one);
    const e = f32x4.mul(p, i32x4.shl(i32x4.add(t, bias), 23));
    v128.store(y + o, f32x4.div(one, f32x4.add(one, e)));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(act4(0, f32x4.splat(load<f32>(x + o))), 0));
  }
}

// @ts-ignore: decorator
@inline function actLoop(fn: i32, len: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const o = <usize>i << 2;
    const a = act4(fn, v128.load(x + o));
    const b = act4(fn, v128.load(x + o, 16));
    v128.store(y + o, a);
    v128.store(y + o, b, 16);
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
  if (fn == 0) dactLoop(0, len, y, dy, dx);
  else if (fn == 1) dactLoop(1, len, y, dy, dx);
  else dactLoop(2, len, y, dy, dx);
}

// @ts-ignore: decorator
@inline function dactLoop(fn: i32, len: i32, y: usize, dy: usize, dx: usize): void {
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
  if (k == 2 && s == 2) {
    pool2x2Forward(mode, planes, h, w, oh, ow, x, y);
    return;
  }
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
  if (k == 2 && s == 2) {
    pool2x2Backward(mode, planes, h, w, oh, ow, x, dy, dx);
    return;
  }
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

// 2x2 windows, stride 2 (LeNet's pooling): four windows at a time. Two input rows of 8 floats
// are split into even and odd columns, so lane l of e0/o0/e1/o1 holds the window's
// (0,0)/(0,1)/(1,0)/(1,1) element. Max uses pmax (m < v ? v : m), which keeps the first maximum
// in scan order like the JS tier; avg sums in float32 (the JS tier in float64).

// @ts-ignore: decorator
@inline function evens(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}
// @ts-ignore: decorator
@inline function odds(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}

function pool2x2Forward(mode: i32, planes: i32, h: i32, w: i32, oh: i32, ow: i32, x: usize, y: usize): void {
  const w4 = <usize>w << 2;
  const quarter = f32x4.splat(0.25);
  let py = y;
  for (let pl = 0; pl < planes; pl++) {
    const xp = x + <usize>(pl * h * w) * 4;
    for (let oy = 0; oy < oh; oy++) {
      const r0 = xp + <usize>(2 * oy) * w4;
      const r1 = r0 + w4;
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        const o = <usize>ox << 3;
        const a0 = v128.load(r0 + o), a1 = v128.load(r0 + o, 16);
        const b0 = v128.load(r1 + o), b1 = v128.load(r1 + o, 16);
        const e0 = evens(a0, a1), o0 = odds(a0, a1), e1 = evens(b0, b1), o1 = odds(b0, b1);
        let v: v128;
        if (mode == 1) v = f32x4.pmax(f32x4.pmax(f32x4.pmax(e0, o0), e1), o1);
        else v = f32x4.mul(f32x4.add(f32x4.add(f32x4.add(e0, o0), e1), o1), quarter);
        v128.store(py, v);
        py += 16;
      }
      for (; ox < ow; ox++) {
        const o = <usize>ox << 3;
        const a = load<f32>(r0 + o), b = load<f32>(r0 + o, 4), c = load<f32>(r1 + o), d = load<f32>(r1 + o, 4);
        let v: f32;
        if (mode == 1) {
          v = a;
          if (b > v) v = b;
          if (c > v) v = c;
          if (d > v) v = d;
        } else {
          v = (((a + b) + c) + d) * <f32>0.25;
        }
        store<f32>(py, v);
        py += 4;
      }
    }
  }
}

/** dx must be zeroed (rows/columns outside the windows keep 0). */
function pool2x2Backward(mode: i32, planes: i32, h: i32, w: i32, oh: i32, ow: i32, x: usize, dy: usize, dx: usize): void {
  const w4 = <usize>w << 2;
  const quarter = f32x4.splat(0.25);
  let pd = dy;
  for (let pl = 0; pl < planes; pl++) {
    const off = <usize>(pl * h * w) * 4;
    for (let oy = 0; oy < oh; oy++) {
      const ro = off + <usize>(2 * oy) * w4;
      const x0 = x + ro, x1 = x0 + w4;
      const d0 = dx + ro, d1 = d0 + w4;
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        const o = <usize>ox << 3;
        const g = v128.load(pd);
        pd += 16;
        if (mode == 1) {
          const a0 = v128.load(x0 + o), a1 = v128.load(x0 + o, 16);
          const b0 = v128.load(x1 + o), b1 = v128.load(x1 + o, 16);
          const e0 = evens(a0, a1), o0 = odds(a0, a1), e1 = evens(b0, b1), o1 = odds(b0, b1);
          // Winner = the first maximum in scan order (strict > against the running max).
          const g1 = f32x4.gt(o0, e0);
          let m = v128.bitselect(o0, e0, g1);
          const g2 = f32x4.gt(e1, m);
          m = v128.bitselect(e1, m, g2);
          const g3 = f32x4.gt(o1, m);
          const w3 = g3;
          const w2 = v128.andnot(g2, g3);
          const w1 = v128.andnot(v128.andnot(g1, g2), g3);
          const w0 = v128.not(v128.or(v128.or(g1, g2), g3));
          const q0 = v128.and(g, w0), q1 = v128.and(g, w1), q2 = v128.and(g, w2), q3 = v128.and(g, w3);
          v128.store(d0 + o, v128.shuffle<f32>(q0, q1, 0, 4, 1, 5));
          v128.store(d0 + o, v128.shuffle<f32>(q0, q1, 2, 6, 3, 7), 16);
          v128.store(d1 + o, v128.shuffle<f32>(q2, q3, 0, 4, 1, 5));
          v128.store(d1 + o, v128.shuffle<f32>(q2, q3, 2, 6, 3, 7), 16);
        } else {
          const v = f32x4.mul(g, quarter);
          const lo = v128.shuffle<f32>(v, v, 0, 0, 1, 1);
          const hi = v128.shuffle<f32>(v, v, 2, 2, 3, 3);
          v128.store(d0 + o, lo);
          v128.store(d0 + o, hi, 16);
          v128.store(d1 + o, lo);
          v128.store(d1 + o, hi, 16);
        }
      }
      for (; ox < ow; ox++) {
        const o = <usize>ox << 3;
        const g = load<f32>(pd);
        pd += 4;
        if (mode == 1) {
          let best = x0 + o;
          let m = load<f32>(best);
          if (load<f32>(x0 + o, 4) > m) { best = x0 + o + 4; m = load<f32>(best); }
          if (load<f32>(x1 + o) > m) { best = x1 + o; m = load<f32>(best); }
          if (load<f32>(x1 + o, 4) > m) { best = x1 + o + 4; }
          store<f32>(dx + (best - x), g);
        } else {
          const v = g * <f32>0.25;
          store<f32>(d0 + o, v); store<f32>(d0 + o, v, 4);
          store<f32>(d1 + o, v); store<f32>(d1 + o, v, 4);
        }
      }
    }
  }
}

/** out[i] += sum_j a[i*N + j] for i < M (bias gradients). */
export function sumRows(M: i32, N: i32, a: usize, out: usize): void {
  const N4 = N & ~3;
  for (let i = 0; i < M; i++) {
    const r = a + (<usize>(i * N) << 2);
    let v0 = f32x4.splat(0), v1 = f32x4.splat(0);
    let j = 0;
    for (; j + 8 <= N4; j += 8) {
      v0 = f32x4.add(v0, v128.load(r + (<usize>j << 2)));
      v1 = f32x4.add(v1, v128.load(r + (<usize>j << 2), 16));
    }
    for (; j < N4; j += 4) v0 = f32x4.add(v0, v128.load(r + (<usize>j << 2)));
    let s = hsum(f32x4.add(v0, v1));
    for (; j < N; j++) s += load<f32>(r + (<usize>j << 2));
    const o = out + (<usize>i << 2);
    store<f32>(o, load<f32>(o) + s);
  }
}

/** y[i*N + j] = b[i] for i < M, j < N (bias initialisation before an accumulating GEMM). */
export function fillRows(M: i32, N: i32, b: usize, y: usize): void {
  let p = y;
  for (let i = 0; i < M; i++) {
    const v = v128.load32_splat(b + (<usize>i << 2));
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      v128.store(p, v);
      p += 16;
    }
    const s = f32x4.extract_lane(v, 0);
    for (; j < N; j++) {
      store<f32>(p, s);
      p += 4;
    }
  }
}

/**
 * Machine-peak probe (not used by training): `iters` rounds of acc = acc * m + c on 12
 * independent f32x4 accumulators held in registers — enough independent chains to keep both
 * SIMD pipes busy through the mul and add latencies, few enough (12 + 2 constants) to fit the
 * 16 xmm registers engines use on x64. WebAssembly SIMD has no FMA, so each lane of each round
 * is 2 flops: 96 flops per round. Writes the accumulators' sum to `out` so the work stays.
 */
export function simdPeak(iters: i32, out: usize): void {
  const m = f32x4.splat(0.9999);
  const c = f32x4.splat(0.0001);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  let a8 = f32x4.splat(0.9), a9 = f32x4.splat(1.0), a10 = f32x4.splat(1.1), a11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, m, c);
    a1 = madd(a1, m, c);
    a2 = madd(a2, m, c);
    a3 = madd(a3, m, c);
    a4 = madd(a4, m, c);
    a5 = madd(a5, m, c);
    a6 = madd(a6, m, c);
    a7 = madd(a7, m, c);
    a8 = madd(a8, m, c);
    a9 = madd(a9, m, c);
    a10 = madd(a10, m, c);
    a11 = madd(a11, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)), f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))));
  store<f32>(out, hsum(s));
}

/** Which tier this module was built as: 1 = relaxed SIMD (madd fused), 0 = SIMD128 (mul + add). */
export function kernelTier(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
