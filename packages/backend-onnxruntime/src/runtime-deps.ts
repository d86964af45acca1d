/**
 * How backends.ts reports a missing runtime: onnxruntime-node and onnxruntime-web are optional
 * peer dependencies, and a missing one is an error that says what to install, raised when a
 * session is first created (and returned by available()).
 */
export function missingRuntime(pkg: string, backend: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const code = (e as { code?: string } | null)?.code;
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to resolve module/.test(msg);
  if (!notFound) return new Error(`${backend}: ${pkg} could not be loaded: ${msg}`, { cause: e });
  const install = pkg === 'onnxruntime-node' ? 'npm install onnxruntime-node@1.30.0 --onnxruntime-node-install=skip' : `npm install ${pkg}@1.30.0`;
  return new Error(`${backend} needs the optional peer dependency ${pkg}, which is not installed: run \`${install}\` (${msg})`, { cause: e });
}
