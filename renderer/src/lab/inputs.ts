import { DataType, isIntegral, runtimeType } from '../core/onnx/dtypes';
import { type Model, ModelError } from '../core/onnx/model';
import { MAX_SIDE } from '../core/rewrite/inputSize';
import { oneLine } from '../core/text';
import { type InputNormalization, inputNormalization } from '../core/topology/inputNorm';
import { weightsNotStored } from '../core/topology/params';
import { finalSoftmax } from '../core/topology/scores';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import { greyAsRgb, nchwToNhwc, normalizePlanar, type Preprocessing, toGrey } from '../data/preprocess';
import { UnsupportedInput } from './job';
import { float32, type HostTensor, type SessionOptions } from './runtime';

/** How a model takes images: which input, channels first or last, the side, and whether its batch is fixed. */
export interface ModelInput {
  name: string;
  layout: 'NCHW' | 'NHWC';
  /** 3: RGB; 1: grey (images are converted as PIL's convert('L') does, after the resize and crop). */
  channels: 1 | 3;
  side: number;
  /** A batch size the graph insists on (e.g. exported with batch 1), or null when the batch axis is dynamic. */
  fixedBatch: number | null;
  /** The symbolic name of a dynamic batch axis ("N", "batch_size"), to fix it per session; null when none. */
  batchDim: string | null;
  /** The output experiments read (logits), and its class count when known. */
  output: string;
  classes: number | null;
  /**
   * What that output holds (absent: logits): a model ending in Softmax gives probabilities, one ending in LogSoftmax
   * log-probabilities; the top-5 and the confidences are read from them as they are, not softmaxed again.
   */
  scores?: Scores;
  /**
   * The normalisation the model does itself before its first layer (Div by 255, Sub the mean…), and so the pixel
   * range it takes; absent when it does none. The default preprocessing then feeds that range, not ImageNet's.
   */
  normalizes?: InputNormalization;
}

export type Scores = 'logits' | 'probabilities' | 'log-probabilities';

/** What a model's output holds, from the op that makes it (through Identity copies). */
export function scoresOf(model: Model, output: string): Scores {
  const last = finalSoftmax(model.graph, output);
  return !last ? 'logits' : last.opType === 'Softmax' ? 'probabilities' : 'log-probabilities';
}

/** Reads the image input of a model; throws a one-line message when it does not take square RGB or grey images. */
export function describeInput(model: Model, topology: Topology): ModelInput {
  const { inputs } = model.graph;
  const unstored = weightsNotStored(model.graph);
  if (unstored) throw new ModelError(`this model: ${unstored}`);
  // Every run feeds one tensor: a second input made every run fail with onnxruntime's "input 'x2' is missing".
  if (inputs.length > 1)
    throw new ModelError(
      `this model has ${inputs.length} inputs (${inputs
        .slice(0, 4)
        .map((i) => `"${oneLine(i.name, 40)}"`)
        .join(', ')}${inputs.length > 4 ? ', …' : ''}): Skipscope feeds one image input`,
    );
  const declared = inputs.find((i) => i.name === topology.input.name);
  const shape = topology.input.shape;
  const [, a, b, c] = (shape ?? []) as number[];
  const colour = (d: number | undefined) => d === 3 || d === 1;
  const layout = shape?.length === 4 ? (colour(a) && b === c ? 'NCHW' : colour(c) && a === b ? 'NHWC' : null) : null;
  if (!layout) {
    // Not four axes (a vector, token ids): its whole shape and type say what it is ("expects input", with nothing
    // between the words, once described a rank-1 input).
    const dims = declared?.shape ?? shape;
    const type = declared ? runtimeType(declared.elemType) : null;
    const integer = declared !== undefined && isIntegral(declared.elemType);
    const what =
      shape?.length === 4
        ? shape.slice(1).join('×')
        : `${type ? `${type} ` : ''}${dims ? `[${dims.map((d) => (typeof d === 'number' ? d : oneLine(String(d ?? '?'), 12))).join(', ')}]` : 'unknown-shape'}`;
    throw new ModelError(
      `this model expects ${what} input${integer && shape?.length !== 4 ? ' (whole numbers, token ids of a text model?)' : ''}; Skipscope runs square RGB or grey images (3×S×S, 1×S×S, S×S×3 or S×S×1)`,
    );
  }
  const channels = (layout === 'NCHW' ? a : c) as 1 | 3;
  const side = layout === 'NCHW' ? b! : a!;
  // Shapes are inferred with a symbolic height and width taken as 1: the model would be fed 1 × 1 images.
  const spatial = declared?.shape?.slice(layout === 'NCHW' ? 2 : 1, layout === 'NCHW' ? 4 : 3) ?? [];
  if (spatial.some((d) => typeof d !== 'number'))
    throw new ModelError(
      `this model's input size is not fixed (${declared!.shape!.map((d) => (typeof d === 'number' ? d : oneLine(String(d ?? '?'), 12))).join('×')}): Skipscope needs its image side; export it with a fixed height and width (no dynamic axes for them)`,
    );
  if (!(side >= 1 && side <= MAX_SIDE))
    throw new ModelError(`this model expects ${side}×${side} images; Skipscope runs sides from 1 to ${MAX_SIDE}`);
  const elemType = declared?.elemType ?? DataType.FLOAT;
  if (elemType !== DataType.FLOAT && elemType !== DataType.UNDEFINED)
    throw new ModelError(
      `this model's input "${oneLine(topology.input.name, 60)}" takes ${runtimeType(elemType) ?? `element type ${elemType}`} values; Skipscope feeds float32 images`,
    );
  const batch = declared?.shape?.[0];
  if (typeof batch === 'number' && !(Number.isSafeInteger(batch) && batch >= 1))
    throw new ModelError(`this model declares batches of ${batch} images`);
  // onnxruntime returns only declared outputs: without one there is nothing to read ('fetches' names an unknown
  // output, it said).
  if (!model.graph.outputs.some((o) => o.name === topology.output.name))
    throw new ModelError(
      model.graph.outputs.length === 0
        ? 'this model declares no graph outputs: onnxruntime returns nothing to read'
        : `this model does not declare "${oneLine(topology.output.name, 60)}" (its logits) as a graph output`,
    );
  // One score per class and image: a segmentation map or an embedding is no classifier (Run once showed "class
  // 1800" of a 5×32×32 output, and Evaluate scored it).
  // Every lab reads the classes on the last axis: [N, K], [N, 1, 1, K] (a channels-last head) or [K] for one image.
  // [N, K, 1, 1] was read as K rows of one class each (Evaluate said 100 %): refused with the others.
  const out = topology.output.shape;
  if (out && (out.length === 0 || !(out.length === 1 || out.slice(1, -1).every((d) => d === 1))))
    throw new ModelError(
      `this model's output is ${out.slice(1).join('×') || 'a scalar'} per image, not one score per class on its last axis: Run, Evaluate and the labs need class scores (N×K)`,
    );
  // One output value per image (a sigmoid, a single logit, a regression): no class to take the top of. Every image
  // was "class 0" at 100 %, and the cross-entropy of one class, and so every gradient, was 0.
  if (out && out.length >= 1 && out.at(-1) === 1)
    throw new ModelError(
      'this model gives one value per image (a sigmoid, a single logit or a regression), not a score per class: Run, Evaluate and the labs need two classes or more',
    );
  const normalizes = inputNormalization(model.graph, topology.input.name, channels, layout);
  return {
    name: topology.input.name,
    layout,
    channels,
    side,
    fixedBatch: typeof batch === 'number' ? batch : null,
    batchDim: typeof batch === 'string' ? batch : null,
    output: topology.output.name,
    classes: topology.output.shape?.at(-1) ?? null,
    scores: scoresOf(model, topology.output.name),
    ...(normalizes ? { normalizes } : {}),
  };
}

/** Images that could not be read: listed and skipped, never fatal. */
export interface Skipped {
  index: number;
  name: string;
  reason: string;
}

export interface Batch {
  /** Set indices of the images in the tensor, in order. */
  indices: number[];
  /** Null when none of the images could be read. */
  tensor: HostTensor | null;
  /** The images as read: planar RGB bytes, side × side each, in `indices` order. */
  pixels: Uint8Array;
  skipped: Skipped[];
}

/**
 * One image's pixels for work that cannot leave an image out (a training batch, a test-error pass, BatchNorm
 * calibration): a file that is no image is the user's input, refused in one line (training on a folder with one
 * empty .jpg ended in "internal error", exit 1).
 */
export async function pixelsOrRefuse(
  set: ImageSet,
  index: number,
  side: number,
  resize: number | null,
): Promise<Uint8Array> {
  try {
    return await set.pixels(index, side, resize);
  } catch (error) {
    // CIFAR binaries are checked when opened: a failure to read one is ours. So is a failure that does not name
    // the file (no canvas, no memory): only the decoders' "x.jpg is not an image …" is the image's fault.
    const message = error instanceof Error ? error.message : String(error);
    const name = set.name(index);
    const named = message.includes(name) || message.includes(oneLine(name, 200));
    if (error instanceof UnsupportedInput || set.nativeSide !== null || !named) throw error;
    const reason = oneLine(message, 240);
    throw new UnsupportedInput(`${reason}: remove it from ${set.title} to use the other images`);
  }
}

/**
 * Reads, resizes and normalises the images `indices` of `set` into one input tensor for `input`.
 * Unreadable images are left out and reported in `skipped` (the tensor is null when none could be read).
 */
export async function loadBatch(
  set: ImageSet,
  indices: readonly number[],
  input: ModelInput,
  prep: Preprocessing,
): Promise<Batch> {
  const plane = 3 * input.side * input.side;
  const pixels = new Uint8Array(indices.length * plane);
  const used: number[] = [];
  const skipped: Skipped[] = [];
  for (const i of indices) {
    try {
      pixels.set(await set.pixels(i, input.side, prep.resize), used.length * plane);
      used.push(i);
    } catch (error) {
      if (set.nativeSide !== null) throw error;
      const name = set.name(i);
      const why = error instanceof Error ? error.message : String(error);
      // The reason names its file: a read error's own words do not (a file over 2 GiB, a file gone since it was
      // listed), and a list of reasons without names said nothing of which file to look at.
      skipped.push({
        index: i,
        name,
        reason: why.includes(name) || why.includes(baseName(name)) ? why : `${name}: ${why}`,
      });
    }
  }
  if (used.length === 0) return { indices: [], tensor: null, pixels: new Uint8Array(0), skipped };
  const n = used.length;
  const read = pixels.subarray(0, n * plane);
  // A grey model sees the grey image: that is what the thumbnails and the saliency overlay show.
  const seen = input.channels === 1 ? greyAsRgb(read, n, input.side * input.side) : read;
  return { indices: used, tensor: imageTensor(read, n, input, prep), pixels: seen, skipped };
}

/** The input tensor's dimensions for `n` images. */
export function inputDims(input: ModelInput, n: number): number[] {
  const { side, channels } = input;
  return input.layout === 'NCHW' ? [n, channels, side, side] : [n, side, side, channels];
}

/**
 * Planar RGB bytes of `n` images (n × 3 × side × side) → the model's input tensor: normalised per channel, grey for
 * a one-channel model (PIL's convert('L'): L = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16, then mean[0] and std[0]),
 * channels last where the model takes them so.
 */
export function imageTensor(pixels: Uint8Array, n: number, input: ModelInput, prep: Preprocessing): HostTensor {
  const { side } = input;
  const area = side * side;
  // The planes in the model's order: one grey plane, blue first, or RGB as read.
  const planes =
    input.channels === 1 ? toGrey(pixels, n, area) : prep.order === 'BGR' ? swapRedBlue(pixels, n, area) : pixels;
  const planar = normalizePlanar(planes, n, side, side, prep, input.channels);
  if (input.layout === 'NCHW' || input.channels === 1) return float32(planar, inputDims(input, n));
  const plane = 3 * area;
  const nhwc = new Float32Array(planar.length);
  for (let k = 0; k < n; k++)
    nhwc.set(nchwToNhwc(planar.subarray(k * plane, (k + 1) * plane), 3, side, side), k * plane);
  return float32(nhwc, inputDims(input, n));
}

/** Planar RGB images → planar BGR (the first and last planes swapped), for a model that takes blue first. */
function swapRedBlue(pixels: Uint8Array, n: number, area: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let k = 0; k < n; k++) {
    const at = k * 3 * area;
    out.set(pixels.subarray(at + 2 * area, at + 3 * area), at);
    out.set(pixels.subarray(at + area, at + 2 * area), at + area);
    out.set(pixels.subarray(at, at + area), at + 2 * area);
  }
  return out;
}

/** Splits 0…count−1 (in `order` when given) into batches of at most `size`. */
export function batches(count: number, size: number, order?: Int32Array): number[][] {
  const all = order ? Array.from(order) : Array.from({ length: count }, (_, i) => i);
  const out: number[][] = [];
  for (let s = 0; s < all.length; s += size) out.push(all.slice(s, s + size));
  return out;
}

/** The session options that fix the batch axis to `batch` (static shapes run faster), when it is symbolic. */
export function batchSessionOptions(input: ModelInput, batch: number): SessionOptions {
  return input.batchDim ? { freeDimensions: { [input.batchDim]: batch } } : {};
}

/** The batch size a session must be fed: the graph's own fixed batch, else the one it was created for. */
export function sessionBatch(input: ModelInput, wanted: number): number {
  return input.fixedBatch ?? wanted;
}

/** Pads a batch tensor with zero images up to `size` (a session with a fixed batch axis needs full batches). */
export function padBatch(tensor: HostTensor, size: number): HostTensor {
  const n = tensor.dims[0]!;
  if (n >= size) return tensor;
  const data = new Float32Array((tensor.data.length / n) * size);
  data.set(tensor.data as Float32Array);
  return float32(data, [size, ...tensor.dims.slice(1)]);
}

/**
 * One image as a model takes it: a model exported with a fixed batch of N (torch traces the dummy input's batch into
 * the file) gets the image and N − 1 rows of zeros, as a batch of a set is padded; the rows of an eval-mode export
 * never meet (a training-mode export's BatchNorm would mix them: warned about on opening).
 * predict --image, grad and the Run panel failed on such a model in onnxruntime's words ("Got invalid dimensions").
 */
export function oneImageBatch(input: ModelInput, tensor: HostTensor): { tensor: HostTensor; rows: number } {
  const rows = input.fixedBatch !== null && input.fixedBatch > 1 ? input.fixedBatch : 1;
  return { tensor: rows > 1 ? padBatch(tensor, rows) : tensor, rows };
}

/** The first image's values of an output computed for `rows` images. */
export function firstImage(data: Float32Array, rows: number): Float32Array {
  return rows > 1 ? data.subarray(0, data.length / rows) : data;
}

/** Image `index` of a set as a batch-1 tensor and its pixels; one-line errors for a bad index or an unreadable file. */
export async function loadImage(
  set: ImageSet,
  index: number,
  input: ModelInput,
  prep: Preprocessing,
): Promise<{ tensor: HostTensor; pixels: Uint8Array }> {
  if (!(index >= 0 && index < set.count))
    throw new UnsupportedInput(`no image ${index} in ${set.title} (it has ${set.count})`);
  const batch = await loadBatch(set, [index], input, prep);
  if (!batch.tensor) throw new UnsupportedInput(batch.skipped[0]?.reason ?? `${set.name(index)} could not be read`);
  return { tensor: batch.tensor, pixels: batch.pixels };
}

/** The last part of a path inside a set ("dog/a.jpg" → "a.jpg"). */
function baseName(path: string): string {
  return path.split(/[\\/]/).at(-1) ?? path;
}
