// Use our kernels from your own TF.js model: d2l's LeNet as tf.sequential + tf.layers, trained
// with trainOnBatch on the stock wasm backend. Stock tfjs-backend-wasm 4.22 throws "Kernel
// 'Conv2DBackpropFilter' not registered for backend 'wasm'" on the first step (tfjs#8474);
// one call to registerWasmConv2DBackpropFilter() adds that kernel, and it trains.
// Needs: npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConv2DBackpropFilter } from '@lenet/backend-tfjs';

registerWasmConv2DBackpropFilter();
await tf.setBackend('wasm');

const model = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, activation: 'sigmoid', padding: 'same' }),
    tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'sigmoid' }),
    tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 120, activation: 'sigmoid' }),
    tf.layers.dense({ units: 84, activation: 'sigmoid' }),
    tf.layers.dense({ units: 10 }),
  ],
});
// d2l: SGD lr 0.1, softmax cross-entropy on the logits (the last layer has no softmax).
model.compile({ optimizer: tf.train.sgd(0.1), loss: (labels, logits) => tf.losses.softmaxCrossEntropy(labels, logits) });

const images = tf.randomUniform([32, 28, 28, 1]); // NHWC in [0, 1], like Fashion-MNIST / 255
const labels = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10);
for (let step = 1; step <= 3; step++) {
  const loss = await model.trainOnBatch(images, labels);
  console.log(`step ${step}: loss ${loss.toFixed(4)}`);
}
console.log(`logits of one image: ${model.predict(images.slice(0, 1)).shape}, on ${tf.getBackend()}`);
