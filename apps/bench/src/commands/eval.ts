import { evaluate } from '@lenet/core';
import type { DatasetName } from '@lenet/datasets';
import { describeSource, loadData, sourceJson } from '../data.js';
import { fixed, jsonLine, pct, table } from '../format.js';
import { getUsableBackend } from '../registry.js';
import { loadWeightsArg } from '../weights.js';

export async function evalCommand(opts: {
  backend: string;
  weights: string;
  model?: string;
  dataset: DatasetName;
  dataDir?: string;
  batchSize: number;
  threads?: number;
  limit?: number;
  json?: boolean;
}): Promise<void> {
  const { file, spec, weights } = await loadWeightsArg(opts.weights, opts.model);

  const backend = await getUsableBackend(opts.backend, false);
  const data = await loadData(opts.dataset, { dataDir: opts.dataDir, limit: opts.limit, quiet: opts.json });
  const session = await backend.createSession(spec, weights, { threads: opts.threads, maxBatchSize: opts.batchSize });
  try {
    const t0 = performance.now();
    const ev = await evaluate(session, data.test, { batchSize: opts.batchSize });
    const seconds = (performance.now() - t0) / 1000;
    if (opts.json) {
      jsonLine({ backend: backend.name, model: spec.name, dataset: opts.dataset, dataSource: sourceJson(data.source), weights: file, count: ev.count, accuracy: ev.accuracy, loss: ev.loss, confusion: ev.confusion, seconds });
      return;
    }
    const names = data.test.classNames;
    const out = [
      `${backend.name} on ${opts.dataset} test split (${ev.count} images from ${describeSource(data.source)}), ${spec.name}, weights ${file}`,
      `accuracy ${pct(ev.accuracy)}  loss ${fixed(ev.loss)}  (${seconds.toFixed(2)} s)`,
      '',
      'confusion matrix (rows: true class, columns: predicted)',
      table(
        ['true \\ pred', ...names.map((_, c) => String(c)), 'recall'],
        ev.confusion.map((row, c) => {
          const total = row.reduce((a, b) => a + b, 0);
          return [`${c} ${names[c]}`, ...row.map(String), total ? pct(row[c] / total, 1) : '-'];
        }),
      ),
    ];
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await session.dispose();
  }
}
