/**
 * One training session: SGD steps through one session of core/train's step graph, on any Runtime (onnxruntime-web
 * in the lab worker, onnxruntime-node in the CLI). Weights, momentum buffers and running statistics stay as the
 * runtime's host tensors between steps: each step's outputs are the next step's feeds, nothing is re-encoded.
 */
import { encodeModel } from '../../core/onnx/encode';
import type { Model } from '../../core/onnx/model';
import { type StepSettings, type TrainStepGraph, trainStepGraph } from '../../core/train/graph';
import { exportTrained, initialState, type TrainState } from '../../core/train/state';
import { float32, type HostTensor, type Runtime, sessionForProvider } from '../runtime';

export interface StepMetrics {
  /** Optimiser step, 1-based. */
  step: number;
  epoch: number;
  lr: number;
  images: number;
  /** Mean cross-entropy of the batch (before the update). */
  loss: number;
  /** Misclassified images of the batch, and their fraction. */
  errors: number;
  trainError: number;
  /** ‖∂L/∂W‖ of the first layer. */
  firstGradNorm: number;
  /** ‖F(x)‖/‖x‖ at every residual join (empty for plain nets). */
  ratios: number[];
  /** Wall time of the step (data + run), ms. */
  ms: number;
}

export interface EpochMetrics {
  epoch: number;
  /** Image-weighted means over the epoch's batches. */
  loss: number;
  trainError: number;
  images: number;
  ms: number;
}

export interface TrainTiming {
  steps: number;
  images: number;
  totalMs: number;
  /** In the runtime's run(): feeds in, forward + backward + update, outputs back to host memory. */
  runMs: number;
  /** Reading, augmenting and normalising images. */
  dataMs: number;
  imagesPerSecond: number;
  stepsPerSecond: number;
  /** Bytes of weights + momentum + running statistics that cross the runtime boundary each way per step. */
  stateBytes: number;
  provider: string;
}

/** One training session on a runtime: the step graph's session and the state it carries between steps. */
export interface Trainer {
  readonly graph: TrainStepGraph;
  readonly provider: string;
  /** The state as float32 arrays by initializer name (a copy-free view of the last step's outputs). */
  state(): TrainState;
  /** One SGD step on a normalised batch [N, 3, S, S] with integer labels; metrics are of the batch before the update. */
  step(images: Float32Array, labels: ArrayLike<number>, lr: number): Promise<Omit<StepMetrics, 'epoch' | 'ms'>>;
  /** Milliseconds spent inside the runtime's run() so far. */
  readonly runMs: number;
  /** The trained network as an inference model (BatchNorm in inference form, reading the running statistics). */
  exportModel(metadata?: [string, string][]): Model;
  release(): Promise<void>;
}

export async function createTrainer(
  runtime: Runtime,
  model: Model,
  settings: Partial<StepSettings> = {},
  state?: TrainState,
): Promise<Trainer> {
  const { graph, session } = await sessionForProvider(runtime, (webgpu) => {
    const graph = trainStepGraph(model, webgpu ? { ...settings, planePatches: true } : settings);
    return { graph, model: encodeModel(graph.model) };
  });
  const start = state ?? initialState(model, graph.trainable);
  // The carried state as the runtime's host tensors, by graph input name.
  const carried: Record<string, HostTensor> = {};
  for (const p of graph.params) carried[p.input] = float32(start.params.get(p.name)!, p.dims);
  for (const m of graph.momentum) carried[m.input] = float32(start.momentum.get(m.name)!, m.dims);
  for (const b of graph.buffers) carried[b.input] = float32(start.buffers.get(b.name)!, b.dims);
  const next = [...graph.params, ...graph.momentum, ...graph.buffers];
  let steps = start.step;
  let runMs = 0;
  const scalar = (t: HostTensor | undefined) => Number(t?.data[0] ?? Number.NaN);
  const trainer: Trainer = {
    graph,
    provider: session.provider,
    get runMs() {
      return runMs;
    },
    state() {
      const read = (list: typeof next) =>
        new Map(list.map((t) => [t.name, carried[t.input]!.data as Float32Array] as const));
      return { params: read(graph.params), momentum: read(graph.momentum), buffers: read(graph.buffers), step: steps };
    },
    async step(images, labels, lr) {
      const n = labels.length;
      const side = graph.side;
      if (images.length !== n * 3 * side * side)
        throw new Error(`a batch of ${n} labels needs ${n}×3×${side}×${side} values, got ${images.length}`);
      const target = new Float32Array(n * graph.classes);
      for (let i = 0; i < n; i++) {
        const label = labels[i]!;
        if (!(Number.isInteger(label) && label >= 0 && label < graph.classes))
          throw new Error(`label ${label} is not one of the model's ${graph.classes} classes`);
        target[i * graph.classes + label] = 1;
      }
      const feeds: Record<string, HostTensor> = {
        ...carried,
        [graph.image]: float32(images, [n, 3, side, side]),
        [graph.target]: float32(target, [n, graph.classes]),
        [graph.lossWeight]: float32(new Float32Array(n).fill(1 / n), [n, 1]),
        [graph.lr]: float32(Float32Array.of(lr), []),
      };
      const started = performance.now();
      const out = await session.run(feeds);
      runMs += performance.now() - started;
      for (const t of next) {
        const value = out[t.output];
        if (!value) throw new Error(`the training step returned no "${t.output}"`);
        carried[t.input] = value;
      }
      steps++;
      const loss = scalar(out[graph.loss]);
      // NaN logits compare false with everything, so a diverged step would count no errors: say it is unknown.
      const errors = Number.isFinite(loss) ? scalar(out[graph.errors]) : Number.NaN;
      return {
        step: steps,
        lr,
        images: n,
        loss,
        errors,
        trainError: errors / n,
        firstGradNorm: scalar(out[graph.firstGradNorm]),
        ratios: graph.blocks.map((b) => scalar(out[b.ratio])),
      };
    },
    exportModel(metadata = []) {
      return exportTrained(model, trainer.state(), metadata);
    },
    release: () => session.release(),
  };
  return trainer;
}
