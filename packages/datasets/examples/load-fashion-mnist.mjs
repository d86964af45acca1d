// Node.js: find Fashion-MNIST on this machine (a data dir, $LENET_DATA_DIR, the Debian package
// dataset-fashion-mnist) or download it, verify every file's SHA-256, and parse it.
import { classCounts } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';

const { train, test, source } = await loadDataset('fashion-mnist', {
  onProgress: (p) => console.log(`${p.file}: ${p.received}/${p.total ?? '?'} bytes`), // only if it downloads
});
console.log(`${train.count} + ${test.count} images from ${source.kind} (${source.dir})`);
console.log(train.classNames[0], classCounts(train)[0]); // T-shirt/top 6000
