/**
 * `lenet-bench merge A B C … --out D`: joins report.json files from several machines (or shards
 * of one matrix, `run --shard i/n`) into one report whose rows carry their machine. Ratios to the
 * reference stay those measured inside each source report (paired windows are only meaningful
 * within one run), so every source's comparison rows are kept as they are.
 *
 * Reports measure the same thing only if they agree on the schema, the data (SHA-256 of every
 * file), the model spec and the recipe: anything else is refused, naming the field.
 */
import { hostname } from 'node:os';
import type { BackendResult, Environment, Report } from '../run/types.js';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION } from '../run/types.js';

export class MergeError extends Error {
  override name = 'MergeError';
}

/** A short, stable label of the machine a report ran on. */
export function machineLabel(e: Environment & { hostname?: string }): string {
  return `${e.hostname ?? 'unknown host'} (${e.cpuModel}, ${e.cores} cores)`;
}

/** Fields that must be equal for two reports to be merged (config fields that define the work). */
const SAME_CONFIG: (keyof Report['config'])[] = ['model', 'dataset', 'seed', 'epochs', 'batchSize', 'lr', 'limit', 'targetAccuracy', 'profile', 'maxStepsPerEpoch', 'evalImages', 'evalEverySteps'];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Throws MergeError naming the first field in which `b` (file fb) differs from `a` (file fa). */
export function checkMergeable(a: Report, fa: string, b: Report, fb: string): void {
  const differ = (field: string, va: unknown, vb: unknown) => {
    throw new MergeError(`cannot merge ${fb} into ${fa}: ${field} differs (${JSON.stringify(va).slice(0, 120)} vs ${JSON.stringify(vb).slice(0, 120)})`);
  };
  if (a.schemaVersion !== b.schemaVersion) differ('schemaVersion', a.schemaVersion, b.schemaVersion);
  const hashes = (r: Report) => r.config.dataSource.files.map((f) => `${f.file}:${f.sha256}`).sort();
  if (!same(hashes(a), hashes(b))) differ('config.dataSource.files (data SHA-256)', hashes(a), hashes(b));
  if (!same(a.config.modelSpec, b.config.modelSpec)) differ('config.modelSpec', a.config.modelSpec.name, b.config.modelSpec.name);
  for (const k of SAME_CONFIG) if (!same(a.config[k], b.config[k])) differ(`config.${String(k)}`, a.config[k], b.config[k]);
}

export interface MergeSource {
  report: Report;
  file: string;
}

/**
 * The merged report. Rows keep their names when they are unique; a cell that appears in several
 * sources (the reference, which every shard runs, or the same backend on several machines) gets
 * " @ <machine>" appended, except that identical machines keep only the first such row.
 */
export function mergeReports(sources: MergeSource[]): Report {
  if (sources.length < 2) throw new MergeError('merge: give at least two reports');
  const [first] = sources;
  for (const s of sources.slice(1)) checkMergeable(first!.report, first!.file, s.report, s.file);
  const machineOf = (r: Report) => machineLabel(r.environment);
  const machines = [...new Set(sources.map((s) => machineOf(s.report)))];
  const results: (BackendResult & { machine?: string })[] = [];
  const seen = new Map<string, string>(); // backend -> machine of its first row
  const comparisons: NonNullable<Report['comparisons']>['rows'] = [];
  const rename = new Map<string, string>();
  for (const s of sources) {
    const machine = machineOf(s.report);
    for (const r of s.report.results) {
      const prev = seen.get(r.backend);
      if (prev === machine) continue; // e.g. the reference of a second shard on the same machine
      const name = prev === undefined && machines.length === 1 ? r.backend : `${r.backend} @ ${machine}`;
      if (prev === undefined) seen.set(r.backend, machine);
      rename.set(`${s.file}\u0000${r.backend}`, name);
      results.push({ ...r, backend: name, machine });
    }
    for (const c of s.report.comparisons?.rows ?? []) {
      const name = rename.get(`${s.file}\u0000${c.backend}`);
      if (name) comparisons.push({ ...c, backend: name });
    }
  }
  // With several machines every row carries its machine in its name: keep that uniform.
  if (machines.length > 1) {
    for (const r of results) if (!r.backend.includes(' @ ')) r.backend = `${r.backend} @ ${r.machine}`;
  }
  const backends = results.map((r) => r.backend);
  const now = new Date().toISOString();
  const statuses = sources.map((s) => s.report.status);
  return {
    schema: REPORT_SCHEMA_ID,
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: first!.report.tool,
    status: statuses.every((x) => x === 'complete') ? 'complete' : statuses.includes('interrupted') ? 'interrupted' : 'running',
    createdAt: now,
    updatedAt: now,
    wallSeconds: sources.reduce((a, s) => a + s.report.wallSeconds, 0),
    environment: { ...first!.report.environment, hostname: hostname() } as Environment,
    config: { ...first!.report.config, backends, skipped: sources.flatMap((s) => s.report.config.skipped) },
    agreement: first!.report.agreement,
    results,
    pending: sources.flatMap((s) => s.report.pending.map((p) => (machines.length > 1 ? `${p} @ ${machineOf(s.report)}` : p))),
    errors: results.filter((r) => r.error).map((r) => ({ backend: r.backend, phase: r.error!.phase, message: r.error!.message })),
    notes: [
      `merged from ${sources.length} reports: ${sources.map((s) => `${s.file} (${machineOf(s.report)}, ${s.report.createdAt})`).join('; ')}`,
      'ratios to the reference were measured inside each source report (paired windows of one machine and run)',
      ...sources.flatMap((s) => s.report.notes),
    ],
    noise: sources.flatMap((s) => s.report.noise ?? []),
    comparisons: comparisons.length ? { reference: first!.report.comparisons?.reference ?? 'pytorch', rows: comparisons } : null,
    machines: sources.map((s) => ({ label: machineOf(s.report), file: s.file, environment: s.report.environment })),
  };
}

/** `--shard i/n`: the cells of shard i (1-based) — every n-th cell, the reference in every shard. */
export function shardCells(cells: string[], shard: { index: number; count: number }, isReference: (id: string) => boolean): string[] {
  const work = cells.filter((c) => !isReference(c));
  const mine = work.filter((_, k) => k % shard.count === shard.index - 1);
  return [...mine, ...cells.filter(isReference)];
}

export function parseShard(value: string): { index: number; count: number } | null {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return null;
  return { index, count };
}
