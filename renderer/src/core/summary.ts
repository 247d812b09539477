import type { ModelMeta } from './catalog';
import { decodeModel, type ExternalDataResolver } from './onnx/decode';
import type { Model } from './onnx/model';
import { detectTopology } from './topology/detect';
import { SHORTCUT_NAMES, type Topology } from './topology/types';

export interface Analysis {
  model: Model;
  topology: Topology;
  architecture: string;
}

/** Decodes and analyses model bytes in one step; throws ModelError with a one-line reason. */
export function analyzeModel(bytes: Uint8Array, fileName: string, resolveExternal?: ExternalDataResolver): Analysis {
  const model = decodeModel(bytes, resolveExternal ? { name: fileName, resolveExternal } : { name: fileName });
  const topology = detectTopology(model);
  return { model, topology, architecture: describeArchitecture(topology) };
}

/** The cached facts the model library keeps per file. */
export function summarizeModel(bytes: Uint8Array, fileName: string, resolveExternal?: ExternalDataResolver): ModelMeta {
  const { model, topology, architecture } = analyzeModel(bytes, fileName, resolveExternal);
  return {
    architecture,
    parameters: topology.params,
    opset: model.opset,
    irVersion: model.irVersion,
    producer: [model.producer, model.producerVersion].filter(Boolean).join(' '),
    blocks: topology.blocks.length,
  };
}

/** A one-line guess such as "ResNet-56, CIFAR-style, post-activation, 27 basic blocks in 3 stages, option-A shortcuts". */
export function describeArchitecture(t: Topology): string {
  if (t.kind === 'plain') return `Plain CNN, ${t.depth} weighted layers, no residual connections`;
  const blocks = t.blocks;
  const kinds = new Set(blocks.map((b) => b.kind));
  const kind = kinds.size === 1 ? [...kinds][0]! : 'mixed';
  const groups = Math.max(...blocks.map((b) => b.groups));
  const family =
    groups > 1 ? `ResNeXt-${t.depth} (${groups} groups)` : isWide(t) ? `Wide ResNet-${t.depth}-2` : `ResNet-${t.depth}`;
  const style = t.stemDownsamples ? 'ImageNet-style' : 'CIFAR-style';
  const activation = blocks.every((b) => b.activation === 'pre')
    ? 'pre-activation'
    : blocks.every((b) => b.activation === 'post')
      ? 'post-activation'
      : 'mixed activation order';
  const nonIdentity = [...new Set(blocks.map((b) => b.shortcut).filter((s) => s !== 'identity'))];
  const shortcuts = (nonIdentity.length ? nonIdentity : ['identity' as const])
    .map((s) => SHORTCUT_NAMES[s])
    .join(' + ');
  const blockWord = kind === 'mixed' || kind === 'other' ? 'residual' : kind;
  const stageWord = t.stages.length === 1 ? 'stage' : 'stages';
  return `${family}, ${style}, ${activation}, ${blocks.length} ${blockWord} blocks in ${t.stages.length} ${stageWord}, ${shortcuts} shortcuts`;
}

/** Wide bottlenecks keep half (not a quarter) of the output channels in the 3×3 convolution. */
function isWide(t: Topology): boolean {
  const b = t.blocks.find((x) => x.kind === 'bottleneck');
  if (!b) return false;
  const mid = b.branchLayers[1]?.weightShape[0] ?? 0;
  const out = b.branchLayers[2]?.weightShape[0] ?? 0;
  return mid > 0 && out / mid <= 2;
}

/** 2^n as a readable string: exact below 2^53, else in scientific notation. */
export function formatPathCount(blocks: number): string {
  if (blocks <= 52) return (2 ** blocks).toLocaleString('en-US');
  return `2^${blocks} ≈ ${(2 ** blocks).toExponential(2)}`;
}

/**
 * The parameter count as a reader should see it: exact, or a lower bound that says so
 * ("≥ 24,234 (2 tensors of unknown size)").
 */
export function describeParams(t: Topology, format: (n: number) => string): string {
  if (t.paramsUnknown === 0) return format(t.params);
  return `≥ ${format(t.params)} (${t.paramsUnknown} ${t.paramsUnknown === 1 ? 'tensor' : 'tensors'} of unknown size)`;
}

/**
 * MACs per image as a reader should see them: exact, or what is known and which ops are missing from it
 * ("≥ 1.46 M (unknown for Foo, Bar)", "unknown (Foo)"), never a number that looks complete but is not.
 */
export function describeMacs(t: Topology, format: (n: number) => string): string {
  if (t.macsUnknownOps.length === 0) return format(t.macs);
  const ops = t.macsUnknownOps.slice(0, 4).join(', ') + (t.macsUnknownOps.length > 4 ? ', …' : '');
  return t.macs > 0 ? `≥ ${format(t.macs)} (unknown for ${ops})` : `unknown (${ops})`;
}
