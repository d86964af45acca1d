/**
 * The work one thread does for a session command, shared by the main thread and the workers.
 *
 * A batch of n samples is cut into fixed micro-chunks of CHUNK samples (the last may be
 * shorter). Chunk c's parameter gradient is computed on its own and stored in slot c of the
 * `grads` buffer; the update then sums the slots in chunk order. Neither depends on how the
 * chunks are spread over threads, so the weights after N steps are bit-identical for any
 * thread count. Thread t of T handles the contiguous chunks [floor(t*C/T), floor((t+1)*C/T)).
 */
import { sgdMomentumUpdate, type SgdMomentum } from '@lenet/core';
import type { Engine } from './engine.js';
import type { Plan } from './plan.js';

/** Samples per micro-chunk (fixed: it defines the reduction order). */
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
    grads: mk(Math.ceil(capacity / CHUNK) * plan.paramCount * 4),
  };
}

export function chunkCount(n: number): number {
  return Math.ceil(n / CHUNK);
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
    const C = chunkCount(n);
    const ctrl = this.ctrl;
    if (cmd === Cmd.Update) {
      const lr = this.lr[0];
      const P = this.plan.paramCount;
      for (;;) {
        const p0 = Atomics.add(ctrl, Ctl.Next, 1) * UPDATE_BLOCK;
        if (p0 >= P) break;
        this.update(p0, Math.min(P, p0 + UPDATE_BLOCK), C, lr);
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
      const m = Math.min(CHUNK, n - start);
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

  /**
   * params[p] -= lr * (sum over chunk slots of grads, in chunk order) for p in [p0, p1); with an
   * optimizer, params[p] = sgdMomentumUpdate(params[p], that same float64 sum, lr).
   */
  private update(p0: number, p1: number, C: number, lr: number): void {
    const P = this.plan.paramCount;
    const { params, grads, sgd } = this;
    if (sgd) {
      const velocity = this.velocity;
      for (let p = p0; p < p1; p++) {
        let s = 0;
        for (let c = 0, o = p; c < C; c++, o += P) s += grads[o];
        params[p] = sgdMomentumUpdate(params[p], s, lr, sgd, velocity, p);
      }
      return;
    }
    // Four parameters at a time (four independent float64 sums, ~2x faster than one); each
    // parameter's sum still runs over the slots in chunk order, so the bits do not change.
    let p = p0;
    for (; p + 4 <= p1; p += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0, o = p; c < C; c++, o += P) {
        s0 += grads[o]; s1 += grads[o + 1]; s2 += grads[o + 2]; s3 += grads[o + 3];
      }
      params[p] = params[p] - lr * s0;
      params[p + 1] = params[p + 1] - lr * s1;
      params[p + 2] = params[p + 2] - lr * s2;
      params[p + 3] = params[p + 3] - lr * s3;
    }
    for (; p < p1; p++) {
      let s = 0;
      for (let c = 0, o = p; c < C; c++, o += P) s += grads[o];
      params[p] = params[p] - lr * s;
    }
  }
}
