// Direct convolution for inference (stride 1): the im2col GEMM with the patch matrix left
// implicit. B row q = (c, ky, kx) of an 8-column tile at output (oy, ox) is the contiguous input
// run xp[c, oy + ky, ox + kx ..+8], so the tile reads the (zero-padded) input directly instead
// of a 25x-larger patch matrix written and read back per sample. Each output is
// bias + (the same float32 sum over q in the same order as the GEMM, padding zeros included),
// so the result has the same bits as im2col + fillRows + gemm.
import { madd } from './simd';
import { copyRow, zeroRow } from './im2col';

/** Copies x[cin, h, w] into xp[cin, h + 2pad, w + 2pad] with a zero border. */
export function padInput(cin: i32, h: i32, w: i32, pad: i32, x: usize, xp: usize): void {
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
@inline export function convTile3x8(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
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
@inline export function convTile3x4(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
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
@inline export function convTile4x8(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
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
@inline export function convTile4x2x2(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
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
@inline export function convTile4x4(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, qb: usize, pb: usize,
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
@inline export function convTile1x4(cin: i32, k: i32, hpwp4: usize, wp4: usize, pa: usize, pb: usize, bias: usize, py: usize): void {
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
