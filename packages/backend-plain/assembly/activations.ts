// Activations. fn: 0 sigmoid, 1 relu, 2 tanh.

// exp for 4 lanes: x = n*ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial (Cephes expf
// coefficients), times 2^n built in the exponent bits. Relative error ~1e-7 over the clamped range.
// n is rounded with the 1.5*2^23 trick (adding it leaves round(x*log2e) in the low mantissa
// bits), which is cheaper than f32x4.nearest + i32x4.trunc_sat (the latter is a long sequence
// on x64). The input is clamped to [-80, 80] so neither exp nor the callers' results become
// subnormal (subnormal arithmetic is ~100x slower on x86).
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
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
@inline export function act4(fn: i32, v: v128): v128 {
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
export function sigmoidLoop(len: i32, x: usize, y: usize): void {
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
@inline export function actLoop(fn: i32, len: i32, x: usize, y: usize): void {
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
@inline export function dact4(fn: i32, y: v128, dy: v128): v128 {
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
@inline export function dactLoop(fn: i32, len: i32, y: usize, dy: usize, dx: usize): void {
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
