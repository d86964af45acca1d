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
import { specDifference } from '@lenet/model';
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
  if (!same(a.config.modelSpec, b.config.modelSpec)) {
    // Two specs can share a name ("lenet5" vs an edited "lenet5"): name the layer that differs.
    const where = specDifference(a.config.modelSpec, b.config.modelSpec);
    throw new MergeError(`cannot merge ${fb} into ${fa}: config.modelSpec differs (${where ?? `name "${a.config.modelSpec.name}" vs "${b.config.modelSpec.name}"`})`);
  }
  for (const k of SAME_CONFIG) if (!same(a.config[k], b.config[k])) differ(`config.${String(k)}`, a.config[k], b.config[k]);
}

export interface MergeSource {
  report: Report;
  file: string;
}

/** "source 2" in row names and notes; the environment lines of the report map it to its file. */
const sourceLabel = (k: number) => `source ${k + 1}`;

/** Two sources that are one run (the same file twice, or a copy): merging would count every row twice. */
function checkDistinctRuns(sources: MergeSource[]): void {
  for (let i = 0; i < sources.length; i++) {
    for (let j = i + 1; j < sources.length; j++) {
      const a = sources[i]!;
      const b = sources[j]!;
      if (a.file === b.file) throw new MergeError(`cannot merge ${b.file} with itself: it is given twice`);
      if (a.report.createdAt === b.report.createdAt && machineLabel(a.report.environment) === machineLabel(b.report.environment)) {
        throw new MergeError(`cannot merge ${b.file} into ${a.file}: they are the same run (created ${a.report.createdAt} on ${machineLabel(a.report.environment)}), so every row would be counted twice`);
      }
    }
  }
}

/**
 * The merged report; it never drops a measured row.
 * - A backend measured once keeps its name (with several machines: "<backend> @ <machine>").
 * - The same backend on the same machine from several sources (two runs of plain on one host) is
 *   kept side by side: every such row is named "<backend> [source N]" and records its file in
 *   `source`.
 * - The only rows merged are the reference's (the PyTorch cell every shard repeats) from sources
 *   on the same machine with the same versions: the first is kept and a note says which were
 *   merged into it (each source's "vs PyTorch" ratios stay those measured against its own).
 */
export function mergeReports(sources: MergeSource[]): Report {
  if (sources.length < 2) throw new MergeError('merge: give at least two reports');
  const [first] = sources;
  checkDistinctRuns(sources);
  for (const s of sources.slice(1)) checkMergeable(first!.report, first!.file, s.report, s.file);
  const machineOf = (r: Report) => machineLabel(r.environment);
  const machines = [...new Set(sources.map((s) => machineOf(s.report)))];
  const key = (backend: string, machine: string) => `${backend}\u0000${machine}`;
  // How many sources measured each backend on each machine: more than one means side by side.
  const measuredBy = new Map<string, number>();
  const firstReference = new Map<string, { row: BackendResult; source: number }>();
  const mergedReference: string[] = [];
  const kept: { row: BackendResult; source: number; machine: string }[] = [];
  sources.forEach((s, k) => {
    const machine = machineOf(s.report);
    for (const r of s.report.results) {
      if (r.kind === 'reference') {
        const prior = firstReference.get(key(r.backend, machine));
        if (prior && same(prior.row.versions, r.versions) && prior.row.threads === r.threads) {
          mergedReference.push(`${r.backend} of ${sourceLabel(k)} (${s.file}) into the row of ${sourceLabel(prior.source)} (${sources[prior.source]!.file})`);
          continue;
        }
        if (!prior) firstReference.set(key(r.backend, machine), { row: r, source: k });
      }
      measuredBy.set(key(r.backend, machine), (measuredBy.get(key(r.backend, machine)) ?? 0) + 1);
      kept.push({ row: r, source: k, machine });
    }
  });
  const results: BackendResult[] = [];
  const rename = new Map<string, string>(); // source index + backend -> row name in the merged report
  for (const { row, source, machine } of kept) {
    const sideBySide = (measuredBy.get(key(row.backend, machine)) ?? 0) > 1;
    let name = row.backend;
    if (machines.length > 1) name = `${name} @ ${machine}`;
    if (sideBySide) name = `${name} [${sourceLabel(source)}]`;
    rename.set(`${source}\u0000${row.backend}`, name);
    results.push({ ...row, backend: name, machine, ...(sideBySide ? { source: sources[source]!.file } : {}) });
  }
  const comparisons: NonNullable<Report['comparisons']>['rows'] = [];
  sources.forEach((s, k) => {
    for (const c of s.report.comparisons?.rows ?? []) {
      const name = rename.get(`${k}\u0000${c.backend}`);
      if (name) comparisons.push({ ...c, backend: name });
    }
  });
  const sideBySide = [...measuredBy].filter(([, n]) => n > 1).map(([k]) => k.split('\u0000')[0]!);
  const backends = results.map((r) => r.backend);
  const now = new Date().toISOString();
  const statuses = sources.map((s) => s.report.status);
  return {
    schema: REPORT_SCHEMA_ID,
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: first!.report.tool,
    status: statuses.every((x) => x === 'complete') ? 'complete' : statuses.includes('interrupted') ? 'interrupted' : statuses.includes('running') ? 'running' : 'complete-with-errors',
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
      `merged from ${sources.length} reports: ${sources.map((s, k) => `${sourceLabel(k)} ${s.file} (${machineOf(s.report)}, ${s.report.createdAt})`).join('; ')}`,
      'ratios to the reference were measured inside each source report (paired windows of one machine and run)',
      ...(mergedReference.length ? [`merged the repeated reference row${mergedReference.length > 1 ? 's' : ''} (same machine, same versions): ${mergedReference.join('; ')}`] : []),
      ...(sideBySide.length ? [`measured by several sources on the same machine, kept side by side as "<backend> [source N]": ${[...new Set(sideBySide)].join(', ')}`] : []),
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
