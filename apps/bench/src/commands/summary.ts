import { summarize, formatSummary } from '@lenet/model';
import { resolveModel } from '@lenet/model/node';
import { jsonLine } from '../format.js';
import { userPath } from '../paths.js';

export async function summaryCommand(opts: { model: string; json?: boolean }): Promise<void> {
  const spec = await resolveModel(opts.model.endsWith('.json') ? userPath(opts.model) : opts.model);
  const s = summarize(spec);
  if (opts.json) {
    jsonLine({ model: spec.name, spec, layers: s.layers, totalParams: s.totalParams, totalMacs: s.totalMacs, inputShape: s.inputShape, outputShape: s.outputShape });
    return;
  }
  process.stdout.write(formatSummary(s) + '\n');
}
