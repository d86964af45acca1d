/**
 * The one update rule of every training backend: SGD with optional momentum, Nesterov momentum
 * and (L2) weight decay, with PyTorch's torch.optim.SGD semantics (dampening 0):
 *
 *   d = g + weightDecay·w
 *   v = momentum·v + d          (v starts at 0; only when momentum > 0)
 *   d = nesterov ? d + momentum·v : v
 *   w = w − lr·d
 *
 * Plain SGD (the default: momentum 0, weightDecay 0) is the special case w = w − lr·g, and is
 * run by the callers' existing loops unchanged, so default results stay bit-identical.
 *
 * Rounding, defined once: g is the step's gradient as the caller reduces it (float64), the
 * arithmetic is float64, the velocity is kept in float64 (a Float64Array per session), and the
 * weight is rounded to float32 once, when the caller stores the returned value.
 */
import { BackendInputError, type OptimizerOptions } from './contract.js';

export type { OptimizerOptions } from './contract.js';

/** A validated optimizer that is not plain SGD (checkOptimizer's result). */
export interface SgdMomentum {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * Validates `optimizer` for `backend`: undefined when it is plain SGD (absent, or all defaults),
 * else the resolved options. A bad value is a BackendInputError naming the backend and field.
 */
export function checkOptimizer(backend: string, optimizer: unknown): SgdMomentum | undefined {
  if (optimizer === undefined) return undefined;
  if (typeof optimizer !== 'object' || optimizer === null || Array.isArray(optimizer)) {
    throw new BackendInputError(`${backend}: options.optimizer must be an object { momentum?, weightDecay?, nesterov? }, got ${String(optimizer)}`);
  }
  const o = optimizer as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'momentum' && key !== 'weightDecay' && key !== 'nesterov') {
      throw new BackendInputError(`${backend}: options.optimizer.${key} is not an option (expected momentum, weightDecay, nesterov)`);
    }
  }
  const momentum = o.momentum ?? 0;
  if (typeof momentum !== 'number' || !Number.isFinite(momentum) || momentum < 0 || momentum >= 1) {
    throw new BackendInputError(`${backend}: options.optimizer.momentum must be a number in [0, 1), got ${String(o.momentum)}`);
  }
  const weightDecay = o.weightDecay ?? 0;
  if (typeof weightDecay !== 'number' || !Number.isFinite(weightDecay) || weightDecay < 0) {
    throw new BackendInputError(`${backend}: options.optimizer.weightDecay must be a finite number >= 0, got ${String(o.weightDecay)}`);
  }
  const nesterov = o.nesterov ?? false;
  if (typeof nesterov !== 'boolean') {
    throw new BackendInputError(`${backend}: options.optimizer.nesterov must be a boolean, got ${String(o.nesterov)}`);
  }
  if (nesterov && momentum === 0) {
    throw new BackendInputError(`${backend}: options.optimizer.nesterov needs momentum > 0 (as torch.optim.SGD)`);
  }
  if (momentum === 0 && weightDecay === 0) return undefined;
  return { momentum, weightDecay, nesterov };
}

/** A short description of an optimizer for messages and reports, e.g. "SGD (momentum 0.9 nesterov, weight decay 0.0005)". */
export function describeOptimizer(optimizer: OptimizerOptions | undefined): string {
  const m = optimizer?.momentum ?? 0;
  const wd = optimizer?.weightDecay ?? 0;
  const parts = [m > 0 ? `momentum ${m}${optimizer?.nesterov ? ' nesterov' : ''}` : '', wd > 0 ? `weight decay ${wd}` : ''].filter(Boolean);
  return parts.length > 0 ? `SGD (${parts.join(', ')})` : 'SGD';
}

/**
 * For backends that train with plain SGD only: throws a one-line BackendInputError naming the
 * backend and the feature when `optimizer` is not plain SGD (it is never silently ignored).
 */
export function refuseOptimizer(backend: string, optimizer: unknown): void {
  const sgd = checkOptimizer(backend, optimizer);
  if (sgd) {
    throw new BackendInputError(`${backend} cannot train with momentum or weight decay (asked for ${describeOptimizer(sgd)}); it supports plain SGD only`);
  }
}

/**
 * The update of one parameter: returns its new value (float64; the caller rounds it to float32
 * once by storing it) from the weight `w`, its step gradient `g` and the learning rate, and
 * updates its velocity `velocity[i]` (float64, 0 before the first step) when momentum > 0.
 */
export function sgdMomentumUpdate(w: number, g: number, lr: number, sgd: SgdMomentum, velocity: Float64Array, i: number): number {
  let d = g + sgd.weightDecay * w;
  if (sgd.momentum > 0) {
    const v = sgd.momentum * velocity[i]! + d;
    velocity[i] = v;
    d = sgd.nesterov ? d + sgd.momentum * v : v;
  }
  return w - lr * d;
}
