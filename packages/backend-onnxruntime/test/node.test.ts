import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getPreset, initWeights } from '@lenet/model';
import { OnnxFormatError } from '../src/index.js';
import { readOnnxFile, writeOnnxFile } from '../src/node.js';

describe('./node: ONNX files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lenet-ort-node-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes atomically and reads back spec and weights', async () => {
    const spec = getPreset('lenet5-modern');
    const weights = initWeights(spec, 8);
    const path = join(dir, 'model.onnx');
    const size = await writeOnnxFile(path, spec, weights, { opset: 15 });
    expect(size).toBeGreaterThan(61_706 * 4);
    expect(readdirSync(dir)).toEqual(['model.onnx']); // no temp file left behind
    const back = await readOnnxFile(path);
    expect(back.spec).toEqual(spec);
    expect(Array.from(back.weights.get('fc1.weight')!.data)).toEqual(Array.from(weights.get('fc1.weight')!.data));
  });

  it('names the file in errors', async () => {
    const missing = join(dir, 'missing.onnx');
    await expect(readOnnxFile(missing)).rejects.toThrow(OnnxFormatError);
    await expect(readOnnxFile(missing)).rejects.toThrow(`${missing}: cannot read the file`);
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    await expect(readOnnxFile(junk)).rejects.toThrow(`${junk}: not an ONNX model`);
  });
});
