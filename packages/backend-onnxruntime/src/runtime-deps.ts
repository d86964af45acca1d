/** Shared by ort-node.ts and ort-web.ts. */
import { BackendInputError } from '@lenet/core';

export function checkThreads(backend: string, threads: unknown): number | undefined {
  if (threads === undefined) return undefined;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1) {
    throw new BackendInputError(`${backend}: options.threads must be a positive integer, got ${String(threads)}`);
  }
  return threads;
}

/**
 * onnxruntime-node and onnxruntime-web are optional peer dependencies: a missing one is an
 * error that says what to install, raised when a session is first created.
 */
export function missingRuntime(pkg: string, backend: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const code = (e as { code?: string } | null)?.code;
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to resolve module/.test(msg);
  if (!notFound) return new Error(`${backend}: ${pkg} could not be loaded: ${msg}`, { cause: e });
  const install = pkg === 'onnxruntime-node' ? 'npm install onnxruntime-node@1.30.0 --onnxruntime-node-install=skip' : `npm install ${pkg}@1.30.0`;
  return new Error(`${backend} needs the optional peer dependency ${pkg}, which is not installed: run \`${install}\` (${msg})`, { cause: e });
}
