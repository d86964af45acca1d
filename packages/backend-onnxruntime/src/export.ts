/**
 * ONNX export of a spec + weights: the inference model.
 *
 * Format (documented in README.md):
 * - IR version 8, default-domain opset 13 (14 and 15 on request), producer "@lenet/backend-onnxruntime".
 * - One input `input` float32 [N, C, H, W] with symbolic batch dimension "N"; one output
 *   `logits` float32 [N, classes].
 * - Every parameter is an initializer named canonically (conv1.weight, …, fc3.bias), float32
 *   raw_data, in canonical order and layout ([out,in,kH,kW], [out,in], [out]).
 * - metadata_props: `lenet.format` = "lenet-bench/1", `lenet.spec` = the spec as JSON (what
 *   importOnnx reads back; it also cross-checks it against the graph's initializers).
 */
import type { ModelSpec, Weights } from '@lenet/model';
import { numClasses, paramInfos, validateSpec, validateWeights } from '@lenet/model';
import { OnnxExportError } from './errors.js';
import { DataType, GraphBuilder, encodeModel } from './graph-builder.js';
import { buildForward } from './forward.js';
import { PACKAGE_VERSION } from './version.js';

export const SUPPORTED_OPSETS = [13, 14, 15] as const;
export type Opset = (typeof SUPPORTED_OPSETS)[number];
export const DEFAULT_OPSET: Opset = 13;
export const FORMAT_TAG = 'lenet-bench/1';
export const META_FORMAT = 'lenet.format';
export const META_SPEC = 'lenet.spec';
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';
export const BATCH_DIM = 'N';

export interface ExportOptions {
  /** Default-domain opset, 13..15. Default 13. */
  opset?: Opset;
  /** Extra metadata_props entries (must not use the "lenet." prefix). */
  metadata?: Record<string, string>;
  /** Model doc string. */
  docString?: string;
}

export function checkOpset(opset: unknown, where: string): Opset {
  if (!(SUPPORTED_OPSETS as readonly unknown[]).includes(opset)) {
    throw new OnnxExportError(`${where}: opset must be one of ${SUPPORTED_OPSETS.join(', ')}, got ${String(opset)}`);
  }
  return opset as Opset;
}

export function checkMetadata(metadata: Record<string, string> | undefined, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (k.startsWith('lenet.')) throw new OnnxExportError(`${where}: metadata key "${k}" is reserved (prefix "lenet.")`);
    if (typeof v !== 'string') throw new OnnxExportError(`${where}: metadata "${k}" must be a string, got ${typeof v}`);
    out[k] = v;
  }
  return out;
}

/** Exports the inference model. Throws SpecError / WeightsError for a bad spec or weights. */
export function exportOnnx(spec: ModelSpec, weights: Weights, options: ExportOptions = {}): Uint8Array {
  const valid = validateSpec(spec);
  validateWeights(valid, weights);
  const opset = checkOpset(options.opset ?? DEFAULT_OPSET, 'exportOnnx');
  const extra = checkMetadata(options.metadata, 'exportOnnx');

  const g = new GraphBuilder();
  const [c, h, w] = valid.inputShape;
  g.input(INPUT_NAME, DataType.FLOAT, [BATCH_DIM, c, h, w]);
  // Parameters become initializers, in canonical order with canonical names.
  for (const p of paramInfos(valid)) g.floatTensor(p.name, p.shape, weights.get(p.name)!.data, true);
  g.reserve(OUTPUT_NAME);
  buildForward(g, valid, INPUT_NAME, (p) => p.name, OUTPUT_NAME);
  g.output(OUTPUT_NAME, DataType.FLOAT, [BATCH_DIM, numClasses(valid)]);

  return encodeModel(g.graph(valid.name, `LeNet-style classifier "${valid.name}"`), {
    opset,
    producerVersion: PACKAGE_VERSION,
    docString: options.docString ?? `Exported by @lenet/backend-onnxruntime ${PACKAGE_VERSION}`,
    metadata: { ...extra, [META_FORMAT]: FORMAT_TAG, [META_SPEC]: JSON.stringify(valid) },
  });
}
