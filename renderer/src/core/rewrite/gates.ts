import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Dim, Model } from '../onnx/model';
import type { Topology } from '../topology/types';
import { requireFloat32 } from './fold';

export interface Gate {
  branch: string;
  skip: string;
  /** Rank of the gate tensors, [batch, 1, …]. */
  rank: number;
}

/** A model whose residual joins take gates: y = branch · g + skip · s per block (and per image). */
export interface GatedModel {
  model: Model;
  /**
   * Per block, the input names of its branch gate g and skip gate s, each shaped [batch, 1, …] with the rank of the
   * block's sum (4 after a convolution, 2 after a Linear).
   */
  gates: Gate[];
  /** The batch dimension the gates share with the image input: a symbolic name or a fixed size. */
  batch: Dim;
  /**
   * A plain network's removable layers as joins (rewrite/plain.ts): every skip gate is 0 at rest, and a removed
   * layer's gates flip (g = 0, s = 1), so its input is passed on in its place. Skips cannot be cut there.
   */
  closedSkips: boolean;
}

/**
 * Rewrites every residual join `Add(F(x), shortcut(x))` into `Add(F(x) · g_k, shortcut(x) · s_k)` with two
 * gate inputs per block, so that one session runs any lesion: g_k = 0 removes block k's branch (the shortcut
 * still carries the signal), s_k = 0 cuts its skip (the plain-network case). Gates are per image ([N,1,1,1]), so
 * one batch can hold different lesions (stochastic depth). With every gate 1 the products are exact (x · 1 = x);
 * the logits still differ in the last bits (measured ≤ 1e-5) because onnxruntime fuses Conv + Add of the original
 * graph into one kernel that sums in another order (relative to the largest logit).
 * `extraOutputs` adds graph outputs (tensors to cache, e.g. block inputs).
 */
export function gateBlocks(
  model: Model,
  topology: Topology,
  extraOutputs: readonly string[] = [],
  closedSkips = false,
): GatedModel {
  requireFloat32(model, 'lesions');
  const g = new GraphBuilder(model);
  const image = model.graph.inputs.find((i) => i.name === topology.input.name);
  const batch: Dim = image?.shape?.[0] ?? 'N';
  const gates = topology.blocks.map((block) => {
    const add = g.producerOf(block.sum);
    if (!add) throw new Error(`block ${block.index + 1}: its Add is missing`);
    const rank = 1 + (block.outShape?.length ?? 3);
    const shape: Dim[] = [batch, ...new Array(rank - 1).fill(1)];
    const branch = g.input(`skipscope_gate_branch_${block.index}`, DataType.FLOAT, shape);
    const skip = g.input(`skipscope_gate_skip_${block.index}`, DataType.FLOAT, shape);
    add.inputs[block.branchOperand] = g.op('Mul', [block.branchOutput, branch]);
    add.inputs[1 - block.branchOperand] = g.op('Mul', [block.shortcutOutput, skip]);
    return { branch, skip, rank };
  });
  for (const name of extraOutputs) g.output(name);
  return { model: g.build({ prune: false }), gates, batch, closedSkips };
}

/** A lesion: blocks whose branch F is removed, and blocks whose skip is cut. */
export interface Lesion {
  dropped: readonly number[];
  cutSkips?: readonly number[];
}

/**
 * Gate values for `count` images: 1 everywhere except the lesion's zeros; with closed skips (a plain network), skip
 * gates 0 except at the removed layers.
 */
export function gateFeeds(
  gated: GatedModel,
  lesion: Lesion | ((image: number) => Lesion),
  count: number,
): Record<string, Float32Array> {
  const feeds: Record<string, Float32Array> = {};
  const rest = gated.closedSkips ? 0 : 1;
  for (const { branch, skip } of gated.gates) {
    feeds[branch] = new Float32Array(count).fill(1);
    feeds[skip] = new Float32Array(count).fill(rest);
  }
  for (let i = 0; i < count; i++) {
    const l = typeof lesion === 'function' ? lesion(i) : lesion;
    if (gated.closedSkips && l.cutSkips?.length) throw new Error('a plain network has no skips to cut');
    for (const k of l.dropped) {
      feeds[gated.gates[k]!.branch]![i] = 0;
      feeds[gated.gates[k]!.skip]![i] = 1;
    }
    for (const k of l.cutSkips ?? []) feeds[gated.gates[k]!.skip]![i] = 0;
  }
  return feeds;
}
