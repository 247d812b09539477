/**
 * What training changes in a model, and how a trained state goes back into an ordinary inference model.
 *
 * Trainable parameters are the constant inputs the op registry lists as parameters (conv and linear weights and
 * biases, BatchNorm γ and β); BatchNorm's running mean and variance are buffers (updated by training, never by the
 * gradient). A state holds them as float32 arrays by initializer name (the builder's names are PyTorch's
 * state_dict names, so a state is a state_dict).
 */
import { attrFloat } from '../onnx/attrs';
import { DataType } from '../onnx/dtypes';
import { type Model, ModelError, type Tensor } from '../onnx/model';
import { readFloats } from '../onnx/tensor';
import { opDef } from '../ops';

export interface TensorSpec {
  name: string;
  dims: number[];
}

/** One BatchNormalization node and the tensors it reads. */
export interface NormSpec {
  node: string;
  input: string;
  output: string;
  scale: string;
  bias: string;
  runningMean: string;
  runningVar: string;
  epsilon: number;
  channels: number;
}

export interface Trainable {
  /** Learned by SGD, in graph order. */
  params: TensorSpec[];
  /** BatchNorm running statistics (mean, then variance, per norm), in graph order. */
  buffers: TensorSpec[];
  norms: NormSpec[];
}

/** Float32 tensors by initializer name. */
export type Weights = Map<string, Float32Array>;

export interface TrainState {
  params: Weights;
  /** SGD momentum buffers by parameter name (zeros before the first step: PyTorch's "buf = d" on step 1). */
  momentum: Weights;
  buffers: Weights;
  /** Optimiser steps taken. */
  step: number;
}

/** The parameters and running statistics of a model whose weights are float32 initializers. */
export function trainableTensors(model: Model): Trainable {
  const { constants } = model.graph;
  const initializers = new Set(model.graph.initializers);
  const seen = new Set<string>();
  const params: TensorSpec[] = [];
  const buffers: TensorSpec[] = [];
  const norms: NormSpec[] = [];
  const floatInit = (name: string | undefined, what: string): Tensor => {
    const t = name ? constants.get(name) : undefined;
    if (!t || !initializers.has(name!) || t.dataType !== DataType.FLOAT)
      throw new ModelError(
        `${model.name}: ${what} "${name ?? ''}" is not a float32 initializer, so it cannot be trained`,
      );
    return t;
  };
  for (const node of model.graph.nodes) {
    const def = opDef(node.opType, node.domain);
    if (!def?.paramInputs) continue;
    for (const i of def.paramInputs) {
      const name = node.inputs[i];
      if (!name || seen.has(name)) continue;
      if (!constants.has(name)) continue;
      const t = floatInit(name, `the parameter of ${node.opType} "${node.name}"`);
      seen.add(name);
      params.push({ name, dims: [...t.dims] });
    }
    if (node.opType === 'BatchNormalization' && node.domain === '') {
      const [input, scale, bias, mean, variance] = node.inputs;
      const m = floatInit(mean, 'the running mean');
      floatInit(variance, 'the running variance');
      floatInit(scale, 'the BatchNorm scale');
      floatInit(bias, 'the BatchNorm bias');
      for (const name of [mean!, variance!])
        if (!seen.has(name)) {
          seen.add(name);
          buffers.push({ name, dims: [...m.dims] });
        }
      norms.push({
        node: node.name,
        input: input!,
        output: node.outputs[0]!,
        scale: scale!,
        bias: bias!,
        runningMean: mean!,
        runningVar: variance!,
        epsilon: attrFloat(node, 'epsilon', 1e-5),
        channels: m.size,
      });
    }
  }
  if (params.length === 0) throw new ModelError(`${model.name} has no trainable float32 weights`);
  return { params, buffers, norms };
}

/** The model's own weights as a fresh training state (momentum buffers zero). */
export function initialState(model: Model, trainable: Trainable = trainableTensors(model)): TrainState {
  const read = (s: TensorSpec) => readFloats(model.graph.constants.get(s.name)!);
  return {
    params: new Map(trainable.params.map((p) => [p.name, read(p)])),
    momentum: new Map(trainable.params.map((p) => [p.name, new Float32Array(size(p.dims))])),
    buffers: new Map(trainable.buffers.map((b) => [b.name, read(b)])),
    step: 0,
  };
}

/**
 * The inference model with some initializers replaced (trained weights, running statistics): the same graph,
 * BatchNorm still in inference form (it now reads the trained running statistics), so it opens like any model.
 */
export function withWeights(model: Model, values: Weights, metadata: [string, string][] = []): Model {
  const constants = new Map(model.graph.constants);
  for (const [name, data] of values) {
    const old = constants.get(name);
    if (!old) throw new ModelError(`${model.name} has no initializer "${name}"`);
    if (old.size !== data.length)
      throw new ModelError(`${name}: ${data.length} values for a tensor of ${old.size} (dims [${old.dims}])`);
    const copy = Float32Array.from(data);
    constants.set(name, {
      name,
      dataType: DataType.FLOAT,
      dims: [...old.dims],
      size: old.size,
      raw: new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength),
      floatData: null,
      intData: null,
      external: null,
    });
  }
  const keys = new Set(metadata.map(([k]) => k));
  return {
    ...model,
    graph: { ...model.graph, constants },
    metadata: [...model.metadata.filter(([k]) => !keys.has(k)), ...metadata],
    byteLength: 0,
  };
}

/** A trained state written into the inference model (parameters and running statistics). */
export function exportTrained(model: Model, state: TrainState, metadata: [string, string][] = []): Model {
  return withWeights(model, new Map([...state.params, ...state.buffers]), metadata);
}

export function size(dims: readonly number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}
