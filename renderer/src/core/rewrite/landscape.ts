/**
 * Loss landscapes (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets"):
 * which tensors a random direction moves, filter normalisation, and the rewrite that lets one session evaluate the
 * model at any point θ + Σₖ cₖ·Dₖ of a plane (or line) through its weights.
 *
 * Directions follow the default of Li et al.'s code (`--xnorm filter --xignore biasbn`): a direction holds a
 * standard-normal tensor for every weight of a convolution or fully connected layer, and each filter of it (the
 * slice for one output channel or output unit) is rescaled to the norm of the same filter of the weight,
 * dᵢ ← dᵢ · ‖θᵢ‖ / (‖dᵢ‖ + 1e-10). Biases and normalisation parameters (1-D in PyTorch) get direction 0, and so
 * do BatchNorm's running statistics, which are not parameters at all.
 */
import { SeededRandom } from '../build/random';
import { attrInt } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import { type Model, ModelError, type Node } from '../onnx/model';
import { readFloats } from '../onnx/tensor';
import { opDef } from '../ops';
import { finalSoftmax } from '../topology/scores';

/** A learned tensor of the model and what a landscape direction does with it. */
export interface LandscapeTensor {
  /** The tensor's name (an initializer or a Constant node's output). */
  name: string;
  dims: number[];
  size: number;
  /** The op of the first node that reads it as a parameter, and as which input. */
  op: string;
  input: number;
  /**
   * The axis whose slices are the filters (one per output channel or output unit: the axis PyTorch's layout puts
   * first) for a perturbed weight; null for a tensor whose direction is zero.
   */
  filterAxis: number | null;
  /** Why the direction is zero ("bias", "norm", "rank < 2", "not float32"); null for a perturbed weight. */
  zeroed: string | null;
}

/** The constant input of a weighted node that holds its weight matrix or kernel (not the bias), or null. */
function weightInput(node: Node, constant: (name: string) => boolean): number | null {
  const c = (i: number) => !!node.inputs[i] && constant(node.inputs[i]!);
  switch (node.opType) {
    case 'Conv':
    case 'ConvTranspose':
      return c(1) ? 1 : null;
    case 'Gemm':
    case 'MatMul':
      return c(1) ? 1 : c(0) ? 0 : null;
    default:
      return null;
  }
}

/**
 * The output-unit axis of a weight in the ONNX layout: the axis PyTorch stores first. Conv [out, in/g, k…] and
 * ConvTranspose [in, out/g, k…] as PyTorch keeps them (axis 0, what Li et al.'s code iterates over); Gemm's B is
 * [out, in] with transB = 1 (axis 0) and [in, out] without (axis 1); MatMul's constant B [… in, out] the last
 * axis; a constant A operand (rows are outputs) the row axis.
 */
function filterAxisOf(node: Node, input: number, rank: number): number {
  if (node.opType === 'Gemm')
    return input === 1 ? (attrInt(node, 'transB', 0) ? 0 : 1) : attrInt(node, 'transA', 0) ? 1 : 0;
  if (node.opType === 'MatMul') return input === 1 ? rank - 1 : rank - 2;
  return 0;
}

/**
 * The parameters of a model (what `inspect` counts: the constant inputs the op registry lists as parameters), in
 * graph order, each with its landscape role: weights of rank ≥ 2 are perturbed, everything else stays put.
 */
export function landscapeTensors(model: Model): LandscapeTensor[] {
  const { constants } = model.graph;
  const seen = new Set<string>();
  const out: LandscapeTensor[] = [];
  for (const node of model.graph.nodes) {
    const def = opDef(node.opType, node.domain);
    if (!def?.paramInputs) continue;
    const weight = def.role === 'weighted' ? weightInput(node, (n) => constants.has(n)) : null;
    for (const i of def.paramInputs) {
      const name = node.inputs[i];
      if (!name || seen.has(name)) continue;
      const t = constants.get(name);
      if (!t) continue;
      seen.add(name);
      const rank = t.dims.length;
      const zeroed =
        i !== weight
          ? def.role === 'norm'
            ? 'norm'
            : 'bias'
          : rank < 2
            ? 'rank < 2'
            : t.dataType !== DataType.FLOAT
              ? 'not float32'
              : null;
      out.push({
        name,
        dims: [...t.dims],
        size: t.size,
        op: node.opType,
        input: i,
        filterAxis: zeroed === null ? filterAxisOf(node, i, rank) : null,
        zeroed,
      });
    }
  }
  return out;
}

/** The values of a float tensor of the model (initializer or Constant output), as float32. */
export function tensorValues(model: Model, name: string): Float32Array {
  const t = model.graph.constants.get(name);
  if (!t) throw new ModelError(`${model.name}: no constant tensor "${name}"`);
  return readFloats(t);
}

/**
 * Standard-normal directions from one seeded stream (core/build/random.ts, the same in the app and the CLI):
 * `count` directions one after the other, each a tensor per perturbed weight in the order of `tensors`.
 * Returns [direction][perturbed tensor] (tensors with a zero direction take no numbers and get no entry).
 */
export function gaussianDirections(tensors: readonly LandscapeTensor[], seed: number, count = 2): Float32Array[][] {
  const rng = new SeededRandom(seed);
  const moved = tensors.filter((t) => t.filterAxis !== null);
  return Array.from({ length: count }, () => moved.map((t) => rng.normals(t.size, 1)));
}

/**
 * Li et al.'s filter normalisation of one direction tensor, in place: each slice along `axis` (a filter) is
 * scaled to the norm of the weight's slice, d ← d · ‖w‖ / (‖d‖ + 1e-10) (their code's 1e-10). Norms in float64.
 */
export function filterNormalize(d: Float32Array, w: Float32Array, dims: readonly number[], axis: number): void {
  const n = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  if (d.length !== w.length || d.length !== outer * n * inner)
    throw new Error(`filterNormalize: ${d.length} and ${w.length} values for dims [${dims}]`);
  for (let f = 0; f < n; f++) {
    let dd = 0;
    let ww = 0;
    for (let o = 0; o < outer; o++)
      for (let k = 0, at = (o * n + f) * inner; k < inner; k++, at++) {
        dd += d[at]! * d[at]!;
        ww += w[at]! * w[at]!;
      }
    const scale = Math.sqrt(ww) / (Math.sqrt(dd) + 1e-10);
    for (let o = 0; o < outer; o++) for (let k = 0, at = (o * n + f) * inner; k < inner; k++, at++) d[at]! *= scale;
  }
}

/** Filter-normalised copies of raw directions ([direction][perturbed tensor], as gaussianDirections gives). */
export function normalizeDirections(
  model: Model,
  tensors: readonly LandscapeTensor[],
  raw: readonly (readonly Float32Array[])[],
): Float32Array[][] {
  const moved = tensors.filter((t) => t.filterAxis !== null);
  const weights = moved.map((t) => tensorValues(model, t.name));
  return raw.map((direction) =>
    direction.map((d, k) => {
      const t = moved[k]!;
      const out = Float32Array.from(d);
      filterNormalize(out, weights[k]!, t.dims, t.filterAxis!);
      return out;
    }),
  );
}

/** One tensor moved along the directions: W(c) = W + Σₖ cₖ·Dₖ. */
export interface WeightDirections {
  name: string;
  /** One per coordinate, each with the tensor's dims. */
  directions: readonly Float32Array[];
}

export interface MovedModel {
  model: Model;
  /** The scalar float inputs (shape []), one per coordinate, in order. */
  coords: string[];
}

/**
 * The model with W replaced by W + Σₖ cₖ·Dₖ inside the graph for every listed tensor: the directions Dₖ are stored
 * as initializers beside W, the coordinates cₖ are scalar graph inputs. One session then serves every point of a
 * landscape with only the coordinates crossing the runtime boundary per run; on WebGPU weights and directions stay
 * on the device. At c = 0 the weights are W exactly (W + 0·D = W in IEEE arithmetic), so the centre is the model.
 */
export function moveWeights(
  model: Model,
  moved: readonly WeightDirections[],
  coordNames: readonly string[],
): MovedModel {
  const g = new GraphBuilder(model);
  const coords = coordNames.map((name) => g.input(name, DataType.FLOAT, []));
  for (const { name, directions } of moved) {
    const t = model.graph.constants.get(name);
    if (!t) throw new ModelError(`${model.name}: no constant tensor "${name}" to move`);
    if (t.dataType !== DataType.FLOAT) throw new ModelError(`${model.name}: "${name}" is not float32`);
    if (directions.length !== coords.length)
      throw new Error(`moveWeights: ${directions.length} directions for ${coords.length} coordinates`);
    const moving = g.unique(`${name}_moved`);
    // Consumers read the moved tensor; the nodes added below (the only readers of W now) are created after this.
    g.rewire(name, moving);
    const steps = directions.map((d, k) => {
      if (d.length !== t.size) throw new Error(`moveWeights: direction ${k} of "${name}" has ${d.length} values`);
      return g.op('Mul', [g.initializer(`${name}_direction${k + 1}`, DataType.FLOAT, t.dims, d), coords[k]!]);
    });
    const shift = steps.reduce((a, b) => g.op('Add', [a, b]));
    g.node('Add', [name, shift], {}, { outputs: [moving] });
  }
  return { model: g.build({ prune: false }), coords };
}

/**
 * The tensor that holds the logits: the model's output, or, when the graph ends in Softmax or LogSoftmax (through
 * Identity copies: topology/scores.ts finalSoftmax), that op's input (added as an output), so a cross-entropy is never taken of probabilities.
 */
export function exposeLogits(model: Model, output: string): { model: Model; logits: string } {
  const final = finalSoftmax(model.graph, output);
  if (!final?.inputs[0]) return { model, logits: output };
  const logits = final.inputs[0];
  if (model.graph.outputs.some((o) => o.name === logits)) return { model, logits };
  const g = new GraphBuilder(model);
  g.output(logits);
  return { model: g.build({ prune: false }), logits };
}

/** Evenly spaced values from `from` to `to` (both included); one value is `from`. */
export function linspace(from: number, to: number, count: number): number[] {
  if (count === 1) return [from];
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? to : from + ((to - from) * i) / (count - 1)));
}

/**
 * Indices 0…n−1 coarse to fine: the middle, both ends, then the midpoints of the intervals so far, breadth first.
 * Every prefix is spread over the whole range, so a partial result already shows its overall shape.
 */
export function coarseToFine(n: number): number[] {
  if (n <= 0) return [];
  const out: number[] = [];
  const taken = new Uint8Array(n);
  const take = (i: number) => {
    if (!taken[i]) {
      taken[i] = 1;
      out.push(i);
    }
  };
  const mid = (n - 1) >> 1;
  take(mid);
  take(0);
  take(n - 1);
  let intervals: [number, number][] = [
    [0, mid],
    [mid, n - 1],
  ];
  while (intervals.length) {
    const next: [number, number][] = [];
    for (const [a, b] of intervals) {
      if (b - a < 2) continue;
      const m = (a + b) >> 1;
      take(m);
      next.push([a, m], [m, b]);
    }
    intervals = next;
  }
  return out;
}

/**
 * The cells of an n×n grid coarse to fine: nested sub-grids, each one the previous one plus a row and a column
 * from coarseToFine's order (the centre first, then the corners, …). Returns [row, column] pairs.
 */
export function gridOrder(n: number): [number, number][] {
  const order = coarseToFine(n);
  const out: [number, number][] = [];
  order.forEach((x, k) => {
    for (let l = 0; l < k; l++) out.push([x, order[l]!], [order[l]!, x]);
    out.push([x, x]);
  });
  return out;
}
