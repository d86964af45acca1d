/**
 * Chromium flags for the page's GPU backends (tfjs-webgl, tfjs-webgpu, ort-web-webgpu). Without
 * a GPU, Chromium offers WebGL only on SwiftShader when --enable-unsafe-swiftshader is given
 * (and --disable-gpu is not), and WebGPU (on Linux) only with --enable-unsafe-webgpu, which
 * then also exposes SwiftShader's fallback adapter. With a real GPU the same flags pick the
 * GPU. The rows say which adapter ran and flag software fallbacks (see merge.ts).
 */

/** Page backend ids that need a GPU context (the page's JSON contract, restated like types.ts). */
export const GPU_BACKEND = /(^|-)(webgl|webgpu)$/;

export const GPU_ARGS = ['--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];

/** Whether a run of these page backends (null: all of them) needs the GPU flags. */
export function wantsGpu(backends: string[] | null): boolean {
  return backends === null || backends.some((b) => GPU_BACKEND.test(b));
}

/** The launch flags: `base` as is for CPU-only runs; without --disable-gpu and with GPU_ARGS when a GPU backend is asked for. */
export function chromiumArgs(base: readonly string[], backends: string[] | null): string[] {
  if (!wantsGpu(backends)) return [...base];
  return [...base.filter((a) => a !== '--disable-gpu'), ...GPU_ARGS];
}

/** One line per GPU row for the CLI output: its adapter, and the mark on a software fallback. */
export function adapterLines(results: { id: string; status: string; adapter?: string | null; softwareFallback?: boolean | null }[]): string {
  return results
    .filter((r) => r.status === 'ok' && r.adapter)
    .map((r) => `  ${r.id} ran on ${r.adapter}${r.softwareFallback ? ' — software fallback: timings shown but not representative' : ''}\n`)
    .join('');
}
