/**
 * Forward passes for the interactive parts (image grid, activation maps, drawing canvas), on
 * @lenet/core's float64 reference: `forward64` over a prefix of the reference plan yields the
 * activations after any layer (d2l 7.6 exercise 4).
 */
import { forward64, planReference, toParams64, type Params64, type RefOp, type RefPlan } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';

export interface FeatureMaps {
  /** e.g. "conv1 + sigmoid". */
  label: string;
  channels: number;
  height: number;
  width: number;
  /** channels*height*width, CHW. */
  data: Float64Array;
}

function outputSize(op: RefOp): number {
  switch (op.kind) {
    case 'conv2d':
      return op.outC * op.outH * op.outW;
    case 'pool2d':
      return op.c * op.outH * op.outW;
    case 'activation':
    case 'flatten':
      return op.size;
    case 'dense':
      return op.units;
  }
}

export class ReferenceModel {
  private readonly plan: RefPlan;
  private readonly params: Params64;

  constructor(
    readonly spec: ModelSpec,
    weights: Weights,
  ) {
    this.plan = planReference(spec);
    this.params = toParams64(spec, weights);
  }

  get classes(): number {
    return this.plan.classes;
  }

  /** Logits of n images (NCHW, pixels/255). */
  logits(x: ArrayLike<number>, n: number): Float64Array {
    return forward64(this.plan, this.params, x, n);
  }

  /** Softmax probabilities of one image. */
  probabilities(x: ArrayLike<number>): Float64Array {
    const z = this.logits(x, 1);
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }

  /** Output of the plan's ops [0, last] for one image. */
  private prefix(x: ArrayLike<number>, last: number): Float64Array {
    const ops = this.plan.ops.slice(0, last + 1);
    return forward64({ ...this.plan, ops, classes: outputSize(ops[ops.length - 1]!) }, this.params, x, 1);
  }

  /**
   * Feature maps of the first `count` conv layers for one image, after their activation when
   * one follows directly (what d2l's exercise looks at).
   */
  convMaps(x: ArrayLike<number>, count = 2): FeatureMaps[] {
    const maps: FeatureMaps[] = [];
    const ops = this.plan.ops;
    let conv = 0;
    for (let i = 0; i < ops.length && maps.length < count; i++) {
      const op = ops[i]!;
      if (op.kind !== 'conv2d') continue;
      conv++;
      const next = ops[i + 1];
      const withAct = next?.kind === 'activation';
      const last = withAct ? i + 1 : i;
      maps.push({
        label: `conv${conv} (${op.outC}@${op.outH}×${op.outW})${withAct ? ` + ${next.fn}` : ''}`,
        channels: op.outC,
        height: op.outH,
        width: op.outW,
        data: this.prefix(x, last),
      });
    }
    return maps;
  }
}
