import type { Model } from './onnx/model';
import type { OpenSide } from './rewrite/inputSize';
import { type Analysis, describeBatchNorm } from './summary';
import type { InputNormalization } from './topology/inputNorm';
import { type Layer, type ResidualBlock, SHORTCUT_NAMES } from './topology/types';

/**
 * The stable JSON of `skipscope inspect --json` and the app's structure export (schema "skipscope.inspect/2",
 * documented in docs/cli.md). Blocks and stages are numbered from 1. Fields are only ever added within a schema
 * version; shapes are per image ([C, H, W]).
 */
export interface InspectJson {
  schema: 'skipscope.inspect/2';
  file: string;
  bytes: number;
  onnx: { irVersion: number; opset: number; producer: string; producerVersion: string };
  kind: 'residual' | 'plain';
  architecture: string;
  input: { name: string; shape: (number | string | null)[] | null };
  output: { name: string; shape: (number | string | null)[] | null };
  /**
   * Present when the file leaves its input's height and width open: the side Skipscope reads it at (filled into
   * `input.shape`), who chose it, the shape as the file declares it, and why no side fits when none does.
   */
  openSide?: OpenSide;
  /** null when some parameter tensor's size is unknown (parametersAtLeast then holds what is known). */
  parameters: number | null;
  parametersAtLeast: number;
  /** null when some op's MACs are unknown (macsAtLeast then holds what is known, macsUnknownOps the ops). */
  macs: number | null;
  macsAtLeast: number;
  macsUnknownOps: string[];
  depth: number;
  paths: { log2: number; count: string };
  batchNorm: 'folded' | 'separate';
  stem: string[];
  head: string[];
  stages: { index: number; firstBlock: number; lastBlock: number; outShape: number[] | null }[];
  blocks: InspectBlock[];
  /** Every weighted layer (Layer without its node index). */
  layers: Omit<Layer, 'node'>[];
  unknownOps: string[];
  /** BatchNorm in words (summary.describeBatchNorm): separate layers, none (LayerNorm instead), or none or folded. */
  batchNormText: string;
  /** What to know before trusting figures from the file (a training-mode export), one line each. */
  warnings: string[];
  /**
   * The normalisation the graph does to its image itself and the pixel range it takes (null: none; absent where the
   * report was made without reading the input, as the app's export does).
   */
  inputNormalization?: InputNormalization | null;
}

export interface InspectBlock {
  index: number;
  stage: number;
  kind: ResidualBlock['kind'];
  shortcut: ResidualBlock['shortcut'];
  activation: ResidualBlock['activation'];
  branchStart: string;
  afterAdd: string | null;
  downsample: boolean;
  inShape: number[] | null;
  outShape: number[] | null;
  branchLayers: number;
  shortcutLayers: number;
  groups: number;
  /** In a transformer, the sublayer the join closes ("attention" | "mlp"); null elsewhere. */
  sublayer: 'attention' | 'mlp' | null;
  /** null when some parameter tensor's size in the block is unknown. */
  params: number | null;
  /** null when some op's MACs in the block are unknown. */
  macs: number | null;
  entry: string;
  output: string;
}

/** Builds the inspect JSON from an analysis. Pure: no I/O. */
export function toInspectJson(file: string, analysis: Analysis): InspectJson {
  const { model, topology: t, architecture } = analysis;
  const ops = (nodes: number[]) => nodes.map((n) => model.graph.nodes[n]!.opType);
  return {
    schema: 'skipscope.inspect/2',
    file,
    bytes: model.byteLength,
    onnx: {
      irVersion: model.irVersion,
      opset: model.opset,
      // Clipped, not cleaned: JSON keeps a file's strings as they are (escaped), only not megabytes of them.
      producer: clip(model.producer, 200),
      producerVersion: clip(model.producerVersion, 200),
    },
    kind: t.kind,
    architecture,
    input: { name: t.input.name, shape: declaredShape(model, t.input.name) },
    output: { name: t.output.name, shape: declaredShape(model, t.output.name) },
    ...(analysis.openSide ? { openSide: analysis.openSide } : {}),
    parameters: t.paramsUnknown ? null : t.params,
    parametersAtLeast: t.params,
    macs: t.macsUnknownOps.length ? null : t.macs,
    macsAtLeast: t.macs,
    macsUnknownOps: t.macsUnknownOps,
    depth: t.depth,
    paths: { log2: t.blocks.length, count: (2n ** BigInt(t.blocks.length)).toString() },
    batchNorm: t.batchNorms > 0 ? 'separate' : 'folded',
    stem: ops(t.stem),
    head: ops(t.head),
    stages: t.stages.map((s) => ({
      index: s.index + 1,
      firstBlock: s.first + 1,
      lastBlock: s.last + 1,
      outShape: s.outShape,
    })),
    blocks: t.blocks.map((b) => ({
      index: b.index + 1,
      stage: b.stage + 1,
      kind: b.kind,
      shortcut: b.shortcut,
      activation: b.activation,
      branchStart: b.branchStart,
      afterAdd: b.afterAdd,
      downsample: b.downsample,
      inShape: b.inShape,
      outShape: b.outShape,
      branchLayers: b.branchLayers.length,
      shortcutLayers: b.shortcutLayers.length,
      groups: b.groups,
      sublayer: b.sublayer,
      params: b.paramsComplete ? b.params : null,
      macs: b.macsComplete ? b.macs : null,
      entry: b.entry,
      output: b.output,
    })),
    layers: t.layers.map(({ node: _node, ...layer }) => layer),
    unknownOps: t.unknownOps,
    batchNormText: describeBatchNorm(model, t),
    warnings: analysis.warnings,
  };
}

/** The shape as the file declares it (symbolic batch kept as its name, e.g. "N"). */
function declaredShape(model: Model, name: string): (number | string | null)[] | null {
  const info = [...model.graph.inputs, ...model.graph.outputs].find((v) => v.name === name);
  return info?.shape ?? null;
}

/** An exact figure, or what is known of it and why it is not all ("≥ 1,234 (why)", "unknown (why)"). */
function atLeast(exact: number | null, known: number, why: string): string {
  if (exact !== null) return exact.toLocaleString('en-US');
  return known > 0 ? `≥ ${known.toLocaleString('en-US')} (${why})` : `unknown (${why})`;
}

/** Human-readable report for the terminal. */
export function formatInspect(j: InspectJson): string {
  const shape = (s: readonly (number | string | null)[] | null) => (s ? `[${s.map((d) => d ?? '?').join(',')}]` : '?');
  const chw = (s: number[] | null) => (s ? s.join('×') : '?');
  const lines = [
    `${j.file} — ${j.architecture}`,
    ...j.warnings.map((w) => `  warning: ${w}`),
    `  ONNX IR ${j.onnx.irVersion}, opset ${j.onnx.opset}${j.onnx.producer ? `, from ${[j.onnx.producer, j.onnx.producerVersion].filter(Boolean).join(' ')}` : ''}, ${j.bytes.toLocaleString('en-US')} bytes`,
    `  input ${j.input.name} ${shape(j.input.shape)}  →  output ${j.output.name} ${shape(j.output.shape)}`,
    `  parameters ${atLeast(j.parameters, j.parametersAtLeast, 'some tensors of unknown size')}, MACs/image ${atLeast(j.macs, j.macsAtLeast, `unknown for ${j.macsUnknownOps.join(', ')}`)}, depth ${j.depth} weighted layers, BatchNorm ${j.batchNormText}`,
  ];
  if (j.kind === 'plain') {
    lines.push(`  plain network: ${j.layers.length} weighted layers, no residual blocks (1 path)`);
    for (const [i, l] of j.layers.entries())
      lines.push(
        `  ${String(i + 1).padStart(3)}  ${l.op.padEnd(7)} ${l.weightShape.join('×').padEnd(16)} → ${chw(l.outShape)}`,
      );
  } else {
    lines.push(
      `  ${j.blocks.length} residual blocks in ${j.stages.length} stage${j.stages.length === 1 ? '' : 's'}: 2^${j.paths.log2} = ${BigInt(j.paths.count).toLocaleString('en-US')} paths`,
    );
    lines.push(`  stem: ${j.stem.join(' → ') || '(none)'}`);
    lines.push('    #  stage  in → out                    block       shortcut           act   convs  params');
    for (const b of j.blocks) {
      const io = `${chw(b.inShape)} → ${chw(b.outShape)}`;
      const convs = `${b.branchLayers}${b.shortcutLayers ? `+${b.shortcutLayers}` : ''}`;
      lines.push(
        `  ${String(b.index).padStart(3)}  ${String(b.stage).padStart(5)}  ${io.padEnd(26)}  ${(b.sublayer ? (b.sublayer === 'mlp' ? 'MLP' : 'attention') : b.kind).padEnd(10)}  ${SHORTCUT_NAMES[b.shortcut].padEnd(17)}  ${b.activation.padEnd(4)}  ${convs.padStart(5)}  ${(b.params === null ? 'unknown' : b.params.toLocaleString('en-US')).padStart(9)}`,
      );
    }
    lines.push(`  head: ${j.head.join(' → ') || '(none)'}`);
  }
  if (j.unknownOps.length)
    lines.push(`  note: ops outside the ResNet op set (shapes not inferred): ${j.unknownOps.join(', ')}`);
  return lines.join('\n');
}

/** `text` cut to `max` characters, ending in "…" when cut. */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
