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
@inline export function evens(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}
// @ts-ignore: decorator
@inline export function odds(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}

export function pool2x2Forward(mode: i32, planes: i32, h: i32, w: i32, oh: i32, ow: i32, x: usize, y: usize): void {
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
export function pool2x2Backward(mode: i32, planes: i32, h: i32, w: i32, oh: i32, ow: i32, x: usize, dy: usize, dx: usize): void {
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
