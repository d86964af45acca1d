/**
 * The runtime of a backend whose heavy dependency loads on first use (an optional peer
 * dependency such as @jax-js/jax or @tensorflow/tfjs, a wasm module): loaded once, its failure
 * kept, and said the same way by every such backend.
 */

export interface LazyRuntime<T> {
  /** The loaded runtime, after the per-use set-up; rejects with "<name> is not available: <why>". */
  ready(): Promise<T>;
  /** Backend.available: true, or that same one-line reason. Never throws. */
  available(): Promise<true | string>;
}

/**
 * `load` runs on the first ready()/available() and only then; its result (or its rejection) is
 * kept from then on. `use`, if given, runs on every ready() — for process-global state that
 * two backends of one runtime share (TF.js's active backend, jax-js's default device).
 */
export function lazyRuntime<T>(name: string, load: () => Promise<T>, use?: (runtime: T) => void | Promise<void>): LazyRuntime<T> {
  let loading: Promise<T> | undefined;
  async function ready(): Promise<T> {
    loading ??= load();
    try {
      const runtime = await loading;
      await use?.(runtime);
      return runtime;
    } catch (e) {
      throw new Error(`${name} is not available: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return {
    ready,
    async available() {
      try {
        await ready();
        return true;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
  };
}
