/**
 * report.json validation against schema/report.schema.json (shipped in the package): on every
 * write (a bug in the harness must not produce a file readers reject) and on every read
 * (`report`, `compare`, `run --resume`).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READABLE_SCHEMA_VERSIONS, type Report } from '../run/types.js';

export const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schema', 'report.schema.json');

/** A report.json that is missing, not JSON, or does not match the schema. */
export class ReportFormatError extends Error {
  override name = 'ReportFormatError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    // Without ajv-formats: an RFC 3339 timestamp as Date#toISOString writes it.
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  }
  return validator;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '(top level)';
  if (e.keyword === 'additionalProperties') return `${at}: unexpected property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'required') return `${at}: missing property "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'enum') return `${at}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  if (e.keyword === 'const') return `${at}: must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
  return `${at}: ${e.message}`;
}

/** Throws ReportFormatError listing (up to 8) problems, each with its JSON path. */
export function validateReport(value: unknown, file: string): asserts value is Report {
  if (value && typeof value === 'object') {
    const v = (value as { schemaVersion?: unknown; schema?: unknown });
    if (v.schema === 'lenet-bench/report' && typeof v.schemaVersion === 'number' && !(READABLE_SCHEMA_VERSIONS as readonly number[]).includes(v.schemaVersion)) {
      throw new ReportFormatError(`${file}: report schema version ${v.schemaVersion} is not supported (this lenet-bench reads versions ${READABLE_SCHEMA_VERSIONS.join(' and ')})`, file);
    }
  }
  const validate = getValidator();
  if (validate(value)) return;
  // oneOf failures repeat every branch's complaint: keep the most specific ones first.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf');
  const lines = [...new Set((errors.length ? errors : validate.errors ?? []).map(describe))];
  const shown = lines.slice(0, 8).map((l) => `  ${l}`);
  if (lines.length > 8) shown.push(`  ... and ${lines.length - 8} more`);
  throw new ReportFormatError(`${file} does not match the report schema (${SCHEMA_FILE}):\n${shown.join('\n')}`, file);
}

/** Reads and validates DIR/report.json (or a report.json path). */
export async function readReport(path: string): Promise<{ report: Report; file: string }> {
  const file = path.endsWith('.json') ? path : join(path, 'report.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ReportFormatError(code === 'ENOENT' ? `${file} not found (expected a folder written by lenet-bench run)` : `${file}: ${(err as Error).message}`, file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ReportFormatError(`${file} is not valid JSON: ${(err as Error).message}`, file);
  }
  validateReport(value, file);
  return { report: value, file };
}
