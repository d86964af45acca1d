// `run --shard i/n` and `lenet-bench merge` end to end through the built CLI: two shards of one
// run on this machine merge into the single run's cell set (the reference, which each shard
// runs, once); reports that measured different things are refused, naming the field.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-process.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/run/types.js';
import { parseShard, shardCells } from '../src/report/merge.js';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-merge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const torchAvailable = spawnSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
const TINY = ['--profile', 'smoke', '--limit', '300', '--train-steps', '2', '--inference-seconds', '0.2', '--agreement-images', '20'];

const run = (args: string[]) => runCli(args, tmp);
const read = (dir: string) => JSON.parse(readFileSync(join(tmp, dir, 'report.json'), 'utf8')) as Report;

describe('shards', () => {
  it('every non-reference cell in exactly one shard, the reference in all', async () => {
    const cells = ['a', 'b', 'c', 'd', 'e', 'pytorch'];
    const isRef = (c: string) => c === 'pytorch';
    const s1 = shardCells(cells, { index: 1, count: 2 }, isRef);
    const s2 = shardCells(cells, { index: 2, count: 2 }, isRef);
    expect(s1).toEqual(['a', 'c', 'e', 'pytorch']);
    expect(s2).toEqual(['b', 'd', 'pytorch']);
    expect(parseShard('3/2')).toBeNull();
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
  });
});

describe('run --shard + merge', () => {
  const backends = ['plain', 'plain-js', 'ort-node', ...(torchAvailable ? ['pytorch'] : [])];
  beforeAll(async () => {
    for (const i of [1, 2]) {
      const r = await run(['run', '--backends', backends.join(','), ...TINY, '--shard', `${i}/2`, '--out', `s${i}`]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 600_000);

  it('two shards merge into the cell set of the whole run, the reference once', async () => {
    expect(read('s1').config.backends).toEqual(['plain', 'ort-node', ...(torchAvailable ? ['pytorch'] : [])]);
    expect(read('s2').config.backends).toEqual(['plain-js', ...(torchAvailable ? ['pytorch'] : [])]);
    const r = await run(['merge', 's1', 's2', '--out', 'merged', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const m = read('merged');
    expect(m.results.map((x) => x.backend).sort()).toEqual([...backends].sort());
    expect(m.machines).toHaveLength(2);
    expect(m.results.every((x) => typeof x.machine === 'string')).toBe(true);
    if (torchAvailable) expect(m.comparisons!.rows.filter((c) => c.metric === 'infer-b256').map((c) => c.backend).sort()).toEqual(['ort-node', 'plain', 'plain-js']);
    expect(readFileSync(join(tmp, 'merged', 'report.md'), 'utf8')).toMatch(/Merged source:/);
    // The merged report re-renders and compares like any other.
    expect((await run(['report', 'merged'])).code).toBe(0);
  });

  it('refuses reports that measured different things, naming the field', async () => {
    const other = JSON.parse(readFileSync(join(tmp, 's2', 'report.json'), 'utf8')) as Report;
    const write = (name: string, mutate: (r: Report) => void) => {
      const copy = JSON.parse(JSON.stringify(other)) as Report;
      mutate(copy);
      mkdirSync(join(tmp, name), { recursive: true });
      writeFileSync(join(tmp, name, 'report.json'), JSON.stringify(copy));
    };
    write('seed', (r) => (r.config.seed = 7));
    write('data', (r) => (r.config.dataSource.files[0]!.sha256 = '0'.repeat(64)));
    write('model', (r) => ((r.config.modelSpec.layers[0] as { outChannels: number }).outChannels = 8));
    for (const [dir, field] of [['seed', 'config.seed'], ['data', 'data SHA-256'], ['model', 'config.modelSpec']] as const) {
      const r = await run(['merge', 's1', dir, '--out', `bad-${dir}`]);
      expect(r.code, dir).toBe(1);
      expect(r.stderr).toContain(field);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(tmp, `bad-${dir}`, 'report.json'))).toBe(false);
    }
    expect((await run(['merge', 's1', '--out', 'one'])).code).toBe(2);
  });
});
