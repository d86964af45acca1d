import { initWeights, summarize } from '@lenet/model';
import { resolveModel, saveWeightsFile } from '@lenet/model/node';
import { int, jsonLine } from '../format.js';
import { userPath } from '../paths.js';

export async function initCommand(opts: { model: string; seed: number; out: string; json?: boolean }): Promise<void> {
  const spec = await resolveModel(opts.model.endsWith('.json') ? userPath(opts.model) : opts.model);
  const weights = initWeights(spec, opts.seed);
  const out = userPath(opts.out);
  await saveWeightsFile(out, weights, { spec: JSON.stringify(spec), seed: String(opts.seed), init: 'xavier-uniform' });
  const params = summarize(spec).totalParams;
  if (opts.json) jsonLine({ model: spec.name, seed: opts.seed, out, params });
  else process.stdout.write(`wrote ${out}: ${spec.name}, seed ${opts.seed}, ${int(params)} parameters (Xavier-uniform, zero bias)\n`);
}
