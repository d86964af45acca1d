import { canTrain } from '@lenet/core';
import { loadRegistry } from '../registry.js';
import { jsonLine } from '../format.js';
import { hangingWrap, outputWidth, tableWrappingLast } from '../terminal.js';
import { detectWasmFeatures, nodeSupport } from '../run/node-runtime.js';

/** One line naming this Node, its support status and the WebAssembly features backends can use. */
async function runtimeLine(): Promise<string> {
  const s = nodeSupport(process.version);
  const w = await detectWasmFeatures();
  const eol = s.pastEndOfLife ? `, end of life since ${s.endOfLife}: use Node 22, 24 or 26` : s.endOfLife ? `, supported until ${s.endOfLife}` : '';
  const features = [w.simd && 'SIMD', w.relaxedSimd && 'relaxed SIMD', w.threads && 'threads'].filter(Boolean).join(', ') || 'none';
  const flags = w.childV8Flags.length ? ` (V8 flag ${w.childV8Flags.join(' ')})` : '';
  return `Node ${process.version} (V8 ${process.versions.v8}${eol}); WebAssembly: ${features}${flags}`;
}

export async function backendsCommand(opts: { json?: boolean }): Promise<void> {
  const reg = await loadRegistry();
  const rows = await Promise.all(
    reg.entries.map(async ({ backend, packageName }) => {
      const available = await backend.available();
      // What the backend would run here at its default threads (e.g. plain's kernel tier).
      let runtime: string | undefined;
      if (available === true) {
        try {
          runtime = (await backend.info()).runtime;
        } catch (err) {
          runtime = `info() failed: ${(err as Error).message.split('\n')[0]}`;
        }
      }
      return { name: backend.name, package: packageName, canTrain: canTrain(backend), available: available === true, reason: available === true ? undefined : available, description: backend.description, runtime };
    }),
  );
  const runtime = await runtimeLine();
  if (opts.json) {
    jsonLine({ backends: rows, failedPackages: reg.failedPackages, node: { version: process.version, v8: process.versions.v8, ...nodeSupport(process.version) }, wasm: await detectWasmFeatures() });
    return;
  }
  // Reasons can be long (they name what is missing): listed under the table, not in it. On a
  // terminal every line is word-wrapped to its width with a hanging indent (never mid-word).
  const width = outputWidth();
  const nameWidth = Math.max(...rows.map((x) => x.name.length));
  const lines = [
    ...tableWrappingLast(
      ['backend', 'train', 'available', 'description'],
      rows.map((r) => [r.name, r.canTrain ? 'yes' : 'no', r.available ? 'yes' : 'no (below)', r.description]),
      width,
    ),
    ...rows.filter((r) => !r.available).flatMap((r) => hangingWrap(`${r.name}: ${r.reason}`, width, 4)),
    '',
    ...hangingWrap(runtime, width, 2),
    'Runs here as (default threads):',
    ...rows.filter((r) => r.runtime).flatMap((r) => hangingWrap(r.runtime!, width, nameWidth + 4, `  ${r.name.padEnd(nameWidth)}  `)),
  ];
  for (const f of reg.failedPackages) lines.push(...hangingWrap(`(package ${f.packageName} did not load: ${f.reason})`, width, 2));
  process.stdout.write(lines.join('\n') + '\n');
}
