// Filter gradient without a patch matrix (training, stride 1, ow % 4 == 0; rows of 4m + 2 in
// pairs further below): the im2col dW GEMM
//   dW[co, q] += sum_p dy[co, p] * col[q, p]
// (gemmVecK: dot products vectorised over p) with col row q = (c, ky, kx) read from the
// zero-padded input: col[q, p..p+3] = xp[c, oy + ky, ox + kx ..+4] when ow % 4 == 0 (a 4-block of
// p never crosses an output row). Each element gets the same vector partial sums in the same p
// order, the same hsum and the same final add into dW as the GEMM, so the bits are equal, while
// the 25x-larger patch matrix is neither written in forward nor streamed from L2 here.
import { hsum, madd, st, stv } from './simd';
import { hsum4 } from './gemm';
import { rangeHi, rangeLo } from './im2col';
import { padInput } from './conv-direct';

/** Byte offset of col row q = (c, ky, kx) in the padded input xp[c, hp, wp]. */
// @ts-ignore: decorator
@inline export function colRowOffset(q: i32, k: i32, hp: i32, wp: i32): usize {
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
export function filterTile2x4(d0: usize, P4: usize, x0: usize, x1: usize, x2: usize, x3: usize, oh: i32, ow4: usize, wp4: usize,
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
export function filterTile6x1(d0: usize, P4: usize, x0: usize, oh: i32, ow4: usize, wp4: usize, p: usize, Q4: usize): void {
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
export function filterDot(pd: usize, px: usize, oh: i32, ow4: usize, wp4: usize, p: usize): void {
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
@inline export function straddle(x: usize, m4: usize, wp4: usize): v128 {
  return v128.load64_lane(x + wp4, v128.load64_zero(x + m4), 1);
}

/** filterTile2x4 for rows of 4m + 2 in pairs (oh even). */
export function filterTile2x4Pairs(d0: usize, P4: usize, x0: usize, x1: usize, x2: usize, x3: usize, oh: i32, ow4: usize, wp4: usize,
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
export function filterTile4x1Pairs(d0: usize, P4: usize, x0: usize, oh: i32, ow4: usize, wp4: usize, p: usize, Q4: usize): void {
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
export function filterDotPairs(pd: usize, x0: usize, oh: i32, ow4: usize, wp4: usize, p: usize): void {
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
