/**
 * The part of an onnxruntime module (node or web) the sessions use. In a module of its own
 * (types only) so that session.ts and data-parallel.ts, which both take one, do not import each
 * other.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';

/** The part of an onnxruntime module (node or web) this package uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: typeof OrtTensor;
}
