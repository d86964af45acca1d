// IDX bytes in, reproducible batches out. Runs anywhere (no files, no network): it writes a
// tiny 40-image dataset as IDX bytes first, as `fetch` or `readFile` would give them to you.
import { BatchAugmenter, Batcher, classCounts, encodeIdx, parseImageSplit, stratifiedSubset } from '@lenet/datasets';

const count = 40;
const pixels = new Uint8Array(count * 28 * 28);
const labels = new Uint8Array(count);
for (let i = 0; i < count; i++) {
  labels[i] = i % 10;
  pixels.fill(255, i * 784 + labels[i] * 56, i * 784 + labels[i] * 56 + 28); // one bright row per class
}
const imagesBytes = encodeIdx({ dtype: 'uint8', dims: [count, 28, 28], data: pixels });
const labelsBytes = encodeIdx({ dtype: 'uint8', dims: [count], data: labels });

// The same call parses real (decompressed) Fashion-MNIST files; gunzipWeb/gunzip handle .gz.
const split = parseImageSplit(imagesBytes, labelsBytes, { dataset: 'fashion-mnist', split: 'train' });
console.log(split.count, 'images;', 'per class:', classCounts(split).join(' '));

// Seeded order: the same seed gives the same batches on every machine and backend.
const batcher = new Batcher(split, { batchSize: 16, seed: 0 }); // shuffle: true, lastBatch: 'partial'
const augment = new BatchAugmenter({ maxShift: 1, hflip: true }, 0);
for (let epoch = 0; epoch < 2; epoch++) {
  for (const { x, y, n } of batcher.epoch(epoch)) {
    // x: Float32Array NCHW pixels/255 (first n*784 values valid), y: Int32Array (first n valid)
    augment.apply(x, n, epoch); // optional: random shifts / flips, in place, seeded
    console.log(`epoch ${epoch}: batch of ${n}, first labels ${Array.from(y.subarray(0, 4)).join(',')}`);
  }
}

const small = stratifiedSubset(split, 20, 0); // 2 per class, original order kept
console.log('subset:', small.count, 'images');
