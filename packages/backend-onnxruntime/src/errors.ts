/** Bad options for the ONNX exporter or training-graph builder (opset, names). */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/**
 * A file or byte array that is not an ONNX model we can read back: not a protobuf ModelProto,
 * missing graph/initializers, wrong dtypes, or parameters that do not match the spec.
 * `source` names the file (or "<bytes>").
 */
export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}
