import type { Attribute, Node } from '../onnx/model';

/** A concrete shape; symbolic batch dimensions are resolved to the batch size shape inference was given. */
export type Shape = number[];

/** A small integer tensor whose values shape inference knows (shape arithmetic, pads, axes). */
export interface Folded {
  dims: number[];
  values: number[];
  /** The values are floating point (a Cast to float, a float constant): Div divides exactly, Floor/Ceil round. */
  float?: boolean;
}

/** What an op's shape rule sees of one node: its input shapes, folded input values, and where to write. */
export interface ShapeContext {
  readonly node: Node;
  input(i: number): Shape | undefined;
  value(i: number): Folded | undefined;
  /** Values of a small constant float input (Resize scales), when it is one. */
  floats(i: number): number[] | undefined;
  /** Records the shape of output `output` (default 0); ignored when undefined or any dimension is not a whole number ≥ 0. */
  set(shape: Shape | undefined, output?: number): void;
  /**
   * Records output 0's shape and, when it is small (at most MAX_FOLDED elements), its values; `float` marks
   * floating-point values.
   */
  fold(values: number[], dims: number[], float?: boolean): void;
}

/**
 * Emits gradient nodes into the graph being differentiated, in the model's own opset (axes, pads and slice
 * bounds moved from attributes to inputs across opsets; the emitter writes whichever form the opset wants).
 */
export interface Emitter {
  readonly opset: number;
  op(opType: string, inputs: readonly string[], attrs?: Record<string, Attribute | undefined>): string;
  /** A 1-D int64 constant. */
  ints(values: readonly number[]): string;
  /** A float32 constant. */
  floats(dims: readonly number[], values: ArrayLike<number>): string;
  scalar(value: number): string;
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string;
  /** ReduceMean, ReduceMax, … over `axes` (axes as an attribute before opset 18, as an input from it). */
  reduce(opType: string, x: string, axes: readonly number[], keepdims: boolean): string;
  slice(
    x: string,
    starts: readonly number[],
    ends: readonly number[],
    axes: readonly number[],
    steps?: readonly number[],
  ): string;
  /** Constant-mode Pad; `pads` lists every axis' begins, then every axis' ends. */
  pad(x: string, pads: readonly number[], value?: number): string;
  /** Reshape to `dims` (0 copies, −1 infers, as in ONNX). */
  reshape(x: string, dims: readonly number[]): string;
  transpose(x: string, perm: readonly number[]): string;
  /** Broadcasts x to `dims` (numpy rules both ways). */
  expand(x: string, dims: readonly number[]): string;
  /** A float mask (1 where true) from a boolean tensor: float masks, since bool tensors next to Convs fall back to CPU on WebGPU. */
  mask(bool: string): string;
  /** Float mask of a == b. */
  equal(a: string, b: string): string;
  /** Sum of several tensors as a chain of Adds (onnxruntime's WebGPU backend has no Sum). */
  sum(terms: readonly string[]): string;
}

/** What an op's backward rule sees: its forward node, the gradients of its outputs, static facts, an emitter. */
export interface BackwardContext {
  readonly node: Node;
  readonly e: Emitter;
  /** Gradient of output `i` (default 0), or undefined when nothing downstream needs it. */
  grad(i?: number): string | undefined;
  /** True when input `i` needs a gradient. */
  needs(i: number): boolean;
  /** Static shape of a forward tensor; the batch axis (whatever size it runs with) reads −1. */
  shape(tensor: string): Shape | undefined;
  /** Values of a small integer tensor: a constant, or folded from shape arithmetic. */
  ints(tensor: string): number[] | undefined;
  /** Values of a constant float tensor. */
  floats(tensor: string): Float32Array | undefined;
  /** `grad` (shaped like the node's output) summed down to input `i`'s shape, undoing broadcasting. */
  unbroadcast(grad: string, i: number): string;
  /** A clear failure: the op or this use of it cannot be differentiated. */
  fail(why: string): never;
  /**
   * Convolution gradients written for speed (training and the Gradients panel): the weight gradient from the input's
   * patches (a one-hot convolution) and one matrix product, a stride-1 input gradient as a convolution
   * with the flipped weights. Default (false): a convolution for the weight gradient and ConvTranspose for the input
   * gradient.
   */
  readonly fastConv?: boolean;
  /**
   * The graph runs one image at a time (its batch axis pinned to 1): a tensor [1, C, …] has the layout of
   * [C, 1, …], so moving the batch axis behind the channels is a Reshape, not a Transpose.
   */
  readonly batchOne?: boolean;
  /**
   * The weight gradient's patches from every channel plane as an image of its own (an ungrouped convolution over
   * [N·C, 1, H, W]) instead of one convolution grouped by channel. The same numbers; for onnxruntime-web's WebGPU,
   * which got one output in six of the grouped one wrong. The grouped one runs faster on onnxruntime-node (ResNet-20
   * training step at batch 64: ~130 against ~165 ms), so it stays the default.
   */
  readonly planePatches?: boolean;
}

/**
 * What an op is to Skipscope: topology detection reads `role`, parameter counts read `paramInputs`,
 * the summary reads `macs`, autodiff reads `backward` and `gradInputs`.
 */
export type OpRole =
  /** Conv, Gemm, MatMul: carries weights, counts as a layer of depth. */
  | 'weighted'
  | 'norm'
  | 'activation'
  | 'pool'
  /** Add / Sum: where residual branches join. */
  | 'join'
  | 'elementwise'
  /** Passes its input through at inference (Identity, Dropout). */
  | 'passive'
  /** Moves or reshapes data (Reshape, Slice, Pad, Concat…) or computes shapes. */
  | 'layout'
  | 'reduce';

/** What an op's MAC rule sees: the node's input and output shapes (batch dimension included), when known. */
export interface MacShapes {
  input(i: number): Shape | undefined;
  output(i?: number): Shape | undefined;
}

export interface OpDef {
  readonly role: OpRole;
  inferShapes(ctx: ShapeContext): void;
  /**
   * Inputs that hold learned parameters when they are constants or computed from constants only (weights, biases,
   * norm scale and shift). The lab trains and perturbs these when they are stored constants.
   */
  readonly paramInputs?: readonly number[];
  /**
   * Inputs that hold learned values when they are a floating-point constant of more than one element, directly or
   * through Identity, Cast, Transpose and reshaping chains, beside data from the image: a LayerNorm exported as
   * Mul and Add, ConvNeXt's layer scale, a position embedding, a class token, a bias table read by Gather.
   * Counted as parameters; the lab leaves them alone.
   */
  readonly constantParams?: readonly number[];
  /**
   * Multiply–accumulates of the node for the whole batch its shapes were inferred at (the caller divides by the
   * batch), from its input and output shapes; undefined when a shape it needs is unknown. Ops without this
   * function do no multiply–accumulates that Skipscope counts (element-wise work, norms, pooling).
   */
  macs?(node: Node, shapes: MacShapes): number | undefined;
  /**
   * Inputs a gradient flows to (default: every input when `backward` is defined, none otherwise). Shape,
   * index and mask inputs are not differentiable.
   */
  readonly gradInputs?: readonly number[];
  /** Reverse-mode rule: gradients for the node's inputs (undefined where none is needed or defined). */
  backward?(ctx: BackwardContext): readonly (string | undefined)[];
}

/** Small tensors worth folding (shape arithmetic, pads, axes): at most this many elements. */
export const MAX_FOLDED = 64;

/** Product of dimensions (1 for a scalar). */
export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/**
 * An axis counted from the end (−1: the last) as one counted from the start. Throws for an axis outside the rank:
 * in a damaged file an axis of 2^31 made a shape rule write index 2^31 of an array, and every later walk over that
 * array (2^31 holes) took minutes. Shape inference leaves such a node's outputs unknown.
 */
export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(Number.isInteger(a) && a >= 0 && a < rank)) throw new RangeError(`axis ${axis} is outside rank ${rank}`);
  return a;
}

/** Numpy-style broadcast of two shapes. */
export function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Output shape equals input 0's shape (element-wise ops with one data input). */
export function sameAsInput(ctx: ShapeContext): void {
  ctx.set(ctx.input(0));
}

/** Defines several op types with one rule. */
export function each(types: readonly string[], def: OpDef): Record<string, OpDef> {
  return Object.fromEntries(types.map((t) => [t, def]));
}

/**
 * Sums `grad` (shaped like `out`) down to `input`'s shape: the axes broadcasting stretched (a 1 in `input` against
 * more in `out`) and the leading axes `input` lacks. Shapes may mark the batch as −1.
 */
export function sumToShape(e: Emitter, grad: string, input: Shape, out: Shape): string {
  const lead = out.length - input.length;
  const stretched = input.flatMap((d, j) => (d === 1 && out[j + lead] !== 1 ? [j + lead] : []));
  let g = grad;
  if (stretched.length) g = e.reduceSum(g, stretched, true);
  if (lead > 0)
    g = e.reduceSum(
      g,
      Array.from({ length: lead }, (_, i) => i),
      false,
    );
  return g;
}
