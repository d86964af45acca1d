// Bias sums and fills around the GEMMs.
import { hsum } from './simd';

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
