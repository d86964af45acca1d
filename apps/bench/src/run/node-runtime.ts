/**
 * The Node.js runtime a run uses: its release line's end-of-life date, the WebAssembly features
 * its engine has, and the V8 flags the harness passes to its child processes (cells, peaks,
 * reproduce seeds) so that they run at the strength a current Node has by default.
 */
import { setFlagsFromString } from 'node:v8';
import { relaxedSimd, simd, threads } from 'wasm-feature-detect';

/**
 * End of life of each Node.js release line (nodejs.org/about/previous-releases): even majors
 * are LTS lines ending 30 April three years after release, odd majors end 1 June of the next year.
 */
export const NODE_END_OF_LIFE: Readonly<Record<number, string>> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
  26: '2029-04-30',
};

export interface NodeSupport {
  major: number;
  /** End-of-life date of the release line (YYYY-MM-DD), null when the table does not know it. */
  endOfLife: string | null;
  /** Whether that date has passed on `today`; null when unknown. */
  pastEndOfLife: boolean | null;
}

/** The release line of a Node version ("v20.20.2" or "20.20.2") and whether it is past end of life. */
export function nodeSupport(version: string, today: Date = new Date()): NodeSupport {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? NaN);
  const endOfLife = NODE_END_OF_LIFE[major] ?? null;
  // A line ends at the end of its EOL day (UTC); comparing ISO dates as strings is exact.
  const pastEndOfLife = endOfLife === null ? null : today.toISOString().slice(0, 10) > endOfLife;
  return { major, endOfLife, pastEndOfLife };
}

/**
 * V8 flags for the harness's Node children: on Node 20 WebAssembly relaxed SIMD is behind
 * --experimental-wasm-relaxed-simd (on by default since Node 21 / V8 11.4), and plain's fastest
 * kernel tier uses it. Newer Nodes get no flag (an unknown V8 flag would stop them starting).
 */
export function childV8Flags(version: string = process.version): string[] {
  return nodeSupport(version).major < 21 ? ['--experimental-wasm-relaxed-simd'] : [];
}

/** execArgv for a forked child: this process's own flags (as fork() passes them) plus the childV8Flags() it lacks. */
export function childExecArgv(): string[] {
  return [...process.execArgv, ...childV8Flags().filter((f) => !process.execArgv.includes(f))];
}

/**
 * Applies childV8Flags() to this process too (before any WebAssembly is compiled), so commands
 * that run backends in-process (`backends`, `train`, `eval`) see the tiers `run`'s children use.
 * V8 reads its wasm feature flags when a module is validated, so setting them now is enough.
 */
export function enableChildWasmFeaturesHere(): void {
  for (const flag of childV8Flags()) setFlagsFromString(flag);
}

export interface WasmFeatures {
  simd: boolean;
  /** As the children see it (with childV8Flags applied). */
  relaxedSimd: boolean;
  threads: boolean;
  /** V8 flags the children get, e.g. ["--experimental-wasm-relaxed-simd"] on Node 20. */
  childV8Flags: string[];
}

/** The WebAssembly features of this engine (wasm-feature-detect), as the harness's children have them. */
export async function detectWasmFeatures(): Promise<WasmFeatures> {
  const flags = childV8Flags();
  const [hasSimd, hasRelaxed, hasThreads] = await Promise.all([simd(), relaxedSimd(), threads()]);
  return {
    simd: hasSimd,
    // This process may lack the flag its children get; the flag is what turns the feature on.
    relaxedSimd: hasRelaxed || (hasSimd && flags.includes('--experimental-wasm-relaxed-simd')),
    threads: hasThreads,
    childV8Flags: flags,
  };
}
