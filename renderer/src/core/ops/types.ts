import type { Node } from '../onnx/model';

/** A concrete shape; symbolic batch dimensions are resolved to the batch size shape inference was given. */
export type Shape = number[];

/** A small integer tensor whose values shape inference knows (shape arithmetic, pads, axes). */
export interface Folded {
  dims: number[];
  values: number[];
}

/** What an op's shape rule sees of one node: its input shapes, folded input values, and where to write. */
export interface ShapeContext {
  readonly node: Node;
  input(i: number): Shape | undefined;
  value(i: number): Folded | undefined;
  /** Values of a small constant float input (Resize scales), when it is one. */
  floats(i: number): number[] | undefined;
  /** Records the shape of output `output` (default 0); ignored when undefined or not finite. */
  set(shape: Shape | undefined, output?: number): void;
  /** Records output 0 as a folded integer tensor (and its shape). */
  fold(values: number[], dims: number[]): void;
}

/**
 * What an op is to Skipscope: topology detection reads `role`, parameter counts read `paramInputs`,
 * the summary reads `macs`; backward rules join these definitions as autodiff lands.
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

export interface OpDef {
  readonly role: OpRole;
  inferShapes(ctx: ShapeContext): void;
  /** Inputs that hold learned parameters when they are constants (weights, biases, norm scale and shift). */
  readonly paramInputs?: readonly number[];
  /** Multiply–accumulates for one image, from the weight's and the output's shapes (batch dimension included). */
  macs?(node: Node, weightShape: Shape, outShape: Shape): number;
}

/** Product of dimensions (1 for a scalar). */
export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
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
