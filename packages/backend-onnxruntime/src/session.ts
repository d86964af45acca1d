/**
 * One TrainingSession implementation for both onnxruntime-node and onnxruntime-web: they share
 * onnxruntime-common's API, and differ only in session options and in whether outputs can be
 * written into preallocated tensors (`fetches`).
 *
 * - predict runs the exported inference model (parameters as initializers, so ORT can pre-pack
 *   them). After training steps it is rebuilt lazily from the current parameters.
 * - trainStep runs the training-step model (see training-graph.ts). With preallocated outputs
 *   (ort-node) parameters ping-pong between two sets of tensors: each step reads set A and
 *   writes the updated values straight into set B, then they swap; nothing is allocated or
 *   copied in JS per step. Otherwise (ort-web) the step's output tensors become the next
 *   step's inputs as they are: onnxruntime-web 1.30's wasm backend accepts preallocated CPU
 *   output tensors in `fetches` but leaves them unfilled (checked), so it must not use them.
 * - with `dataParallel` (Node, threads > 1) trainStep runs the batch in chunks on 1-thread
 *   sessions at the same time and applies the update here instead (data-parallel.ts).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { SgdMomentum, TrainingSession } from '@lenet/core';
import { checkOptimizer, checkPredictInput, checkSessionInput, checkTrainInput, refuseOptimizer } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { inputSize, numClasses, paramInfos } from '@lenet/model';
import { INPUT_NAME, OUTPUT_NAME, exportOnnx } from './export.js';
import { LABELS_NAME, LOSS_NAME, LR_NAME, buildTrainingGraph, gradName, nextName } from './training-graph.js';
import type { TrainingGraphOptions } from './training-graph.js';
import type { DataParallelTrainer, OrtChunkRuntime } from './data-parallel.js';

export type { OrtModule } from './ort-module.js';
import type { OrtModule } from './ort-module.js';

export interface SessionFlavor {
  backendName: string;
  ort: OrtModule;
  sessionOptions: InferenceSession.SessionOptions;
  /** Outputs can be preallocated tensors passed as `fetches`. */
  preallocatedOutputs: boolean;
  /** Runtime-specific training-graph options (ort-node: the NCHWc block size, if usable). */
  trainingGraph?: () => Promise<TrainingGraphOptions>;
  /**
   * Node only: train data-parallel (data-parallel.ts: chunks of the batch in 1-thread sessions on
   * worker threads) instead of on one session's intra-op threads.
   */
  dataParallel?: { threads: number; runtime: OrtChunkRuntime; mainRunsChunk: boolean };
}

type FloatTensor = OrtTensor & { data: Float32Array };

export class OrtSession implements TrainingSession {
  private readonly spec: ModelSpec;
  private readonly names: string[];
  private readonly shapes: number[][];
  private readonly size: number;
  private readonly classes: number;
  /** Current parameters (canonical order). */
  private current: FloatTensor[];
  /** The other half of the ping-pong pair (preallocated-output flavour only). */
  private spare: FloatTensor[] | undefined;
  private infer: InferenceSession | undefined;
  private inferStale = true;
  private train: InferenceSession | undefined;
  private parallel: DataParallelTrainer | undefined;
  private readonly lrBuf = new Float32Array(1);
  private readonly lossBuf = new Float32Array(1);
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(
    private readonly flavor: SessionFlavor,
    spec: ModelSpec,
    weights: Weights,
    /** The optimizer when it is not plain SGD (data-parallel training only). */
    private readonly optimizer: SgdMomentum | undefined,
  ) {
    this.spec = spec;
    const infos = paramInfos(spec);
    this.names = infos.map((p) => p.name);
    this.shapes = infos.map((p) => p.shape);
    this.size = inputSize(spec);
    this.classes = numClasses(spec);
    this.current = infos.map((p) => this.floatTensor(Float32Array.from(weights.get(p.name)!.data), p.shape));
  }

  /**
   * `optimizer`: TrainingOptions.optimizer. Only the data-parallel path (Node) can apply one (the
   * engine does the update); the single-graph path bakes plain SGD into the training graph, so
   * there a non-default optimizer is refused by name.
   */
  static async create(flavor: SessionFlavor, spec: ModelSpec, weights: Weights, optimizer?: unknown): Promise<OrtSession> {
    const sgd = checkOptimizer(flavor.backendName, optimizer);
    if (sgd && !flavor.dataParallel) refuseOptimizer(`${flavor.backendName} (outside Node's data-parallel engine)`, sgd);
    const valid = checkSessionInput(spec, weights, flavor.backendName);
    const session = new OrtSession(flavor, valid, weights, sgd);
    // Build the inference session now so createSession fails early if ORT cannot load it.
    await session.ensureInference();
    return session;
  }

  private floatTensor(data: Float32Array, shape: number[]): FloatTensor {
    return new this.flavor.ort.Tensor('float32', data, shape) as FloatTensor;
  }

  /** Runs `fn` after every earlier call finished: ORT sessions must not run concurrently. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.disposed) throw new Error(`${this.flavor.backendName}: session was disposed`);
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private currentWeights(): Weights {
    const w: Weights = new Map();
    this.names.forEach((name, i) => w.set(name, { shape: [...this.shapes[i]], data: (this.current[i].data as Float32Array).slice() }));
    return w;
  }

  private async ensureInference(): Promise<InferenceSession> {
    if (this.infer && !this.inferStale) return this.infer;
    const bytes = exportOnnx(this.spec, this.currentWeights());
    const fresh = await this.flavor.ort.InferenceSession.create(bytes, this.flavor.sessionOptions);
    if (this.infer) await this.infer.release();
    this.infer = fresh;
    this.inferStale = false;
    return fresh;
  }

  /** The data-parallel trainer when the flavor asks for one (created on first use). */
  private async ensureParallel(): Promise<DataParallelTrainer> {
    if (this.parallel) return this.parallel;
    const { DataParallelTrainer: Trainer } = await import('./data-parallel.js');
    const graph = buildTrainingGraph(this.spec, { ...(await this.flavor.trainingGraph?.()), gradientsOnly: true });
    const [c, h, w] = this.spec.inputShape;
    this.parallel = await Trainer.create({
      backendName: this.flavor.backendName,
      ort: this.flavor.ort,
      graph: graph.bytes,
      sessionOptions: this.flavor.sessionOptions,
      threads: this.flavor.dataParallel!.threads,
      runtime: this.flavor.dataParallel!.runtime,
      mainRunsChunk: this.flavor.dataParallel!.mainRunsChunk,
      inputName: INPUT_NAME,
      labelsName: LABELS_NAME,
      lossName: LOSS_NAME,
      inputShape: [c, h, w],
      params: this.names.map((name, i) => ({ name, gradName: gradName(name), shape: [...this.shapes[i]], size: this.shapes[i].reduce((a, b) => a * b, 1) })),
      ...(this.optimizer ? { optimizer: this.optimizer } : {}),
    });
    this.spare = this.shapes.map((shape) => this.floatTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape));
    return this.parallel;
  }

  private async ensureTraining(): Promise<InferenceSession> {
    if (this.train) return this.train;
    const graph = buildTrainingGraph(this.spec, await this.flavor.trainingGraph?.());
    this.train = await this.flavor.ort.InferenceSession.create(graph.bytes, this.flavor.sessionOptions);
    if (this.flavor.preallocatedOutputs) {
      this.spare = this.shapes.map((shape) => this.floatTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape));
    }
    return this.train;
  }

  private images(x: Float32Array, n: number): OrtTensor {
    const [c, h, w] = this.spec.inputShape;
    const len = n * this.size;
    return new this.flavor.ort.Tensor('float32', x.length === len ? x : x.subarray(0, len), [n, c, h, w]);
  }

  predict(x: Float32Array, n: number): Promise<Float32Array> {
    checkPredictInput(this.spec, x, n);
    return this.serial(async () => {
      const session = await this.ensureInference();
      const feeds = { [INPUT_NAME]: this.images(x, n) };
      if (this.flavor.preallocatedOutputs) {
        // ORT writes the logits straight into the caller's new array.
        const out = new Float32Array(n * this.classes);
        await session.run(feeds, { [OUTPUT_NAME]: this.floatTensor(out, [n, this.classes]) });
        return out;
      }
      const result = await session.run(feeds);
      const logits = result[OUTPUT_NAME];
      const data = logits.data as Float32Array;
      logits.dispose();
      return data;
    });
  }

  trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    checkTrainInput(this.spec, x, y, n, lr);
    if (this.flavor.dataParallel) {
      return this.serial(async () => {
        const trainer = await this.ensureParallel();
        const loss = await trainer.step(x, y, n, lr, this.current.map((t) => t.data), this.spare!.map((t) => t.data));
        [this.current, this.spare] = [this.spare!, this.current];
        this.inferStale = true;
        return loss;
      });
    }
    return this.serial(async () => {
      const session = await this.ensureTraining();
      this.lrBuf[0] = lr;
      const { Tensor } = this.flavor.ort;
      const feeds: Record<string, OrtTensor> = {
        [INPUT_NAME]: this.images(x, n),
        [LABELS_NAME]: new Tensor('int32', y.length === n ? y : y.subarray(0, n), [n]),
        [LR_NAME]: new Tensor('float32', this.lrBuf, []),
      };
      this.names.forEach((name, i) => (feeds[name] = this.current[i]));
      let loss: number;
      if (this.spare) {
        const fetches: Record<string, OrtTensor> = { [LOSS_NAME]: new Tensor('float32', this.lossBuf, []) };
        this.names.forEach((name, i) => (fetches[nextName(name)] = this.spare![i]));
        await session.run(feeds, fetches);
        [this.current, this.spare] = [this.spare, this.current];
        loss = this.lossBuf[0];
      } else {
        const result = await session.run(feeds);
        this.current = this.names.map((name) => result[nextName(name)] as FloatTensor);
        loss = (result[LOSS_NAME].data as Float32Array)[0];
      }
      this.inferStale = true;
      return loss;
    });
  }

  getWeights(): Promise<Weights> {
    return this.serial(async () => this.currentWeights());
  }

  async dispose(): Promise<void> {
    await this.queue;
    if (this.disposed) return;
    this.disposed = true;
    const sessions = [this.infer, this.train];
    this.infer = this.train = undefined;
    const parallel = this.parallel;
    this.parallel = undefined;
    if (parallel) await parallel.dispose();
    for (const s of sessions) if (s) await s.release();
  }
}
