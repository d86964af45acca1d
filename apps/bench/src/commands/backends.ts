import { loadRegistry } from '../registry.js';
import { jsonLine, table } from '../format.js';

export async function backendsCommand(opts: { json?: boolean }): Promise<void> {
  const reg = await loadRegistry();
  const rows = await Promise.all(
    reg.entries.map(async ({ backend, packageName }) => {
      const available = await backend.available();
      return { name: backend.name, package: packageName, canTrain: backend.canTrain, available: available === true, reason: available === true ? undefined : available, description: backend.description };
    }),
  );
  if (opts.json) {
    jsonLine({ backends: rows, failedPackages: reg.failedPackages });
    return;
  }
  // Reasons can be long (they name what is missing): listed under the table, not in it.
  const lines = [
    table(
      ['backend', 'train', 'available', 'description'],
      rows.map((r) => [r.name, r.canTrain ? 'yes' : 'no', r.available ? 'yes' : 'no (below)', r.description]),
      ['l', 'l', 'l', 'l'],
    ),
    ...rows.filter((r) => !r.available).map((r) => `${r.name}: ${r.reason}`),
  ];
  for (const f of reg.failedPackages) lines.push(`(package ${f.packageName} did not load: ${f.reason})`);
  process.stdout.write(lines.join('\n') + '\n');
}
