/**
 * The work one thread does for a session command, shared by the main thread and the workers.
 *
 * Plain's executor of the data-parallel rule stated in @lenet/core (micro-chunks.ts): a batch of
 * n samples is cut into fixed micro-chunks of CHUNK samples (the last may be shorter). Chunk c's
 * parameter gradient (already scaled by 1/n in the kernels) is computed on its own and stored in
 * slot c of the shared `grads` buffer; the update then sums the slots in chunk order in float64
 * (core's applyGradientSlots, or applyGradientSlotsMomentum with an optimizer), threads claiming blocks of parameters. Threads
 * claim chunks and blocks from a shared counter, so which thread computes what varies; neither
 * the cut nor the order of the sum does, so the weights after N steps are bit-identical for any
 * thread count.
 */
import { applyGradientSlots, applyGradientSlotsMomentum, microChunkCount, microChunkSizes, type SgdMomentum } from '@lenet/core';
import type { Engine } from './engine.js';
import type { Plan } from './plan.js';

/** Plain's micro-chunk size, in samples (fixed: it defines the reduction order; its kernels are fastest on small blocks). */
export const CHUNK = 16;

export const Cmd = { Predict: 1, Train: 2, Update: 3, Exit: 4 } as const;
export type Cmd = (typeof Cmd)[keyof typeof Cmd];

/** Int32 slots of the control buffer. */
export const Ctl = {
  Gen: 0,
  Cmd: 1,
  N: 2,
  Done: 3,
  ParamsVersion: 4,
  /** 0, or 1 + index of the thread that failed. */
  Error: 5,
  /** Byte length of the UTF-8 error message stored at ERROR_TEXT_OFFSET. */
  ErrorLen: 6,
  /** Next micro-chunk (Predict/Train) or parameter block (Update) to claim. */
  Next: 7,
} as const;

/** Parameters per block of the update phase (a multiple of 16: blocks never share a cache line). */
export const UPDATE_BLOCK = 4096;
/** Byte offset of the float64 learning rate in the control buffer. */
export const LR_BYTE_OFFSET = 64;
export const ERROR_TEXT_OFFSET = 128;
export const CONTROL_BYTES = 128 + 2048;

export interface IoBuffers {
  /** Capacity in samples. */
  capacity: number;
  x: ArrayBufferLike;
  y: ArrayBufferLike;
  logits: ArrayBufferLike;
  losses: ArrayBufferLike;
  /** ceil(capacity / CHUNK) gradient slots of paramCount float32 each. */
  grads: ArrayBufferLike;
}

export function allocIo(plan: Plan, capacity: number, shared: boolean): IoBuffers {
  const mk = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  return {
    capacity,
    x: mk(capacity * plan.inputSize * 4),
    y: mk(capacity * 4),
    logits: mk(capacity * plan.classes * 4),
    losses: mk(capacity * 8),
    grads: mk(microChunkCount(capacity, CHUNK) * plan.paramCount * 4),
  };
}

export class Runner {
  readonly ctrl: Int32Array;
  readonly lr: Float64Array;
  readonly params: Float32Array;
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly logits: Float32Array;
  readonly losses: Float64Array;
  readonly grads: Float32Array;
  /** The session's optimizer when it is not plain SGD; velocity is shared by all threads (each updates its own parameter blocks). */
  private readonly sgd: SgdMomentum | undefined;
  private readonly velocity: Float64Array;

  constructor(
    readonly engine: Engine<Float32Array>,
    control: ArrayBufferLike,
    params: ArrayBufferLike,
    io: IoBuffers,
    optimizer?: { sgd: SgdMomentum; velocity: ArrayBufferLike },
  ) {
    this.sgd = optimizer?.sgd;
    this.velocity = new Float64Array(optimizer?.velocity ?? new ArrayBuffer(0));
    this.ctrl = new Int32Array(control, 0, 16);
    this.lr = new Float64Array(control, LR_BYTE_OFFSET, 1);
    this.params = new Float32Array(params);
    this.x = new Float32Array(io.x);
    this.y = new Int32Array(io.y);
    this.logits = new Float32Array(io.logits);
    this.losses = new Float64Array(io.losses);
    this.grads = new Float32Array(io.grads);
  }

  /**
   * Runs this thread's part of command `cmd` for a batch of n: claims work items from the
   * shared counter Ctl.Next (reset to 0 by the dispatcher) until none are left.
   */
  exec(cmd: Cmd, n: number): void {
    const sizes = microChunkSizes(n, CHUNK);
    const C = sizes.length;
    const ctrl = this.ctrl;
    if (cmd === Cmd.Update) {
      const lr = this.lr[0];
      const P = this.plan.paramCount;
      for (;;) {
        const p0 = Atomics.add(ctrl, Ctl.Next, 1) * UPDATE_BLOCK;
        if (p0 >= P) break;
        const p1 = Math.min(P, p0 + UPDATE_BLOCK);
        if (this.sgd) applyGradientSlotsMomentum(this.params, this.grads, P, C, lr, p0, p1, this.sgd, this.velocity);
        else applyGradientSlots(this.params, this.grads, P, C, lr, p0, p1);
      }
      return;
    }
    const { engine, plan } = this;
    engine.loadParams(this.params, Atomics.load(ctrl, Ctl.ParamsVersion));
    const mem = engine.mem;
    for (;;) {
      const c = Atomics.add(ctrl, Ctl.Next, 1);
      if (c >= C) break;
      const start = c * CHUNK;
      const m = sizes[c]!;
      if (cmd === Cmd.Predict) {
        engine.forward(this.x, start, m, false);
        const k = plan.classes;
        const src = engine.logitsOffset;
        const dst = start * k;
        this.logits.set(mem.subarray(src, src + m * k), dst);
      } else {
        engine.forward(this.x, start, m, true);
        engine.backward(this.y, start, m, 1 / n, this.losses, start);
        const P = plan.paramCount;
        const src = engine.gradsOffset;
        const dst = c * P;
        this.grads.set(mem.subarray(src, src + P), dst);
      }
    }
  }

  get plan(): Plan {
    return this.engine.plan;
  }
}
