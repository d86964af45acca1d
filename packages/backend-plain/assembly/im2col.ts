// Patch matrices (im2col / col2im), same layout as src/layers/conv2d.ts:
//   col[q, p], q = (c*k + ky)*k + kx, p = oy*ow + ox.

// @ts-ignore: decorator
@inline export function rangeLo(t: i32, stride: i32, pad: i32): i32 {
  // smallest o >= 0 with o*stride - pad + t >= 0
  const d = pad - t;
  if (d <= 0) return 0;
  if (stride == 1) return d; // no integer division in the common case
  return (d + stride - 1) / stride;
}

// @ts-ignore: decorator
@inline export function rangeHi(t: i32, size: i32, out: i32, stride: i32, pad: i32): i32 {
  // one past the largest o with o*stride - pad + t <= size - 1
  const d = size - 1 + pad - t;
  if (d < 0) return 0;
  const h = (stride == 1 ? d : d / stride) + 1;
  return h < out ? h : out;
}

// Short row copies/fills inline: memory.copy/fill are calls into the runtime, which dominate
// for LeNet's 10- to 28-float rows.
// @ts-ignore: decorator
@inline export function copyRow(dst: usize, src: usize, n: i32): void {
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
@inline export function zeroRow(dst: usize, n: i32): void {
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
