import { GraphBuilder } from '../onnx/builder';
import type { Model } from '../onnx/model';
import { plainUnits } from '../topology/plainUnits';
import type { Topology } from '../topology/types';
import type { Lesion } from './gates';

/**
 * The lesioned network as a plain model, blocks physically removed: a dropped block's Add is replaced by its
 * shortcut (whatever followed the Add, e.g. the ReLU, still does), a cut skip by its branch; weights nobody uses
 * any more are pruned. Opens in onnxruntime and other viewers and predicts what the gated lesion predicts.
 */
export function removeBlocks(model: Model, topology: Topology, lesion: Lesion): Model {
  if (topology.kind === 'plain') return removeLayers(model, topology, lesion);
  const g = new GraphBuilder(model);
  const dropped = new Set(lesion.dropped);
  const cut = new Set(lesion.cutSkips ?? []);
  // A removed Add's output now stands for another tensor. Where one block's Add feeds the next block directly (a
  // pre-activation ResNet, an inverted residual, a transformer), the next block's recorded shortcut is that removed
  // output: follow the chain to what replaced it.
  const replaced = new Map<string, string>();
  const current = (t: string) => {
    let name = t;
    while (replaced.has(name)) name = replaced.get(name)!;
    return name;
  };
  for (const block of topology.blocks) {
    const dropBranch = dropped.has(block.index);
    const cutSkip = cut.has(block.index);
    if (!dropBranch && !cutSkip) continue;
    const add = g.producerOf(block.sum)!;
    const shortcut = current(block.shortcutOutput);
    // Neither path: the block outputs zeros of the sum's shape.
    const target =
      dropBranch && cutSkip ? g.op('Sub', [shortcut, shortcut]) : dropBranch ? shortcut : current(block.branchOutput);
    g.rewire(block.sum, target);
    replaced.set(block.sum, target);
    g.removeNodes((n) => n === add);
    // A graph output keeps its name.
    if (g.graphOutputs.some((o) => o.name === block.sum)) g.node('Identity', [target], {}, { outputs: [block.sum] });
  }
  const names = [...dropped].map((k) => `-B${k + 1}`).concat([...cut].map((k) => `-S${k + 1}`));
  return g.build({ prune: true, name: `${model.name.replace(/\.onnx$/i, '')}${names.join('')}` });
}

/**
 * A plain network with removable layers (plainUnits) taken out: whatever read a removed unit's output reads its input
 * instead. `lesion.dropped` holds unit indices, as the lesion target numbers them (rewrite/plain.ts).
 */
function removeLayers(model: Model, topology: Topology, lesion: Lesion): Model {
  if (lesion.cutSkips?.length) throw new Error('a plain network has no skips to cut');
  const units = plainUnits(model, topology);
  const g = new GraphBuilder(model);
  const replaced = new Map<string, string>();
  const current = (t: string) => {
    let name = t;
    while (replaced.has(name)) name = replaced.get(name)!;
    return name;
  };
  const dropped = [...new Set(lesion.dropped)].sort((a, b) => a - b);
  for (const k of dropped) {
    const unit = units[k];
    if (!unit) throw new Error(`no removable layer ${k + 1} (the network has ${units.length})`);
    const input = current(unit.entry);
    g.rewire(unit.output, input);
    replaced.set(unit.output, input);
  }
  const names = dropped.map((k) => `-L${units[k]!.layer + 1}`);
  return g.build({ prune: true, name: `${model.name.replace(/\.onnx$/i, '')}${names.join('')}` });
}
