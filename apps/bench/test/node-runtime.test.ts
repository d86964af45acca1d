// The runtime facts the report records (run/node-runtime.ts): Node's end of life, the V8 flag
// the harness gives its children on Node 20, and that the flag really turns relaxed SIMD on in
// a child process started the way the harness starts its cells.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childExecArgv, childV8Flags, detectWasmFeatures, NODE_END_OF_LIFE, nodeSupport } from '../src/run/node-runtime.js';

describe('nodeSupport', () => {
  it('knows the end of life of majors 18 to 26 and compares it with the day given', () => {
    for (let major = 18; major <= 26; major++) expect(NODE_END_OF_LIFE[major], `Node ${major}`).toMatch(/^20\d\d-\d\d-\d\d$/);
    const day = new Date('2026-12-07T02:00:00Z');
    expect(nodeSupport('v20.20.2', day)).toEqual({ major: 20, endOfLife: NODE_END_OF_LIFE[20], pastEndOfLife: true });
    expect(nodeSupport('26.1.0', day)).toEqual({ major: 26, endOfLife: NODE_END_OF_LIFE[26], pastEndOfLife: false });
    // The EOL day itself is still supported; the next day is not.
    expect(nodeSupport('v22.0.0', new Date(`${NODE_END_OF_LIFE[22]}T23:59:59Z`)).pastEndOfLife).toBe(false);
    expect(nodeSupport('v22.0.0', new Date(new Date(`${NODE_END_OF_LIFE[22]}T23:59:59Z`).getTime() + 1000)).pastEndOfLife).toBe(true);
    expect(nodeSupport('v99.0.0', day)).toEqual({ major: 99, endOfLife: null, pastEndOfLife: null });
  });
});

describe('child V8 flags', () => {
  it('only Node 20 and older get the relaxed-SIMD flag (newer Nodes reject unknown flags)', () => {
    expect(childV8Flags('v20.20.2')).toEqual(['--experimental-wasm-relaxed-simd']);
    expect(childV8Flags('v22.12.0')).toEqual([]);
    expect(childV8Flags('v26.0.0')).toEqual([]);
  });

  it('a child started with childExecArgv() validates relaxed SIMD, and the features say so', async () => {
    const probe = "import('wasm-feature-detect').then(async (f) => console.log(JSON.stringify([await f.simd(), await f.relaxedSimd()])))";
    const out = execFileSync(process.execPath, [...childExecArgv(), '-e', probe], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, true]);
    const features = await detectWasmFeatures();
    expect(features).toMatchObject({ simd: true, relaxedSimd: true, childV8Flags: childV8Flags() });
  });
});
