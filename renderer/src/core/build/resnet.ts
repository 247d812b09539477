/**
 * The variants builder: synthesises ResNets as ONNX models with He-initialised weights from a seed.
 *
 * - CIFAR recipe (He et al. 2015, §4.2): depth 6n+2, three stages of n basic blocks at widths w, 2w, 4w, a 3×3
 *   stem, parameter-free "option A" shortcuts where the shape changes (stride-2 subsample + zero channels).
 * - ImageNet recipe (torchvision layout): 18/34 with basic blocks, 50/101/152 with bottlenecks (stride on the 3×3,
 *   "v1.5"), a 7×7/2 stem with 3×3/2 max pooling, 1×1 projection shortcuts (conv + BN) where the shape changes.
 *
 * Each recipe comes in three variants: `resnet` (post-activation, y = relu(F(x) + x)), `preact` (He et al. 2016,
 * y = F(x) + x with BN→ReLU→conv inside F and a final BN→ReLU before pooling) and `plain` (the same layers with no
 * shortcut and no addition). BatchNorm is kept as BatchNormalization nodes in inference form (γ = 1, β = 0,
 * running mean 0, running variance 1) so the model can be trained later. Initializers carry PyTorch's state_dict
 * names (akamaster's CIFAR ResNets, torchvision's ImageNet ResNets), so a PyTorch model loads them by name.
 */
import { float, int, ints, string } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import { MAX_MODEL_BYTES, type Model } from '../onnx/model';
import { SeededRandom } from './random';

export type Variant = 'resnet' | 'preact' | 'plain';
export type Dataset = 'cifar' | 'imagenet';

export const VARIANTS: readonly Variant[] = ['resnet', 'preact', 'plain'];
/** The variants as pickers and explanations name them. */
export const VARIANT_NAMES: Record<Variant, string> = {
  resnet: 'ResNet (post-activation)',
  preact: 'pre-activation ResNet',
  plain: 'plain (no skips)',
};

/** The variants as charts, tables and verdicts name a network ("ResNet-56"): the one short name of each. */
export const VARIANT_SHORT: Record<Variant, string> = { plain: 'plain', resnet: 'ResNet', preact: 'PreAct-ResNet' };

/** "ResNet-56", "plain-20 (width 8)": a built network as charts and tables name it. */
export function netName(build: { variant: Variant; depth: number; width?: number }): string {
  return `${VARIANT_SHORT[build.variant]}-${build.depth}${build.width && build.width !== 16 ? ` (width ${build.width})` : ''}`;
}

/** ImageNet depths: blocks per stage, and whether the blocks are bottlenecks. */
export const IMAGENET_DEPTHS: Record<number, { stages: number[]; bottleneck: boolean }> = {
  18: { stages: [2, 2, 2, 2], bottleneck: false },
  34: { stages: [3, 4, 6, 3], bottleneck: false },
  50: { stages: [3, 4, 6, 3], bottleneck: true },
  101: { stages: [3, 4, 23, 3], bottleneck: true },
  152: { stages: [3, 8, 36, 3], bottleneck: true },
};

/** CIFAR depths the papers report; any 6n+2 works. */
export const CIFAR_DEPTHS = [20, 32, 44, 56, 110, 1202];

export interface BuildOptions {
  variant: Variant;
  depth: number;
  dataset?: Dataset;
  /** Width of the first stage (default 16 for CIFAR, 64 for ImageNet). */
  width?: number;
  classes?: number;
  seed?: number;
  /** Side of the square input (default 32 for CIFAR, 224 for ImageNet). */
  inputSize?: number;
  /**
   * Start every residual branch at zero (Goyal et al. 2017; torchvision's `zero_init_residual`): the last BatchNorm
   * of each branch gets γ = 0 (post-activation), the last conv of each branch zero weights (pre-activation), so each
   * block starts as its shortcut. Ignored by plain nets, which have no shortcut to start as.
   */
  zeroInitResidual?: boolean;
}

export interface BlockSpec {
  /** state_dict prefix, e.g. "layer2.0". */
  name: string;
  stage: number;
  stride: number;
  bottleneck: boolean;
  /** 'none' in plain nets. */
  shortcut: 'identity' | 'optionA' | 'projection' | 'none';
  inShape: [number, number, number];
  outShape: [number, number, number];
}

export interface Architecture {
  variant: Variant;
  dataset: Dataset;
  depth: number;
  width: number;
  classes: number;
  seed: number;
  inputSize: number;
  blocks: BlockSpec[];
  /** Trainable parameters (conv and linear weights and biases, BatchNorm γ and β). */
  params: number;
  /** Weighted layers on the longest path (stem conv + branch convs + linear). */
  layers: number;
  /** A file-friendly name, e.g. "plain56-cifar-s0" ("-z" when residual branches start at zero). */
  name: string;
  /** Residual branches start at zero (BuildOptions.zeroInitResidual; always false for plain nets). */
  zeroInitResidual: boolean;
  /** What the user should know before running it (null when nothing): e.g. float32 overflow at initialisation. */
  warning: string | null;
}

const MAX_BLOCKS = 5000;

/** A request the builder cannot make (bad depth, width, …): the message is one line for the user. */
export class BuildError extends Error {
  override name = 'BuildError';
}

/** Validates the options and lays out the blocks and their shapes (no weights). */
export function architecture(options: BuildOptions): Architecture {
  const dataset = options.dataset ?? 'cifar';
  const { variant, depth } = options;
  if (!VARIANTS.includes(variant)) throw new BuildError(`unknown variant "${variant}": use resnet, preact or plain`);
  if (dataset !== 'cifar' && dataset !== 'imagenet')
    throw new BuildError(`unknown dataset "${dataset}": use cifar or imagenet`);
  if (!Number.isInteger(depth)) throw new BuildError(`depth must be a whole number, got ${depth}`);
  const width = options.width ?? (dataset === 'cifar' ? 16 : 64);
  const classes = options.classes ?? (dataset === 'cifar' ? 10 : 1000);
  const seed = options.seed ?? 0;
  const inputSize = options.inputSize ?? (dataset === 'cifar' ? 32 : 224);
  if (!Number.isInteger(width) || width < 1 || width > 4096) throw new BuildError(`width must be 1…4096, got ${width}`);
  if (dataset === 'cifar' && width % 2 !== 0)
    throw new BuildError(`CIFAR width must be even (option-A pads half), got ${width}`);
  if (!Number.isInteger(classes) || classes < 2)
    throw new BuildError(`classes must be ≥ 2 (one score per class), got ${classes}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new BuildError(`seed must be 0…4294967295, got ${seed}`);
  if (!Number.isInteger(inputSize) || inputSize < 8) throw new BuildError(`input size must be ≥ 8, got ${inputSize}`);

  let stages: number[];
  let bottleneck: boolean;
  if (dataset === 'cifar') {
    if (depth < 8 || (depth - 2) % 6 !== 0)
      throw new BuildError(`CIFAR ResNets have depth 6n+2 (20, 32, 44, 56, 110, 1202, …), got ${depth}`);
    const n = (depth - 2) / 6;
    if (3 * n > MAX_BLOCKS) throw new BuildError(`depth ${depth} is too deep (at most ${MAX_BLOCKS} blocks)`);
    stages = [n, n, n];
    bottleneck = false;
  } else {
    const spec = IMAGENET_DEPTHS[depth];
    if (!spec) throw new BuildError(`ImageNet ResNets have depth 18, 34, 50, 101 or 152, got ${depth}`);
    stages = spec.stages;
    bottleneck = spec.bottleneck;
  }
  const expansion = bottleneck ? 4 : 1;
  let side = dataset === 'cifar' ? inputSize : pooled(conv(inputSize, 7, 2, 3), 3, 2, 1);
  let channels = width;
  let params =
    3 * width * (dataset === 'cifar' ? 9 : 49) + (variant === 'preact' && dataset === 'cifar' ? 0 : 2 * width);
  const blocks: BlockSpec[] = [];
  stages.forEach((count, s) => {
    const planes = width * 2 ** s;
    const out = planes * expansion;
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const outSide = conv(side, 3, stride, 1);
      const changes = stride !== 1 || channels !== out;
      const shortcut: BlockSpec['shortcut'] =
        variant === 'plain' ? 'none' : !changes ? 'identity' : dataset === 'cifar' ? 'optionA' : 'projection';
      const bn = (c: number) => 2 * c;
      if (bottleneck) {
        params += channels * planes + 9 * planes * planes + planes * out;
        params += variant === 'preact' ? bn(channels) + bn(planes) * 2 : bn(planes) * 2 + bn(out);
      } else {
        params += 9 * channels * planes + 9 * planes * planes;
        params += variant === 'preact' ? bn(channels) + bn(planes) : bn(planes) * 2;
      }
      if (shortcut === 'projection') params += channels * out + (variant === 'preact' ? 0 : bn(out));
      blocks.push({
        name: `layer${s + 1}.${i}`,
        stage: s,
        stride,
        bottleneck,
        shortcut,
        inShape: [channels, side, side],
        outShape: [out, outSide, outSide],
      });
      channels = out;
      side = outSide;
    }
  });
  if (variant === 'preact') params += 2 * channels;
  params += channels * classes + classes;
  if (4 * params > MAX_MODEL_BYTES)
    throw new BuildError(
      `${(params / 1e9).toFixed(1)} billion parameters is more than one ONNX file holds (2 GiB): use a smaller width or depth`,
    );
  const layers = 2 + blocks.length * (bottleneck ? 3 : 2);
  const prefix = variant === 'resnet' ? 'resnet' : variant === 'preact' ? 'preact' : 'plain';
  const zeroInitResidual = variant !== 'plain' && options.zeroInitResidual === true;
  const name = `${prefix}${depth}-${dataset}${width !== (dataset === 'cifar' ? 16 : 64) ? `-w${width}` : ''}${zeroInitResidual ? '-z' : ''}-s${seed}`;
  // With BatchNorm as the identity, each residual block adds a branch of about the input's variance, so the
  // activations' scale grows by about √2 per block (measured: ~1e13 at the logits of ResNet-182, NaN at ResNet-1202).
  // Branches that start at zero add nothing, so nothing grows.
  const decades = variant === 'plain' || zeroInitResidual ? 0 : blocks.length * Math.log10(Math.SQRT2);
  const warning =
    decades > 25
      ? `untrained and unnormalised (BatchNorm is the identity): activations grow ~√2 per block, ~1e${Math.round(decades)} by the head${decades > 38 ? ', past float32 (outputs overflow to Inf/NaN)' : ''}`
      : null;
  return {
    variant,
    dataset,
    depth,
    width,
    classes,
    seed,
    inputSize,
    blocks,
    params,
    layers,
    name,
    zeroInitResidual,
    warning,
  };
}

const conv = (side: number, k: number, stride: number, pad: number) => Math.floor((side + 2 * pad - k) / stride) + 1;
const pooled = conv;

/**
 * Builds the model. Weights: every conv He-normal with fan_out (std √(2 / (c_out·k·k)), as torchvision), the
 * linear layer U(±1/√fan_in) for weight and bias (PyTorch's nn.Linear default), BatchNorm γ = 1, β = 0, μ = 0,
 * σ² = 1, ε = 1e-5. Drawn in graph order from one seeded stream.
 */
export function buildResNet(options: BuildOptions): { model: Model; architecture: Architecture } {
  const arch = architecture(options);
  const { variant, dataset, width, classes, inputSize } = arch;
  const rng = new SeededRandom(arch.seed);
  const b = GraphBuilder.create({ name: arch.name, opset: 13, producer: 'skipscope-build' });
  const input = b.input('input', DataType.FLOAT, ['N', 3, inputSize, inputSize], true);

  const convolution = (x: string, name: string, cin: number, cout: number, k: number, stride: number, zero = false) => {
    const std = Math.sqrt(2 / (cout * k * k));
    // Drawn even when zeroed, so every other weight is the same as without zeroInitResidual.
    const values = rng.normals(cout * cin * k * k, std);
    if (zero) values.fill(0);
    const w = b.initializer(`${name}.weight`, DataType.FLOAT, [cout, cin, k, k], values);
    const pad = (k - 1) >> 1;
    return b.op('Conv', [x, w], {
      kernel_shape: ints([k, k]),
      strides: ints([stride, stride]),
      pads: ints([pad, pad, pad, pad]),
      dilations: ints([1, 1]),
      group: int(1),
    });
  };
  const norm = (x: string, name: string, c: number, gamma = 1) => {
    const param = (suffix: string, value: number) =>
      b.initializer(`${name}.${suffix}`, DataType.FLOAT, [c], new Float32Array(c).fill(value));
    const inputs = [x, param('weight', gamma), param('bias', 0), param('running_mean', 0), param('running_var', 1)];
    return b.op('BatchNormalization', inputs, { epsilon: float(1e-5) });
  };
  const relu = (x: string) => b.op('Relu', [x]);
  const optionA = (x: string, cin: number, cout: number) => {
    const sub = b.op('Slice', [
      x,
      b.int64s('optionA_starts', [0, 0]),
      b.int64s('optionA_ends', [2 ** 53 - 1, 2 ** 53 - 1]),
      b.int64s('optionA_axes', [2, 3]),
      b.int64s('optionA_steps', [2, 2]),
    ]);
    const before = (cout - cin) >> 1;
    const after = cout - cin - before;
    return b.op('Pad', [sub, b.int64s('optionA_pads', [0, before, 0, 0, 0, after, 0, 0])], {
      mode: string('constant'),
    });
  };

  // Stem.
  let x: string;
  if (dataset === 'cifar') {
    x = convolution(input, 'conv1', 3, width, 3, 1);
    if (variant !== 'preact') x = relu(norm(x, 'bn1', width));
  } else {
    x = relu(norm(convolution(input, 'conv1', 3, width, 7, 2), 'bn1', width));
    x = b.op('MaxPool', [x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) });
  }

  const zeroBranch = arch.zeroInitResidual;
  const lastGamma = zeroBranch ? 0 : 1;
  for (const block of arch.blocks) {
    const [cin] = block.inShape;
    const [cout] = block.outShape;
    const planes = block.bottleneck ? cout / 4 : cout;
    const p = block.name;
    if (variant === 'preact') {
      const a = relu(norm(x, `${p}.bn1`, cin));
      let shortcut = x;
      if (block.shortcut === 'optionA') shortcut = optionA(x, cin, cout);
      else if (block.shortcut === 'projection')
        shortcut = convolution(a, `${p}.downsample.0`, cin, cout, 1, block.stride);
      let y: string;
      if (block.bottleneck) {
        y = convolution(a, `${p}.conv1`, cin, planes, 1, 1);
        y = convolution(relu(norm(y, `${p}.bn2`, planes)), `${p}.conv2`, planes, planes, 3, block.stride);
        y = convolution(relu(norm(y, `${p}.bn3`, planes)), `${p}.conv3`, planes, cout, 1, 1, zeroBranch);
      } else {
        y = convolution(a, `${p}.conv1`, cin, planes, 3, block.stride);
        y = convolution(relu(norm(y, `${p}.bn2`, planes)), `${p}.conv2`, planes, cout, 3, 1, zeroBranch);
      }
      x = b.op('Add', [y, shortcut]);
      continue;
    }
    let y: string;
    if (block.bottleneck) {
      y = relu(norm(convolution(x, `${p}.conv1`, cin, planes, 1, 1), `${p}.bn1`, planes));
      y = relu(norm(convolution(y, `${p}.conv2`, planes, planes, 3, block.stride), `${p}.bn2`, planes));
      y = norm(convolution(y, `${p}.conv3`, planes, cout, 1, 1), `${p}.bn3`, cout, lastGamma);
    } else {
      y = relu(norm(convolution(x, `${p}.conv1`, cin, planes, 3, block.stride), `${p}.bn1`, planes));
      y = norm(convolution(y, `${p}.conv2`, planes, cout, 3, 1), `${p}.bn2`, cout, lastGamma);
    }
    if (block.shortcut === 'none') {
      x = relu(y);
      continue;
    }
    let shortcut = x;
    if (block.shortcut === 'optionA') shortcut = optionA(x, cin, cout);
    else if (block.shortcut === 'projection')
      shortcut = norm(convolution(x, `${p}.downsample.0`, cin, cout, 1, block.stride), `${p}.downsample.1`, cout);
    x = relu(b.op('Add', [y, shortcut]));
  }

  // Head.
  const features = arch.blocks.at(-1)?.outShape[0] ?? width;
  if (variant === 'preact') x = relu(norm(x, 'bn_final', features));
  x = b.op('Flatten', [b.op('GlobalAveragePool', [x])], { axis: int(1) });
  const head = dataset === 'cifar' ? 'linear' : 'fc';
  const bound = 1 / Math.sqrt(features);
  const w = b.initializer(
    `${head}.weight`,
    DataType.FLOAT,
    [classes, features],
    rng.uniforms(classes * features, bound),
  );
  const bias = b.initializer(`${head}.bias`, DataType.FLOAT, [classes], rng.uniforms(classes, bound));
  b.node('Gemm', [x, w, bias], { transB: int(1) }, { outputs: ['logits'] });
  b.output('logits', DataType.FLOAT, ['N', classes]);

  const model = b.build({ prune: false });
  model.docString = `${VARIANT_NAMES[variant]}-${arch.depth} (${dataset}), He-normal initialisation, seed ${arch.seed}; built by Skipscope`;
  model.metadata = [
    ['skipscope.build', '1'],
    ['variant', variant],
    ['dataset', dataset],
    ['depth', String(arch.depth)],
    ['width', String(width)],
    ['classes', String(classes)],
    ['seed', String(arch.seed)],
    [
      'init',
      `conv: He normal (fan_out, ReLU gain); linear: U(±1/√fan_in); BatchNorm: γ=1 β=0 μ=0 σ²=1${zeroBranch ? (variant === 'preact' ? '; last conv of each residual branch: 0' : '; last BatchNorm γ of each residual branch: 0') : ''}`,
    ],
  ];
  return { model, architecture: arch };
}
