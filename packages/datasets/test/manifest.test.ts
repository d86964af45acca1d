// The repo's datasets/<name>/manifest.json files document the catalog for people and other
// tools; they must never drift from CATALOG.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATALOG, DATASET_NAMES } from '../src/index.js';

const repoDatasets = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'datasets');

describe.skipIf(!existsSync(repoDatasets))('datasets/<name>/manifest.json', () => {
  it.each(DATASET_NAMES)('%s matches CATALOG', (name) => {
    const manifest = JSON.parse(readFileSync(join(repoDatasets, name, 'manifest.json'), 'utf8'));
    const info = CATALOG[name];
    expect(manifest.name).toBe(name);
    expect(manifest.classNames).toEqual(info.classNames);
    expect(manifest.mirrors).toEqual(info.mirrors);
    const expected = Object.values(info.files).flatMap((s) => Object.values(s));
    expect(manifest.files.map((f: { file: string; sha256: string; bytes: number }) => [f.file, f.sha256, f.bytes])).toEqual(
      expected.map((f) => [f.file, f.sha256, f.bytes]),
    );
  });
});
