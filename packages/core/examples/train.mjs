// The training loop and evaluation, written once for every backend. Here on the float64
// reference backend (slow, the ground truth) and a 200-image subset of Fashion-MNIST; any
// Backend (plain, tfjs-*, ort-*) is used the same way.
import { evaluate, referenceBackend, train } from '@lenet/core';
import { stratifiedSubset } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset, initWeights } from '@lenet/model';

const spec = getPreset('lenet5-modern');
const data = await loadDataset('fashion-mnist'); // see @lenet/datasets: where it looks
const trainSplit = stratifiedSubset(data.train, 200, 0);
const test = stratifiedSubset(data.test, 100, 0);
const session = await referenceBackend.createTrainingSession(spec, initWeights(spec, 0), { maxBatchSize: 100 });
const controller = new AbortController(); // e.g. process.once('SIGINT', () => controller.abort())

const result = await train({
  session, spec, train: trainSplit, test,
  epochs: 2, batchSize: 20, lr: 0.1, seed: 0, // defaults (TRAIN_DEFAULTS): 10 epochs, batch 128, lr 0.1, seed 0
  maxSeconds: 600, signal: controller.signal,
  onEpoch: (m) => console.log(`epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(3)}, val accuracy ${m.valAccuracy}`),
});
console.log('stopped by', result.stoppedBy ?? 'epochs');
const final = await evaluate(session, test, { batchSize: 100 }); // { count, accuracy, loss, confusion }
console.log(`${final.count} test images: accuracy ${final.accuracy}`);
await session.dispose();
