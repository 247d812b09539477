import { attrInt, attrInts } from '../onnx/attrs';
import { type Dim, type Model, ModelError, type ValueInfo } from '../onnx/model';
import { inferShapes } from '../onnx/shapes';
import { formatBytes, oneLine } from '../text';
import { scoresOutput } from '../topology/scores';

/**
 * Image models exported with an open height and width (Hugging Face's optimum writes pixel_values as
 * [batch_size, num_channels, height, width]; torch.onnx.export with those axes dynamic) run at any size onnxruntime is
 * fed, but a graph of shapes needs one: Skipscope read such a model's shapes at 1 × 1 and refused it. The side is
 * chosen here and written into the input's declared shape, so that every lab (topology, lesions, gradients, the
 * landscape) reads one fixed-size network, and the open channel axis is 3 (RGB). The file's bytes still run as they
 * are: they take the fixed size as one of the sizes they accept. An open channel axis takes what the first
 * convolution reads (3 for RGB, 1 for grey).
 */
export interface OpenSide {
  /** The side fed (square images). */
  side: number;
  /** Whether the user chose it (else Skipscope did, by `SIDES`). */
  chosen: boolean;
  /** The input's shape as the file declares it, e.g. "batch_size×num_channels×height×width". */
  declared: string;
  /** The file fixes one of height and width: that is the side, whatever is asked. */
  forced?: boolean;
  /** No side tried fits the graph's shapes: why not at `side` (the side shown, which will not run). */
  misfit?: string;
}

/**
 * The most bytes one image's largest tensor may take (float32), as the CLI's batch check allows for a whole batch:
 * past it onnxruntime-web ends in std::bad_alloc and the lab worker is replaced.
 */
export const MAX_IMAGE_TENSOR_BYTES = 2 ** 31;

/** The largest image side Skipscope feeds (a 16384² RGB float image is 3 GiB); the largest a user may choose. */
export const MAX_SIDE = 16384;

/**
 * The sides tried, in order, for a model that does not choose one: the first at which the graph's shapes agree is
 * taken. 224 (ImageNet's) first; models with at most 100 classes (CIFAR-10/100) try 32 first, grey ones 28 (MNIST).
 */
const SIDES = [224, 256, 299, 384, 320, 288, 192, 160, 128, 96, 64, 32, 448, 512];

/** A symbolic or unnamed axis. (A declared 0 or −1 is no open axis: the analysis refuses it as a bad dimension.) */
const isOpen = (d: Dim | undefined) => typeof d !== 'number';

/** The one rank-4 image input whose height or width the file leaves open, and where its axes are; else null. */
function openInput(model: Model): { input: ValueInfo; channelsLast: boolean } | null {
  const { inputs, nodes } = model.graph;
  const [input] = inputs;
  if (inputs.length !== 1 || !input?.shape || input.shape.length !== 4) return null;
  const [, a, b, c] = input.shape;
  // [N, 3, H, W] / [N, H, W, 3]; with every axis open, channels first (ONNX's Conv layout) unless the input goes
  // straight into a Transpose to channels first (tf2onnx's NHWC models).
  // Another fixed channel count (4: RGBA) is read where it stands, so that its shapes and MACs are those of an image
  // and not of 1 × 1; the labs then refuse the channels in one line.
  let channelsLast: boolean;
  if (a === 3 || a === 1) channelsLast = false;
  else if (c === 3 || c === 1) channelsLast = true;
  else if (!isOpen(a) && isOpen(c)) channelsLast = false;
  else if (isOpen(a) && !isOpen(c)) channelsLast = true;
  else if (isOpen(a) && isOpen(c))
    channelsLast = nodes.some(
      (n) => n.opType === 'Transpose' && n.inputs[0] === input.name && String(attrInts(n, 'perm')) === '0,3,1,2',
    );
  else return null;
  const spatial = channelsLast ? [a, b] : [b, c];
  return spatial.some(isOpen) ? { input, channelsLast } : null;
}

/**
 * The input channels of the convolution that reads the image (directly, or through the Transpose to channels
 * first), from its weight's shape [M, C, kH, kW] (C × group for a grouped one); null when there is none to read.
 */
function firstConvChannels(model: Model, input: string, channelsLast: boolean): number | null {
  const { nodes, constants } = model.graph;
  let tensor = input;
  if (channelsLast) {
    const t = nodes.find((n) => n.opType === 'Transpose' && n.inputs[0] === input);
    if (!t?.outputs[0]) return null;
    tensor = t.outputs[0];
  }
  const conv = nodes.find((n) => n.opType === 'Conv' && n.inputs[0] === tensor);
  const dims = conv?.inputs[1] ? constants.get(conv.inputs[1])?.dims : undefined;
  const group = conv ? attrInt(conv, 'group', 1) : 1;
  const c = dims?.[1];
  // Any count: a first Conv reading 4 channels makes a 4-channel input, which the labs then refuse in one line.
  return typeof c === 'number' && c >= 1 ? c * group : null;
}

/** Whether the model's image input leaves its height or width open. */
export function hasOpenSide(model: Model): boolean {
  return openInput(model) !== null;
}

/**
 * The model with its open image side fixed to `side` (or, when null, the first of `SIDES` at which the graph's
 * shapes agree), and what was done; the model unchanged with `open` null when its input's size is fixed. A side
 * the file fixes on one axis only is taken for the other.
 */
export function fixOpenSide(model: Model, side: number | null = null): { model: Model; open: OpenSide | null } {
  const found = openInput(model);
  if (!found) return { model, open: null };
  const { input, channelsLast } = found;
  const shape = input.shape!;
  const declared = shape.map((d) => (isOpen(d) ? d || '?' : String(d))).join('×');
  const spatialAxes = channelsLast ? [1, 2] : [2, 3];
  const channelAxis = channelsLast ? 3 : 1;
  const given = spatialAxes.map((i) => shape[i]).find((d): d is number => !isOpen(d));
  // An open channel axis takes what the first convolution reads (1 for a grey model), else 3 (RGB).
  const channels = firstConvChannels(model, input.name, channelsLast) ?? 3;
  const withSide = (s: number): Model => {
    const dims = shape.map((d, i) => (!isOpen(d) ? d : spatialAxes.includes(i) ? s : i === channelAxis ? channels : d));
    const fixed: ValueInfo = { ...input, shape: dims };
    return { ...model, graph: { ...model.graph, inputs: [fixed] } };
  };
  if (side !== null) {
    if (!(Number.isSafeInteger(side) && side >= 1 && side <= MAX_SIDE))
      throw new RangeError(`an image side is a whole number from 1 to ${MAX_SIDE}`);
    if (given !== undefined && given !== side)
      throw new ModelError(
        `${model.name} fixes one side of its input at ${given} (${declared}): Skipscope runs square images, ${given}×${given}`,
      );
    const fixed = withSide(side);
    // A side the user gives is refused for what is known to fail there, not for an output shape the inference
    // cannot follow (every side would be refused, and none could be given).
    const why = shapeDisagreement(fixed, false);
    if (why)
      throw new ModelError(
        `${model.name} does not run at ${side}×${side}: ${oneLine(why, 160)}; give the side it was trained at`,
      );
    return { model: fixed, open: { side, chosen: true, declared, ...(given !== undefined ? { forced: true } : {}) } };
  }
  if (given !== undefined)
    return { model: withSide(given), open: { side: given, chosen: false, declared, forced: true } };
  const first = withSide(SIDES[0]!);
  const classes = classCount(first);
  // A grey model is MNIST's kind (28); up to 100 classes, CIFAR's (32); else ImageNet's first.
  const preferred = channels === 1 ? 28 : classes !== null && classes <= 100 ? 32 : null;
  const order = preferred === null ? SIDES : [preferred, ...SIDES.filter((s) => s !== preferred)];
  for (const s of order) {
    const candidate = s === SIDES[0] ? first : withSide(s);
    if (shapeDisagreement(candidate) === null) return { model: candidate, open: { side: s, chosen: false, declared } };
  }
  // None fits (a Flatten head for a size not tried): shown at the first side tried, said not to run there and why.
  const shown = order[0]!;
  const atFirst = shown === SIDES[0] ? first : withSide(shown);
  const misfit = oneLine(shapeDisagreement(atFirst) ?? 'its shapes do not agree', 160);
  return { model: atFirst, open: { side: shown, chosen: false, declared, misfit } };
}

/** The class count on the class scores' last axis (core/topology/scores.ts), as declared or inferred; null when unknown. */
function classCount(model: Model): number | null {
  const outputs = model.graph.outputs;
  const declaredOf = (name: string) => {
    const k = outputs.find((o) => o.name === name)?.shape?.at(-1);
    return typeof k === 'number' && k >= 1 ? k : null;
  };
  if (outputs.length === 0) return null;
  // One output that says its classes needs no shape inference.
  const single = outputs.length === 1 ? declaredOf(outputs[0]!.name) : null;
  if (single !== null) return single;
  try {
    const shapes = inferShapes(model.graph);
    const scores = scoresOutput(model.graph, shapes);
    return declaredOf(scores) ?? shapes.get(scores)?.at(-1) ?? null;
  } catch {
    return null;
  }
}

/** Element-wise ops whose inputs broadcast against each other (numpy rules). */
const BROADCASTING = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Max',
  'Min',
  'Sum',
  'Mean',
  'Where',
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  'Xor',
  'Mod',
  'PRelu',
]);

/**
 * Why the graph's shapes do not agree at the side its input declares, or null when they do: every graph output has
 * a shape with no empty axis, every broadcasting op's inputs broadcast, and every MatMul's and Gemm's inner
 * dimensions match. (Shape inference itself is lenient, so that a damaged file still shows its structure: a ViT's
 * position embedding added to the wrong number of tokens, or a Flatten head fed another size, passed it.)
 */
export function shapeDisagreement(model: Model, outputsKnown = true): string | null {
  let shapes: ReturnType<typeof inferShapes>;
  try {
    shapes = inferShapes(model.graph);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const show = (d: readonly number[]) => `[${d.join(', ')}]`;
  for (const node of model.graph.nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
    const ins = node.inputs.map((t) => (t ? shapes.get(t) : undefined));
    const what = `${node.opType}${node.name ? ` "${node.name}"` : ''}`;
    if (BROADCASTING.has(node.opType)) {
      const known = ins.filter((d): d is number[] => d !== undefined);
      for (let i = 1; i < known.length; i++) {
        const a = known[0]!;
        const b = known[i]!;
        const n = Math.min(a.length, b.length);
        for (let k = 1; k <= n; k++) {
          const x = a[a.length - k]!;
          const y = b[b.length - k]!;
          if (x !== y && x !== 1 && y !== 1) return `${what} gets ${show(a)} and ${show(b)}`;
        }
      }
    } else if (node.opType === 'MatMul' || node.opType === 'Gemm') {
      const [a, b] = ins;
      if (!a || !b || a.length < 1 || b.length < 1) continue;
      const transA = node.opType === 'Gemm' && node.attrs.get('transA')?.value === 1;
      const transB = node.opType === 'Gemm' && node.attrs.get('transB')?.value === 1;
      const k1 = transA ? a[a.length - 2] : a[a.length - 1];
      const k2 = b.length === 1 ? b[0] : transB ? b[b.length - 1] : b[b.length - 2];
      if (k1 !== undefined && k2 !== undefined && k1 !== k2)
        return `${what} multiplies ${show(a)} by ${show(b)} (${k1} against ${k2})`;
    }
  }
  for (const o of model.graph.outputs) {
    const d = shapes.get(o.name);
    if (d ? !d.every((x) => x >= 1) : outputsKnown) return `the shape of its output "${o.name}" cannot be worked out`;
  }
  // One image's largest tensor (the shapes are for a batch of one) must fit what onnxruntime can allocate.
  let largest = 0;
  let where = '';
  for (const [name, d] of shapes) {
    const bytes = 4 * d.reduce((a, b) => a * b, 1);
    if (bytes > largest && !model.graph.constants.has(name)) {
      largest = bytes;
      where = name;
    }
  }
  if (largest > MAX_IMAGE_TENSOR_BYTES)
    return `one image's largest tensor ("${oneLine(where, 40)}") takes ${formatBytes(largest)}, more than Skipscope runs (${formatBytes(MAX_IMAGE_TENSOR_BYTES)})`;
  return null;
}
