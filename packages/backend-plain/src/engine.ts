/**
 * One thread's executor: runs the plan's ops over a micro-chunk of samples inside an arena
 * (a typed array laid out by the plan). Allocation-free after construction.
 */
import type { FloatArray, Kernels } from './kernels.js';
import type { Plan } from './plan.js';
import { conv2dBackward, conv2dForward, convKeepsCols } from './layers/conv2d.js';
import { denseBackward, denseForward } from './layers/dense.js';
import { softmaxCrossEntropyForwardBackward } from './layers/loss.js';

/** Optional per-op timer hook (benchmarks' per-layer breakdown). */
export type OpTimer = (opIndex: number, phase: 'forward' | 'backward', ms: number) => void;

export class Engine<F extends FloatArray> {
  /** Version of the parameters currently in the arena (see loadParams). */
  paramsVersion = -1;
  timer: OpTimer | null = null;

  constructor(
    readonly plan: Plan,
    readonly kernels: Kernels<F>,
    /** The arena: plan.arena.size elements. */
    readonly mem: F,
  ) {
    if (mem.length < plan.arena.size) {
      throw new Error(`Engine: arena has ${mem.length} elements, the plan needs ${plan.arena.size}`);
    }
  }

  /** Copies the flat parameter vector into the arena (skipped when `version` is unchanged). */
  loadParams(src: ArrayLike<number>, version: number): void {
    if (version === this.paramsVersion && version >= 0) return;
    const { mem } = this;
    const off = this.plan.arena.params;
    const n = this.plan.paramCount;
    if (src instanceof Float32Array || src instanceof Float64Array) mem.set(src.subarray(0, n), off);
    else for (let i = 0; i < n; i++) mem[off + i] = src[i];
    this.paramsVersion = version;
  }

  /** Offset of the logits of chunk sample 0 in `mem` (classes values per sample). */
  get logitsOffset(): number {
    return this.plan.tensors[this.plan.logits].value;
  }

  /** Offset of the chunk's parameter gradients in `mem` (paramCount values). */
  get gradsOffset(): number {
    return this.plan.arena.grads;
  }

  /**
   * Forward pass for samples [start, start+m) of x (m <= plan.chunk). With keepCols the conv
   * patch matrices of every sample are kept for backward(), for the layers whose backward needs
   * them (convKeepsCols: not where the kernels convolve directly in both directions).
   */
  forward(x: ArrayLike<number>, start: number, m: number, keepCols: boolean): void {
    const { plan, mem, kernels } = this;
    if (m > plan.chunk) throw new Error(`Engine.forward: ${m} samples exceed the chunk of ${plan.chunk}`);
    const inp = plan.tensors[0];
    const len = m * inp.size;
    const src = start * inp.size;
    if (x instanceof Float32Array || x instanceof Float64Array) mem.set(x.subarray(src, src + len), inp.value);
    else for (let i = 0; i < len; i++) mem[inp.value + i] = x[src + i];
    const P = plan.arena.params;
    const timer = this.timer;
    for (let o = 0; o < plan.ops.length; o++) {
      const t0 = timer ? performance.now() : 0;
      const op = plan.ops[o];
      const tin = plan.tensors[op.input];
      const tout = plan.tensors[op.output];
      switch (op.kind) {
        case 'conv2d':
          conv2dForward(kernels, op.geom, m, mem, tin.value, mem, P + op.wOff, mem, P + op.bOff,
            mem, op.col, keepCols && convKeepsCols(kernels, op.geom) ? op.colSize : 0, mem, tout.value);
          break;
        case 'dense':
          denseForward(kernels, m, op.inF, op.outF, mem, tin.value, mem, P + op.wOff, mem, P + op.bOff, mem, tout.value);
          break;
        case 'activation':
          kernels.activationForward(op.fn, m * op.size, mem, tin.value, mem, tout.value);
          break;
        case 'pool2d':
          kernels.poolForward(op.geom, m, mem, tin.value, mem, tout.value);
          break;
      }
      if (timer) timer(o, 'forward', performance.now() - t0);
    }
  }

  /**
   * Loss and backward pass for the m samples of the last forward(keepCols = true): zeroes and
   * fills the arena gradients with d(mean batch loss)/d(params) restricted to these samples
   * (scale = 1 / batch size). Per-sample losses go to losses[lossOff + s].
   */
  backward(labels: ArrayLike<number>, labelOff: number, m: number, scale: number, losses: FloatArray, lossOff: number): void {
    const { plan, mem, kernels } = this;
    const P = plan.arena.params;
    const G = plan.arena.grads;
    mem.fill(0, G, G + plan.paramCount);
    const logits = plan.tensors[plan.logits];
    softmaxCrossEntropyForwardBackward(m, plan.classes, mem, logits.value, labels, labelOff, scale, losses, lossOff, mem, logits.grad);
    const timer = this.timer;
    for (let o = plan.ops.length - 1; o >= plan.firstParamOp; o--) {
      const t0 = timer ? performance.now() : 0;
      const op = plan.ops[o];
      const tin = plan.tensors[op.input];
      const tout = plan.tensors[op.output];
      const needDx = o > plan.firstParamOp && tin.grad >= 0;
      switch (op.kind) {
        case 'conv2d':
          conv2dBackward(kernels, op.geom, m, mem, tin.value, mem, P + op.wOff, mem, op.col, convKeepsCols(kernels, op.geom) ? op.colSize : 0,
            mem, tout.grad, mem, G + op.wOff, mem, G + op.bOff, mem, plan.arena.dcol, needDx ? mem : null, tin.grad);
          break;
        case 'dense':
          denseBackward(kernels, m, op.inF, op.outF, mem, tin.value, mem, P + op.wOff, mem, tout.grad,
            mem, G + op.wOff, mem, G + op.bOff, needDx ? mem : null, tin.grad);
          break;
        case 'activation':
          if (needDx) kernels.activationBackward(op.fn, m * op.size, mem, tout.value, mem, tout.grad, mem, tin.grad);
          break;
        case 'pool2d':
          if (needDx) kernels.poolBackward(op.geom, m, mem, tin.value, mem, tout.grad, mem, tin.grad);
          break;
      }
      if (timer) timer(o, 'backward', performance.now() - t0);
    }
  }
}
