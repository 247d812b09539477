/**
 * One SGD step as one ONNX graph (onnxruntime-web has no training API, so Skipscope writes its own):
 * forward with BatchNorm in training mode, cross-entropy, the backward pass from the op registry's rules
 * (core/autodiff), and the update, all in standard ops the inference providers run (WebGPU, WASM, CPU).
 *
 * Inputs: the images, one-hot targets, per-image loss weights (1/N: the mean loss), the learning rate, every
 * trainable weight, every momentum buffer and every BatchNorm running statistic. Outputs: the mean loss, the
 * number of training errors, the updated weights, momentum buffers and running statistics, the first layer's
 * weight-gradient norm and ‖F(x)‖/‖x‖ at every residual join.
 *
 * The update is torch.optim.SGD's (dampening 0, no Nesterov): d = g + wd·w, buf = μ·buf + d, w = w − lr·buf; the
 * first step's buf = d is μ·0 + d, so the buffers start at zero. Weight decay applies to every parameter (conv and
 * linear weights, biases, BatchNorm γ and β), as torch does when it is given model.parameters().
 *
 * BatchNorm in training mode (PyTorch's convention): x̂ = (x − μ_B)/√(σ²_B + ε) with the batch mean and the
 * biased batch variance over N, H, W; running_mean ← (1 − m)·running_mean + m·μ_B and
 * running_var ← (1 − m)·running_var + m·σ²_B·M/(M − 1) (the unbiased variance, M = N·H·W), m = 0.1.
 */

import { batchAgnosticShapes, differentiate } from '../autodiff/differentiate';
import { createEmitter } from '../autodiff/emit';
import { crossEntropy, logitsOf } from '../autodiff/gradients';
import { int } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Dim, Model, Node } from '../onnx/model';
import { ModelError } from '../onnx/model';
import { batchMoments } from '../ops/norm';
import type { Emitter, Shape } from '../ops/types';
import { detectTopology } from '../topology/detect';
import { type NormSpec, type Trainable, trainableTensors } from './state';

export interface StepSettings {
  /** SGD momentum μ (default 0.9; 0: plain SGD, no buffers). */
  momentum: number;
  /** L2 weight decay on every parameter (default 5e-4). */
  weightDecay: number;
  /** BatchNorm running-average momentum m, PyTorch's convention (default 0.1). */
  normMomentum: number;
  /** The fast convolution gradients (default true; see BackwardContext.fastConv). */
  fastConv?: boolean;
  /** The weight gradients' patches channel plane by channel plane (BackwardContext.planePatches; WebGPU). */
  planePatches?: boolean;
}

export const DEFAULT_STEP: StepSettings = { momentum: 0.9, weightDecay: 5e-4, normMomentum: 0.1 };

export interface StepTensor {
  /** Initializer name in the inference model (a state_dict name for built models). */
  name: string;
  dims: number[];
  input: string;
  output: string;
}

export interface TrainStepGraph {
  model: Model;
  settings: StepSettings;
  trainable: Trainable;
  image: string;
  /** One-hot targets [N, classes]. */
  target: string;
  /** Per-image loss weights [N, 1]: feed 1/N for the mean loss. */
  lossWeight: string;
  /** Learning rate, a float scalar. */
  lr: string;
  classes: number;
  /** Input side (square images, NCHW). */
  side: number;
  params: StepTensor[];
  /** Momentum buffers, parallel to `params` (empty when momentum is 0). */
  momentum: StepTensor[];
  buffers: StepTensor[];
  /** Mean cross-entropy over the batch (scalar). */
  loss: string;
  /** Images whose target logit is below the largest logit (scalar, float). */
  errors: string;
  /** ‖∂L/∂W‖ of the first weighted layer (scalar), and that layer's weight name. */
  firstGradNorm: string;
  firstLayer: string;
  /** ‖F(x)‖/‖x‖ at every residual join (norms over the whole batch), in block order; empty for plain nets. */
  blocks: { index: number; ratio: string }[];
}

/** Marks every BatchNormalization node of the model as training-mode (batch statistics), for autodiff. */
function inTrainingMode(model: Model, trainable: Trainable, asInputs: boolean): Model {
  const outputs = new Set(trainable.norms.map((n) => n.output));
  const nodes: Node[] = model.graph.nodes.map((n) =>
    n.opType === 'BatchNormalization' && outputs.has(n.outputs[0]!)
      ? { ...n, attrs: new Map([...n.attrs, ['training_mode', int(1)]]) }
      : n,
  );
  if (!asInputs) return { ...model, graph: { ...model.graph, nodes } };
  const moved = new Set([...trainable.params, ...trainable.buffers].map((t) => t.name));
  const constants = new Map([...model.graph.constants].filter(([name]) => !moved.has(name)));
  const initializers = model.graph.initializers.filter((name) => !moved.has(name));
  const inputs = [
    ...model.graph.inputs,
    ...[...trainable.params, ...trainable.buffers].map((t) => ({
      name: t.name,
      elemType: DataType.FLOAT,
      shape: [...t.dims] as Dim[],
    })),
  ];
  return { ...model, graph: { ...model.graph, nodes, constants, initializers, inputs } };
}

/** The float batch count N, read from the image's shape (one chain per graph). */
function batchCount(e: Emitter, image: string): string {
  return e.op('Cast', [e.slice(e.op('Shape', [image]), [0], [1], [0])], { to: int(DataType.FLOAT) });
}

/**
 * Replaces a training-mode BatchNormalization node by standard ops writing the same output: y = x̂·γ + β with
 * batch statistics. Returns the batch mean and biased variance [C], and with `update` the new running statistics.
 */
function lowerNorm(
  b: GraphBuilder,
  e: Emitter,
  norm: NormSpec,
  shape: Shape,
  update: { count: string; momentum: number; meanOutput: string; varOutput: string } | null,
): { mean: string; variance: string } {
  const c = norm.channels;
  const channel = [c, ...shape.slice(2).map(() => 1)];
  const m = batchMoments(e, norm.input, shape.length, norm.epsilon);
  const scaled = e.op('Mul', [m.normalised, e.reshape(norm.scale, channel)]);
  b.node('Add', [scaled, e.reshape(norm.bias, channel)], {}, { outputs: [norm.output] });
  const mean = e.reshape(m.mean, [c]);
  const variance = e.reshape(m.variance, [c]);
  if (!update) return { mean, variance };
  const keep = e.scalar(1 - update.momentum);
  const take = e.scalar(update.momentum);
  const spatial = shape.slice(2).reduce((a, d) => a * d, 1);
  if (shape.slice(2).some((d) => d < 1)) throw new ModelError(`BatchNorm "${norm.node}": unknown spatial size`);
  const values = e.op('Mul', [update.count, e.scalar(spatial)]);
  const unbias = e.op('Div', [values, e.op('Sub', [values, e.scalar(1)])]);
  b.node(
    'Add',
    [e.op('Mul', [norm.runningMean, keep]), e.op('Mul', [mean, take])],
    {},
    {
      outputs: [update.meanOutput],
    },
  );
  const unbiased = e.op('Mul', [variance, unbias]);
  b.node(
    'Add',
    [e.op('Mul', [norm.runningVar, keep]), e.op('Mul', [unbiased, take])],
    {},
    {
      outputs: [update.varOutput],
    },
  );
  return { mean, variance };
}

function removeNorms(b: GraphBuilder, norms: readonly NormSpec[]): void {
  const outputs = new Set(norms.map((n) => n.output));
  b.removeNodes((n) => n.opType === 'BatchNormalization' && n.domain === '' && outputs.has(n.outputs[0]!));
}

/** Lowers every training-mode BatchNorm, with running-statistics outputs (`new.<name>`). */
function lowerNorms(
  b: GraphBuilder,
  e: Emitter,
  norms: readonly NormSpec[],
  shapes: ReadonlyMap<string, Shape>,
  image: string,
  momentum: number,
  name: string,
): StepTensor[] {
  removeNorms(b, norms);
  const count = batchCount(e, image);
  const buffers: StepTensor[] = [];
  for (const norm of norms) {
    const shape = shapes.get(norm.input);
    if (!shape) throw new ModelError(`${name}: the input shape of BatchNorm "${norm.node}" is unknown`);
    const meanOutput = b.unique(`new.${norm.runningMean}`);
    const varOutput = b.unique(`new.${norm.runningVar}`);
    lowerNorm(b, e, norm, shape, { count, momentum, meanOutput, varOutput });
    const dims = [norm.channels];
    buffers.push(
      { name: norm.runningMean, dims, input: norm.runningMean, output: meanOutput },
      { name: norm.runningVar, dims, input: norm.runningVar, output: varOutput },
    );
  }
  return buffers;
}

/** √(Σ x²) over every axis: one scalar. */
function frobenius(e: Emitter, x: string, rank: number): string {
  const all = Array.from({ length: rank }, (_, i) => i);
  return e.op('Sqrt', [e.reduceSum(e.op('Mul', [x, x]), all, false)]);
}

/** The training-step graph of an inference model with float32 initializers (e.g. one from core/build). */
export function trainStepGraph(model: Model, settings: Partial<StepSettings> = {}): TrainStepGraph {
  const s: StepSettings = {
    momentum: settings.momentum ?? DEFAULT_STEP.momentum,
    weightDecay: settings.weightDecay ?? DEFAULT_STEP.weightDecay,
    normMomentum: settings.normMomentum ?? DEFAULT_STEP.normMomentum,
  };
  for (const [k, v] of Object.entries(s))
    if (!(Number.isFinite(v) && v >= 0)) throw new ModelError(`${k} must be a number ≥ 0, got ${v}`);
  if (s.normMomentum > 1) throw new ModelError(`BatchNorm momentum must be 0…1, got ${s.normMomentum}`);
  const topology = detectTopology(model);
  const trainable = trainableTensors(model);
  const image = topology.input.name;
  const logits = logitsOf(model, topology.output.name);
  const { shapes } = batchAgnosticShapes(model);
  const inputShape = shapes.get(image);
  const classes = shapes.get(logits)?.at(-1);
  if (inputShape?.length !== 4 || inputShape[2] !== inputShape[3])
    throw new ModelError(`${model.name}: training needs a square NCHW image input`);
  if (!classes || classes < 1) throw new ModelError(`${model.name}: the number of classes is unknown`);
  const firstLayer = topology.layers[0] ? model.graph.nodes[topology.layers[0].node]?.inputs[1] : undefined;
  if (!firstLayer || !trainable.params.some((p) => p.name === firstLayer))
    throw new ModelError(`${model.name}: no trainable first layer`);

  const training = inTrainingMode(model, trainable, true);
  const b = new GraphBuilder(training);
  const batch: Dim = model.graph.inputs.find((i) => i.name === image)?.shape?.[0] ?? 'N';
  const ce = crossEntropy(b, createEmitter(b, 'loss'), logits, batch, classes);
  const names = trainable.params.map((p) => p.name);
  const d = differentiate(b, training, {
    seeds: new Map([[logits, ce.seed]]),
    wrt: names,
    fastConv: settings.fastConv ?? true,
    planePatches: settings.planePatches === true,
  });
  const e = createEmitter(b, 'train');
  const lr = b.input('skipscope_lr', DataType.FLOAT, []);

  // BatchNorm: batch statistics forward, running statistics updated.
  const buffers = lowerNorms(b, e, trainable.norms, shapes, image, s.normMomentum, model.name);

  // SGD with momentum and weight decay, as torch.optim.SGD.
  const params: StepTensor[] = [];
  const momentum: StepTensor[] = [];
  for (const p of trainable.params) {
    const g = d.grads.get(p.name);
    if (!g) throw new ModelError(`${model.name}: the loss does not depend on "${p.name}"`);
    const decayed = s.weightDecay > 0 ? e.op('Add', [g, e.op('Mul', [p.name, e.scalar(s.weightDecay)])]) : g;
    let step = decayed;
    if (s.momentum > 0) {
      const input = b.input(`momentum.${p.name}`, DataType.FLOAT, [...p.dims]);
      const output = b.unique(`new.momentum.${p.name}`);
      b.node('Add', [e.op('Mul', [input, e.scalar(s.momentum)]), decayed], {}, { outputs: [output] });
      momentum.push({ name: p.name, dims: p.dims, input, output });
      step = output;
    }
    const output = b.unique(`new.${p.name}`);
    b.node('Sub', [p.name, e.op('Mul', [step, lr])], {}, { outputs: [output] });
    params.push({ name: p.name, dims: p.dims, input: p.name, output });
  }

  // What the charts show: mean loss, training errors, the first layer's gradient norm, ‖F(x)‖/‖x‖ per block.
  const loss = e.reduce('ReduceMean', ce.loss, [0], false);
  const largest = e.reduce('ReduceMax', logits, [1], false);
  const targetLogit = e.reduceSum(e.op('Mul', [logits, ce.feeds.target]), [1], false);
  const errors = e.reduceSum(e.mask(e.op('Less', [targetLogit, largest])), [0], false);
  const firstGradNorm = frobenius(
    e,
    d.grads.get(firstLayer)!,
    trainable.params.find((p) => p.name === firstLayer)!.dims.length,
  );
  const blocks = topology.blocks.map((bl) => {
    const rank = shapes.get(bl.branchOutput)?.length ?? 4;
    return {
      index: bl.index,
      ratio: e.op('Div', [frobenius(e, bl.branchOutput, rank), frobenius(e, bl.shortcutOutput, rank)]),
    };
  });

  const outs = [
    loss,
    errors,
    firstGradNorm,
    ...blocks.map((x) => x.ratio),
    ...params.map((p) => p.output),
    ...momentum.map((m) => m.output),
    ...buffers.map((x) => x.output),
  ];
  b.setOutputs(outs.map((name) => ({ name, elemType: DataType.FLOAT, shape: null })));
  return {
    model: b.build({ prune: true, name: `${model.name} (training step)` }),
    settings: s,
    trainable,
    image,
    target: ce.feeds.target,
    lossWeight: ce.feeds.weight,
    lr,
    classes,
    side: inputShape[2]!,
    params,
    momentum,
    buffers,
    loss,
    errors,
    firstGradNorm,
    firstLayer,
    blocks,
  };
}

export interface StatisticsGraph {
  model: Model;
  image: string;
  /** Per BatchNorm: the outputs holding its batch mean and biased batch variance [C]. */
  norms: { runningMean: string; runningVar: string; mean: string; variance: string }[];
}

/**
 * A forward pass with every BatchNorm in training mode (batch statistics, layer after layer), whose outputs are
 * each BatchNorm's batch mean and biased variance: what calibrateBatchNorm writes into the running statistics,
 * so that the inference model then computes on that batch exactly what training mode computes.
 */
export function batchStatisticsGraph(model: Model): StatisticsGraph {
  const topology = detectTopology(model);
  const trainable = trainableTensors(model);
  const { shapes } = batchAgnosticShapes(model);
  const b = new GraphBuilder(inTrainingMode(model, trainable, false));
  const e = createEmitter(b, 'stats');
  removeNorms(b, trainable.norms);
  const norms = trainable.norms.map((norm) => {
    const shape = shapes.get(norm.input);
    if (!shape) throw new ModelError(`${model.name}: the input shape of BatchNorm "${norm.node}" is unknown`);
    const r = lowerNorm(b, e, norm, shape, null);
    return { runningMean: norm.runningMean, runningVar: norm.runningVar, mean: r.mean, variance: r.variance };
  });
  if (norms.length === 0) throw new ModelError(`${model.name} has no BatchNorm to calibrate`);
  b.setOutputs(
    norms.flatMap((n) => [n.mean, n.variance]).map((name) => ({ name, elemType: DataType.FLOAT, shape: null })),
  );
  return {
    model: b.build({ prune: true, name: `${model.name} (batch statistics)` }),
    image: topology.input.name,
    norms,
  };
}

export interface TrainingGradientGraph {
  model: Model;
  /** The upstream gradient of the model's first output, a graph input shaped like that output. */
  seed: string;
  output: string;
  /** Gradient output by `wrt` tensor name. */
  grads: Map<string, string>;
  /** Updated running statistics (momentum `normMomentum`), by initializer name. */
  buffers: StepTensor[];
}

/**
 * The vector–Jacobian product of a model's first output with BatchNorm in training mode: one forward pass with
 * batch statistics, then ∂⟨seed, output⟩/∂t for every `wrt` tensor (the first graph input, initializers), and
 * the updated running statistics. The building block of the training step, exposed for checks against PyTorch.
 */
export function trainingGradientGraph(model: Model, wrt: readonly string[], normMomentum = 0.1): TrainingGradientGraph {
  const trainable = trainableTensors(model);
  const training = inTrainingMode(model, trainable, false);
  const { shapes } = batchAgnosticShapes(model);
  const output = model.graph.outputs[0]?.name;
  const image = model.graph.inputs[0]?.name;
  if (!output || !image) throw new ModelError(`${model.name} needs an input and an output`);
  const b = new GraphBuilder(training);
  const seed = b.input('skipscope_seed', DataType.FLOAT, model.graph.outputs[0]!.shape);
  const d = differentiate(b, training, { seeds: new Map([[output, seed]]), wrt });
  const e = createEmitter(b, 'train');
  const buffers = lowerNorms(b, e, trainable.norms, shapes, image, normMomentum, model.name);
  const outs = [output, ...d.grads.values(), ...buffers.map((x) => x.output)];
  b.setOutputs(outs.map((name) => ({ name, elemType: DataType.FLOAT, shape: null })));
  return { model: b.build({ prune: true }), seed, output, grads: d.grads, buffers };
}
