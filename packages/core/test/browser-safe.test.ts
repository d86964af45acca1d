import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as core from '../src/index.js';

describe('entry "." is browser-safe', () => {
  it('no source file imports node: modules or uses process/Buffer', () => {
    const dir = join(import.meta.dirname, '../src');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });

  it('exports the agreed API', () => {
    for (const name of [
      'BackendInputError', 'checkPredictInput', 'checkTrainInput', 'softmaxCrossEntropy', 'evaluate', 'train',
      'NonFiniteLossError', 'referenceForward', 'referenceLossAndGradients', 'referenceSgdStep',
      'conformanceSuite', 'referenceBackend',
    ]) {
      expect(core, name).toHaveProperty(name);
    }
  });
});
