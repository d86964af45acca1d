/**
 * Files the page needs that are not part of the bundle, located from the installed packages:
 * the WebAssembly binaries of onnxruntime-web and tfjs-backend-wasm. onnxruntime-web is an
 * optional peer (and, in this workspace, a dev dependency) of @lenet/backend-onnxruntime, and
 * tfjs-backend-wasm of @lenet/backend-tfjs, so they are resolved from those packages' folders.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function packageDir(pkg: string, from: string): string {
  const fromDir = dirname(require.resolve(`${from}/package.json`));
  // Not require.resolve(`${pkg}/package.json`): onnxruntime-web's "exports" hides it.
  const dir = join(fromDir, 'node_modules', pkg);
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`${pkg} is not installed for ${from} (looked in ${dir}); run pnpm install`);
  return realpathSync(dir);
}

/** Folder of onnxruntime-web (as installed for @lenet/backend-onnxruntime). */
export const ORT_WEB_DIR = packageDir('onnxruntime-web', '@lenet/backend-onnxruntime');
/** Folder of @tensorflow/tfjs-backend-wasm (as installed for @lenet/backend-tfjs). */
export const TFJS_WASM_DIR = packageDir('@tensorflow/tfjs-backend-wasm', '@lenet/backend-tfjs');

/** URL folder (under the app's base) the binaries are served from. */
export const WASM_URL_DIR = 'lenet-wasm/';

/**
 * Served file name -> absolute path. tfjs-backend-wasm picks one of three binaries at run time
 * (SIMD, threaded SIMD, or the baseline) and needs their folder (setWasmPaths). onnxruntime-web
 * needs nothing here: its browser entry (ort.bundle.min.mjs) embeds its JS glue and references
 * its binary with `new URL(..., import.meta.url)`, which Vite serves (dev) and emits (build).
 */
export function wasmFiles(): Record<string, string> {
  const tfjs = join(TFJS_WASM_DIR, 'dist');
  return {
    'tfjs-backend-wasm.wasm': join(tfjs, 'tfjs-backend-wasm.wasm'),
    'tfjs-backend-wasm-simd.wasm': join(tfjs, 'tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm-threaded-simd.wasm': join(tfjs, 'tfjs-backend-wasm-threaded-simd.wasm'),
  };
}

/** ORT's browser entry, aliased so the app and @lenet/backend-onnxruntime share one instance. */
export const ORT_WEB_ENTRY = join(ORT_WEB_DIR, 'dist', 'ort.bundle.min.mjs');
