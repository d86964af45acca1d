import { initWeights, summarize } from '@lenet/model';
import { resolveModel, saveWeightsFile } from '@lenet/model/node';
import { int, jsonLine } from '../format.js';
import { userPath } from '../paths.js';
import { checkOutputFile } from '../safety/outputs.js';
import { checkModelSize } from '../weights.js';

export async function initCommand(opts: { model: string; seed: number; out: string; json?: boolean }): Promise<void> {
  const spec = await resolveModel(opts.model.endsWith('.json') ? userPath(opts.model) : opts.model);
  checkModelSize(spec, opts.model.endsWith('.json') ? userPath(opts.model) : undefined);
  const out = checkOutputFile(userPath(opts.out), '--out');
  const weights = initWeights(spec, opts.seed);
  await saveWeightsFile(out, weights, { spec: JSON.stringify(spec), seed: String(opts.seed), init: 'xavier-uniform' });
  const params = summarize(spec).totalParams;
  if (opts.json) jsonLine({ model: spec.name, seed: opts.seed, out, params });
  else process.stdout.write(`wrote ${out}: ${spec.name}, seed ${opts.seed}, ${int(params)} parameters (Xavier-uniform, zero bias)\n`);
}
