/**
 * Convolution gradients written as ordinary forward convolutions, built from kernels every
 * TF.js backend has (Transpose, Reverse, Slice, Conv2D). Kernel-level code: it receives and
 * returns TensorInfo and frees its intermediates through the backend, exactly like a kernel
 * shipped with the backend, so it can be registered under the official kernel name.
 *
 * Why: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (tensorflow/tfjs#8474), so
 * nothing can train a conv net on WASM; and its Conv2DBackpropInput and tfjs-backend-cpu's
 * Conv2DBackpropFilter are naive loops, many times slower than the same multiply-adds done by
 * the backend's Conv2D (XNNPACK on wasm).
 *
 * Filter gradient (NHWC x, dy; HWIO filter; forward stride s, padding top/left p):
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} xpad[n, oh*s+kh, ow*s+kw, ci] * dy[n, oh, ow, co]
 * which is a stride-1 convolution of x' = transpose(x, [3,1,2,0]) ([Cin,H,W,N]: channels
 * become the batch, the batch becomes the channels) with the filter
 * dy' = transpose(dy, [1,2,0,3]) ([Ho,Wo,N,Cout]) dilated by s, padded like the forward pass.
 * The result is [Cin, kH', kW', Cout] (kH' >= kH when the forward pass left rows unused; those
 * are sliced off), transposed back to [kH, kW, Cin, Cout].
 *
 * Input gradient (stride 1 only):
 *   dx = conv2d(dy, transpose(reverse(W, [0,1]), [0,1,3,2]), pad = k-1-p on each side).
 */
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

/** Kernel names under which the composites are registered for direct use by the training step. */
export const CONV2D_BACKPROP_FILTER_VIA_CONV2D = 'LenetConv2DBackpropFilterViaConv2D';
export const CONV2D_BACKPROP_INPUT_VIA_CONV2D = 'LenetConv2DBackpropInputViaConv2D';

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** Runs another kernel of the same backend; fails loudly by name when it is missing. */
function call(
  backendName: string,
  kernelName: string,
  backend: object,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const config = getKernel(kernelName, backendName);
  if (config === undefined) {
    throw new Error(
      `Conv gradient via Conv2D needs kernel '${kernelName}' on backend '${backendName}', which is not registered`,
    );
  }
  const out = config.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`kernel '${kernelName}' returned several outputs, expected one`);
  return out;
}

/** Frees an intermediate result (kernel functions receive the backend typed as `{}`). */
function free(backend: object, info: TensorInfo): void {
  (backend as KernelBackend).disposeData(info.dataId);
}

function checkNhwc(kernel: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') {
    throw new Error(`${kernel} via Conv2D supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
}

/** dW for a 2-D convolution, as a Conv2D of the transposed input with the transposed dy. */
export function conv2DBackpropFilterViaConv2D(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    checkNhwc('Conv2DBackpropFilter', dataFormat);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const { filterHeight: kH, filterWidth: kW, strideHeight: sH, strideWidth: sW, inHeight: H, inWidth: W } = info;
    const [Ho, Wo] = [dy.shape[1], dy.shape[2]];
    const { top, left } = info.padInfo;
    // Rows/columns the forward pass read below/right of the input; never negative (unused
    // trailing input rows simply produce extra output rows, sliced off below).
    const bottom = Math.max(0, (Ho - 1) * sH + kH - H - top);
    const right = Math.max(0, (Wo - 1) * sW + kW - W - left);

    const xT = call(backendName, 'Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
    const dyT = call(backendName, 'Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
    const conv = call(
      backendName,
      'Conv2D',
      backend,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]] as ExplicitPad,
        dilations: [sH, sW],
        dataFormat: 'NHWC',
      } as unknown as NamedAttrMap,
    );
    free(backend, xT);
    free(backend, dyT);
    let cropped = conv;
    if (conv.shape[1] !== kH || conv.shape[2] !== kW) {
      cropped = call(backendName, 'Slice', backend, { x: conv }, {
        begin: [0, 0, 0, 0],
        size: [conv.shape[0], kH, kW, conv.shape[3]],
      });
      free(backend, conv);
    }
    const dW = call(backendName, 'Transpose', backend, { x: cropped }, { perm: [1, 2, 0, 3] });
    free(backend, cropped);
    return dW;
  };
}

/**
 * Whether the input gradient of this convolution can be done as one stride-1 Conv2D: stride 1
 * and padding no larger than kernel-1 on every side.
 */
export function inputGradViaConv2DSupported(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: [number, number] | number,
  pad: Conv2DBackpropInputAttrs['pad'],
): boolean {
  const info = backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, undefined, false, 'channelsLast');
  const p = info.padInfo;
  return (
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    Math.max(p.top, p.bottom) <= info.filterHeight - 1 &&
    Math.max(p.left, p.right) <= info.filterWidth - 1
  );
}

/** dx for a stride-1 2-D convolution, as a Conv2D of dy with the flipped, io-swapped filter. */
export function conv2DBackpropInputViaConv2D(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
    checkNhwc('Conv2DBackpropInput', dataFormat);
    const fShape = filter.shape as [number, number, number, number];
    const info = backend_util.computeConv2DInfo(inputShape, fShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    if (!inputGradViaConv2DSupported(inputShape, fShape, strides, pad)) {
      throw new Error(
        `Conv2DBackpropInput via Conv2D needs stride 1 and padding <= kernel-1, got strides ` +
          `[${info.strideHeight}, ${info.strideWidth}] and padding ${JSON.stringify(info.padInfo)}`,
      );
    }
    const { filterHeight: kH, filterWidth: kW } = info;
    const { top, bottom, left, right } = info.padInfo;
    const flipped = call(backendName, 'Reverse', backend, { x: filter }, { dims: [0, 1] });
    const swapped = call(backendName, 'Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
    free(backend, flipped);
    const dx = call(
      backendName,
      'Conv2D',
      backend,
      { x: dy, filter: swapped },
      {
        strides: [1, 1],
        pad: [[0, 0], [kH - 1 - top, kH - 1 - bottom], [kW - 1 - left, kW - 1 - right], [0, 0]] as ExplicitPad,
        dilations: [1, 1],
        dataFormat: 'NHWC',
      } as unknown as NamedAttrMap,
    );
    free(backend, swapped);
    return dx;
  };
}

/** The kernel configs, for one backend. */
export function convViaConv2DKernelConfigs(backendName: string): KernelConfig[] {
  return [
    {
      kernelName: CONV2D_BACKPROP_FILTER_VIA_CONV2D,
      backendName,
      kernelFunc: conv2DBackpropFilterViaConv2D(backendName),
    },
    {
      kernelName: CONV2D_BACKPROP_INPUT_VIA_CONV2D,
      backendName,
      kernelFunc: conv2DBackpropInputViaConv2D(backendName),
    },
  ];
}
