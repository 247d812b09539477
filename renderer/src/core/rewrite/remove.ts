import { GraphBuilder } from '../onnx/builder';
import type { Model } from '../onnx/model';
import type { Topology } from '../topology/types';
import type { Lesion } from './gates';

/**
 * The lesioned network as a plain model, blocks physically removed: a dropped block's Add is replaced by its
 * shortcut (whatever followed the Add, e.g. the ReLU, still does), a cut skip by its branch; weights nobody uses
 * any more are pruned. Opens in onnxruntime and other viewers and predicts what the gated lesion predicts.
 */
export function removeBlocks(model: Model, topology: Topology, lesion: Lesion): Model {
  const g = new GraphBuilder(model);
  const dropped = new Set(lesion.dropped);
  const cut = new Set(lesion.cutSkips ?? []);
  for (const block of topology.blocks) {
    const dropBranch = dropped.has(block.index);
    const cutSkip = cut.has(block.index);
    if (!dropBranch && !cutSkip) continue;
    const add = g.producerOf(block.sum)!;
    if (dropBranch && cutSkip) {
      // Neither path: the block outputs zeros of the sum's shape.
      g.rewire(block.sum, g.op('Sub', [block.shortcutOutput, block.shortcutOutput]));
    } else g.rewire(block.sum, dropBranch ? block.shortcutOutput : block.branchOutput);
    g.removeNodes((n) => n === add);
  }
  const names = [...dropped].map((k) => `-B${k + 1}`).concat([...cut].map((k) => `-S${k + 1}`));
  return g.build({ prune: true, name: `${model.name.replace(/\.onnx$/i, '')}${names.join('')}` });
}
