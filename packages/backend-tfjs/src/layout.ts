/**
 * Conversions between the canonical (PyTorch/ONNX) layouts every package speaks and the
 * layouts TF.js kernels use. Pure functions on typed arrays, no TF.js involved.
 *
 * - conv weight: canonical OIHW [out, in, kH, kW]  <->  TF HWIO [kH, kW, in, out]
 * - dense weight: canonical [out, in]  <->  TF [in, out]
 * - images: canonical NCHW, TF NHWC: the same bytes when C = 1, else transposed on the device
 * - flatten: canonical flattening of a [C, H, W] activation is C-major (PyTorch), TF flattens
 *   NHWC activations H-major with C fastest. Instead of transposing activations before every
 *   dense layer that follows a flatten, the dense weight's input rows are permuted once at the
 *   boundary: TF row (h*W + w)*C + c holds canonical column c*H*W + h*W + w.
 */

/** OIHW -> HWIO. */
export function oihwToHwio(src: Float32Array, [o, i, kh, kw]: readonly number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          dst[((y * kw + x) * i + b) * o + a] = src[((a * i + b) * kh + y) * kw + x];
        }
      }
    }
  }
  return dst;
}

/** HWIO -> OIHW; `shape` is the canonical OIHW shape. */
export function hwioToOihw(src: Float32Array, [o, i, kh, kw]: readonly number[]): Float32Array {
  const dst = new Float32Array(src.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          dst[((a * i + b) * kh + y) * kw + x] = src[((y * kw + x) * i + b) * o + a];
        }
      }
    }
  }
  return dst;
}

/**
 * Maps TF (NHWC-flattened) feature index -> canonical (NCHW-flattened) feature index for an
 * activation of shape [C, H, W]. Identity when C = 1 or H = W = 1.
 */
export function hwcToChwIndex([c, h, w]: readonly number[]): Int32Array {
  const map = new Int32Array(c * h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) map[(y * w + x) * c + k] = k * h * w + y * w + x;
    }
  }
  return map;
}

/**
 * Canonical dense weight [out, in] -> TF [in, out]. With `flattenedFrom` = [C, H, W] of the
 * activation flattened into this layer, the input rows are reordered to TF's NHWC flattening.
 */
export function denseToTf(
  src: Float32Array,
  [out, inF]: readonly number[],
  flattenedFrom?: readonly number[],
): Float32Array {
  const map = flattenedFrom === undefined ? undefined : hwcToChwIndex(flattenedFrom);
  if (map !== undefined && map.length !== inF) {
    throw new Error(`dense layer has ${inF} inputs but the flattened activation [${flattenedFrom!.join(', ')}] has ${map.length}`);
  }
  const dst = new Float32Array(src.length);
  for (let r = 0; r < inF; r++) {
    const canonical = map === undefined ? r : map[r];
    for (let o = 0; o < out; o++) dst[r * out + o] = src[o * inF + canonical];
  }
  return dst;
}

/** TF dense weight [in, out] -> canonical [out, in]; inverse of denseToTf. */
export function denseFromTf(
  src: Float32Array,
  [out, inF]: readonly number[],
  flattenedFrom?: readonly number[],
): Float32Array {
  const map = flattenedFrom === undefined ? undefined : hwcToChwIndex(flattenedFrom);
  if (map !== undefined && map.length !== inF) {
    throw new Error(`dense layer has ${inF} inputs but the flattened activation [${flattenedFrom!.join(', ')}] has ${map.length}`);
  }
  const dst = new Float32Array(src.length);
  for (let r = 0; r < inF; r++) {
    const canonical = map === undefined ? r : map[r];
    for (let o = 0; o < out; o++) dst[o * inF + canonical] = src[r * out + o];
  }
  return dst;
}
