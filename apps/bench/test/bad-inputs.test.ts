// Fuzz-style table: the built CLI against bad files, bad flags and bad output paths. For every
// row: the exit code, exactly one "error: ..." line on stderr (plus the usage hint for exit 2),
// no stack frames, no "unexpected error", and nothing left behind in the working folder.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, getPreset, initWeights, type ModelSpec } from '@lenet/model';
import { exportOnnx } from '@lenet/backend-onnxruntime';
import { runCli } from './cli-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-bad-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DEBIAN = '/usr/share/datasets/fashion-mnist';

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, tmp, env, { timeoutMs: 60_000, chdir: true });

/** Every path under `dir` with its size: what a failed command must leave unchanged. */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    let s;
    try {
      s = statSync(p);
    } catch {
      out.push(`${prefix}${name} (link)`);
      continue;
    }
    if (s.isDirectory()) out.push(`${prefix}${name}/`, ...tree(p, `${prefix}${name}/`));
    else out.push(`${prefix}${name} ${s.size}`);
  }
  return out;
}

beforeAll(() => {
  const spec = getPreset('lenet5');
  const weights = initWeights(spec, 0);
  writeFileSync(join(tmp, 'garbage.safetensors'), Uint8Array.from({ length: 200 }, (_, i) => (i * 31 + 7) & 255));
  writeFileSync(join(tmp, 'badmeta.safetensors'), encodeSafetensors(weights, { spec: 'lenet5 please' }));
  const onnx = exportOnnx(spec, weights);
  writeFileSync(join(tmp, 'truncated.onnx'), onnx.subarray(0, onnx.length >> 1));
  // Metadata says tanh; the graph's nodes say Relu (same length, so the bytes stay valid protobuf).
  const tanh: ModelSpec = { ...spec, layers: spec.layers.map((l) => (l.type === 'activation' ? { ...l, fn: 'tanh' as const } : l)) };
  const text = Buffer.from(exportOnnx(tanh, initWeights(tanh, 0))).toString('latin1').replace(/Tanh/g, 'Relu');
  writeFileSync(join(tmp, 'lying.onnx'), Buffer.from(text, 'latin1'));
  writeFileSync(join(tmp, 'notjson.json'), '{"name": "x", layers: [}');
  const huge = getPreset('lenet5');
  (huge.layers[0] as { outChannels: number }).outChannels = 1_000_000;
  writeFileSync(join(tmp, 'huge.json'), JSON.stringify(huge));
  writeFileSync(join(tmp, 'a-file'), 'not a folder\n');
  mkdirSync(join(tmp, 'a-folder'));
  mkdirSync(join(tmp, 'empty-run'));
  mkdirSync(join(tmp, 'corrupt-run'));
  writeFileSync(join(tmp, 'corrupt-run', 'report.json'), '{"schema": ');
  mkdirSync(join(tmp, 'bad-repro'));
  writeFileSync(join(tmp, 'bad-repro', 'config.json'), '[1, 2');
  symlinkSync(join(tmp, 'loop-b'), join(tmp, 'loop-a'));
  symlinkSync(join(tmp, 'loop-a'), join(tmp, 'loop-b'));
  symlinkSync(join(tmp, 'nowhere', 'x'), join(tmp, 'dangling.safetensors'));
  const data = join(tmp, 'data');
  mkdirSync(data);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) symlinkSync(join(DEBIAN, `${f}.gz`), join(data, `${f}.gz`));
  const raw = gunzipSync(readFileSync(join(DEBIAN, 't10k-labels-idx1-ubyte.gz')));
  raw[8] = (raw[8]! + 1) % 10;
  writeFileSync(join(data, 't10k-labels-idx1-ubyte.gz'), gzipSync(raw));
  const odd = join(tmp, 'odd-data');
  mkdirSync(odd);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) symlinkSync(join(DEBIAN, `${f}.gz`), join(odd, `${f}.gz`));
  mkdirSync(join(odd, 't10k-labels-idx1-ubyte.gz'));
  // One flipped byte in a gzip: in the trailer's CRC (the content still inflates: expected vs
  // actual SHA-256 of it), and in the middle of the deflate stream (no content to hash).
  for (const [name, at] of [['crc-data', -6], ['mid-data', 0.5]] as const) {
    const d = join(tmp, name);
    mkdirSync(d);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) symlinkSync(join(DEBIAN, `${f}.gz`), join(d, `${f}.gz`));
    const gz = readFileSync(join(DEBIAN, 't10k-labels-idx1-ubyte.gz'));
    gz[at < 0 ? gz.length + at : Math.floor(gz.length * at)] ^= 0x01;
    writeFileSync(join(d, 't10k-labels-idx1-ubyte.gz'), gz);
  }
  writeFileSync(join(tmp, 'l5.safetensors'), encodeSafetensors(weights, { spec: JSON.stringify(spec) }));
  // An ONNX file whose first conv weight is NaN (exportOnnx refuses NaN: patch the float's bytes).
  const nanSource = initWeights(spec, 0);
  const first = nanSource.get('conv1.weight')!.data;
  const bytes = Buffer.from(exportOnnx(spec, nanSource));
  const at = bytes.indexOf(Buffer.from(Float32Array.of(first[0]!, first[1]!, first[2]!).buffer));
  if (at < 0) throw new Error('conv1.weight not found in the exported ONNX bytes');
  bytes.writeFloatLE(Number.NaN, at);
  writeFileSync(join(tmp, 'nan.onnx'), bytes);
});

const TINY = ['--profile', 'smoke', '--limit', '300', '--train-steps', '1', '--inference-seconds', '0.2', '--no-torch'];

// [what, args, exit code, pattern of the error line, env]
const ROWS: [string, string[], number, RegExp, Record<string, string>?][] = [
  // files
  ['missing weights', ['eval', '--weights', 'missing.safetensors'], 1, /missing\.safetensors/],
  ['garbage safetensors', ['eval', '--weights', 'garbage.safetensors'], 1, /garbage\.safetensors/],
  ['non-JSON spec metadata', ['export-onnx', '--weights', 'badmeta.safetensors', '--out', 'm.onnx'], 1, /badmeta\.safetensors: metadata "spec" is not valid JSON: expected a model spec JSON object/],
  ['truncated ONNX', ['eval', '--weights', 'truncated.onnx'], 1, /truncated\.onnx: not an ONNX model/],
  ['ONNX metadata lying about the graph', ['eval', '--weights', 'lying.onnx'], 1, /lying\.onnx: metadata "lenet\.spec" disagrees with the graph at layer 1, node "[^"]+" \(#1, Relu\): expected activation relu \(graph\), got activation tanh \(metadata\)/],
  ['spec file that is not JSON', ['summary', '--model', 'notjson.json'], 1, /notjson\.json: model spec is not valid JSON/],
  ['spec too large for memory', ['init', '--seed', '0', '--model', 'huge.json', '--out', 'huge.safetensors'], 1, /too large: expected at most 50,000,000 parameters, got 426,059,150.*--allow-large-model/],
  ['corrupt file in --data-dir', ['data', '--data-dir', 'data'], 1, /t10k-labels-idx1-ubyte\.gz\): expected SHA-256 [0-9a-f]{64}, got [0-9a-f]{64}/],
  ['corrupt file in LENET_DATA_DIR', ['data', '--json'], 1, /expected SHA-256 [0-9a-f]{64}, got/, { LENET_DATA_DIR: join(tmp, 'data') }],
  ['a folder where a data file should be', ['data', '--data-dir', 'odd-data'], 1, /t10k-labels-idx1-ubyte\.gz\): expected a file, got a directory/],
  ['corrupt reproduce config.json', ['reproduce', 'd2l', '--limit', '300', '--out', 'bad-repro'], 1, /bad-repro\/config\.json: expected the JSON settings object/],
  ['--resume of a folder without a report', ['run', '--resume', 'empty-run'], 1, /empty-run\/report\.json not found/],
  ['--resume of a corrupt report', ['run', '--resume', 'corrupt-run'], 1, /corrupt-run\/report\.json is not valid JSON/],
  ['gzip with a flipped CRC byte', ['data', '--data-dir', 'crc-data'], 1, /crc-data\/t10k-labels-idx1-ubyte\.gz\): expected SHA-256 [0-9a-f]{64}, got [0-9a-f]{64}/],
  ['gzip with a flipped deflate byte', ['data', '--data-dir', 'mid-data'], 1, /mid-data\/t10k-labels-idx1-ubyte\.gz\): not a valid gzip stream .*expected a gzip of the content with SHA-256 [0-9a-f]{64}/],
  ['ONNX with a NaN initializer names the file once', ['eval', '--weights', 'nan.onnx', '--limit', '10'], 1, /^error: [^/]*\/[^ ]*nan\.onnx: (?!.*nan\.onnx).*conv1\.weight.*not finite/],
  ['eval --model other than the file\'s', ['eval', '--weights', 'l5.safetensors', '--model', 'lenet5-modern', '--limit', '10'], 2, /--model lenet5-modern: .*l5\.safetensors holds model "lenet5", not "lenet5-modern"/],
  ['export-onnx --model other than the file\'s', ['export-onnx', '--weights', 'l5.safetensors', '--model', 'lenet5-modern', '--out', 'm.onnx'], 2, /l5\.safetensors holds model "lenet5"/],
  // flags
  ['--threads 0', ['run', '--threads', '0', ...TINY], 2, /--threads <n(\|list)?>.*expected a positive integer/],
  ['--threads far above the cores', ['train', '--threads', '4096', '--limit', '10'], 2, /--threads <n>.*expected at most \d+/],
  ['--epochs -1', ['train', '--epochs', '-1'], 2, /--epochs <n>.*expected a positive integer/],
  ['--lr abc', ['train', '--lr', 'abc'], 2, /--lr <x>.*expected a positive number/],
  ['unknown backend', ['run', '--backends', 'plain,nope', ...TINY], 2, /unknown backend "nope"/],
  ['--opset 12', ['export-onnx', '--weights', 'x.safetensors', '--out', 'x.onnx', '--opset', '12'], 2, /expected 13, 14 or 15/],
  ['--resume with --seed', ['run', '--resume', 'empty-run', '--seed', '1'], 2, /do not combine it with --seed/],
  ['unknown recipe', ['reproduce', 'd3l'], 2, /d3l/],
  ['unknown --model (run)', ['run', '--model', 'nope', ...TINY], 2, /--model <name\|spec\.json>.*'nope' is invalid\. expected a known model \(lenet5, lenet5-modern\) or a model spec \.json file/],
  ['unknown --model (train)', ['train', '--model', 'lenet7', '--limit', '10'], 2, /expected a known model/],
  ['--cold-starts 1000', ['run', '--cold-starts', '1000', ...TINY], 2, /--cold-starts <n>.*expected at most 30 fresh processes per backend, got 1000/],
  ['--cold-starts -1', ['run', '--cold-starts', '-1', ...TINY], 2, /--cold-starts <n>.*expected a non-negative integer/],
  ['empty --data-dir', ['train', '--data-dir', '', '--limit', '10'], 2, /--data-dir <dir>.*expected a folder holding the IDX files, got an empty path/],
  // output paths
  ['run --out under /proc', ['run', '--backends', 'plain', ...TINY, '--out', '/proc/x'], 2, /--out \/proc\/x\): expected a writable folder on a regular filesystem, got a path under \/proc/],
  ['run --out under /sys', ['run', '--backends', 'plain', ...TINY, '--out', '/sys/kernel/lenet'], 2, /got a path under \/sys/],
  ['run --out an existing file', ['run', '--backends', 'plain', ...TINY, '--out', 'a-file'], 2, /a-file\): expected a writable folder .*got an existing file/],
  ['run --out below a file', ['run', '--backends', 'plain', ...TINY, '--out', 'a-file/sub'], 2, /got a path through a file/],
  ['run --resume of a file', ['run', '--resume', 'a-file'], 2, /--resume .*a-file\): expected a writable folder/],
  ['reproduce --out an existing file', ['reproduce', 'd2l', '--out', 'a-file'], 2, /got an existing file/],
  ['reproduce --out under /proc', ['reproduce', 'd2l', '--out', '/proc/x'], 2, /got a path under \/proc/],
  ['init --out a folder', ['init', '--seed', '0', '--out', 'a-folder'], 2, /a-folder\): expected a writable file path .*got an existing folder/],
  ['init --out under /proc', ['init', '--seed', '0', '--out', '/proc/self/w.safetensors'], 2, /got a path under \/proc/],
  ['init --out a symlink loop', ['init', '--seed', '0', '--out', 'loop-a'], 2, /got a symbolic link loop/],
  ['init --out a dangling symlink', ['init', '--seed', '0', '--out', 'dangling.safetensors'], 2, /got a dangling symbolic link/],
  ['export-onnx --out below /dev/null', ['export-onnx', '--weights', 'x.safetensors', '--out', '/dev/null/m.onnx'], 2, /got a path under \/dev/],
  ['train --out under /proc', ['train', '--limit', '10', '--out', '/proc/w.safetensors'], 2, /got a path under \/proc/],
  ['train --out a folder', ['train', '--limit', '10', '--out', 'a-folder'], 2, /got an existing folder/],
  ['merge --out under /proc (it hung)', ['merge', 'corrupt-run', 'empty-run', '--out', '/proc/merged'], 2, /--out \/proc\/merged\): expected a writable folder on a regular filesystem, got a path under \/proc/],
  ['merge --out under /sys', ['merge', 'corrupt-run', 'empty-run', '--out', '/sys/x'], 2, /got a path under \/sys/],
  ['merge --out an existing file', ['merge', 'corrupt-run', 'empty-run', '--out', 'a-file'], 2, /a-file\): expected a writable folder .*got an existing file/],
  ['merge of a corrupt report', ['merge', 'corrupt-run', 'empty-run', '--out', 'merged'], 1, /corrupt-run\/report\.json is not valid JSON/],
  ['browser --train-steps 0', ['browser', '--weights', 'x.safetensors', '--train-steps', '0'], 2, /--train-steps <n>.*'0' is invalid\. expected a positive integer/],
  ['browser --screenshot under /proc', ['browser', '--weights', 'x.safetensors', '--screenshot', '/proc/x.png'], 2, /--screenshot \/proc\/x\.png\)/],
];

describe('bad inputs: exit code, one line, no stack, nothing left behind', () => {
  it.each(ROWS)('%s', async (_, args, code, pattern, env) => {
    const before = tree(tmp);
    const r = await run(args, env);
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(pattern);
    if (code === 2) {
      expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
      if (lines[1] !== undefined) expect(lines[1]).toMatch(/--help/);
    } else {
      expect(lines, r.stderr).toHaveLength(1);
    }
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(tree(tmp)).toEqual(before); // no partial output, temp, probe or lock file
  });
});
