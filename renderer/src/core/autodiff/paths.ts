import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Model } from '../onnx/model';
import { ModelError } from '../onnx/model';
import type { Topology } from '../topology/types';
import { batchAgnosticShapes, type Differentiated, differentiate } from './differentiate';
import { createEmitter, scaledNormPerImage } from './emit';
import { crossEntropy, type LossFeeds, logitsOf, splitAtEntry } from './gradients';

/**
 * A residual network unrolls into 2ⁿ paths: at each of its n blocks a path takes either the skip or the branch F.
 * The input gradient is the sum of the gradients along all paths. These graphs measure that sum by path length
 * k (the number of branches a path takes), for one image at a time. The backward pass carries paths or lengths
 * along the batch axis. Where the batch stays the first axis of every tensor (convolutional nets), the forward
 * pass runs at batch 1 and the backward pass reads its activations by broadcast. Where the batch merges with
 * other axes (attention's batch × heads, Swin's windows), the image is fed once per row (`feeding`), so forward and
 * backward tensors have the same batch.
 */
export interface PathGraph {
  model: Model;
  image: string;
  feeds: LossFeeds;
  /** Norm at the first block's input, one per row of the backward batch. */
  norms: string;
  /** The full gradient at the first block's input, one row per length or path (tests compare it). */
  grads: string;
  /** The same at the image input (through the stem), one row per length or path. */
  inputGrads: string;
  /** Cross-entropy of the image (forward pass). */
  loss: string;
  blocks: number;
  /**
   * 'broadcast': feed the image and its target once. 'replicated': feed the image once per backward row (the
   * exact graph: n + 1 rows, loss weight 1 on the first row and 0 on the others; the sampled graph: one row per
   * path, weight 1 each).
   */
  feeding: 'broadcast' | 'replicated';
}

/**
 * True when some tensor's batch-dependent dimension is not (only) its first axis: attention reshapes the batch
 * into batch × heads, Swin into windows. Broadcasting a batch-1 forward pass against a many-row backward pass
 * then mixes rows, so such models run their forward pass once per row.
 */
function batchMoves(shapes: ReadonlyMap<string, readonly number[]>): boolean {
  for (const s of shapes.values()) {
    const at = s.flatMap((d, i) => (d === -1 ? [i] : []));
    if (at.length > 1 || (at.length === 1 && at[0] !== 0)) return true;
  }
  return false;
}

function prepare(model: Model, topology: Topology) {
  if (topology.blocks.length === 0)
    throw new ModelError(`${model.name} has no residual blocks: it has no paths to study`);
  const b = new GraphBuilder(model);
  const image = topology.input.name;
  const logits = logitsOf(model, topology.output.name);
  const { shapes } = batchAgnosticShapes(model);
  const classes = shapes.get(logits)?.at(-1);
  if (!classes) throw new ModelError(`${model.name}: the number of classes is unknown`);
  const feeding: PathGraph['feeding'] = batchMoves(shapes) ? 'replicated' : 'broadcast';
  // Rows travel on axis 0: a sequence-first residual stream ([tokens, batch, width]) would mix tokens instead.
  const stream = shapes.get(topology.blocks[0]!.entry);
  if (stream && stream.indexOf(-1) > 0)
    throw new ModelError(
      `${model.name}: its residual stream carries the batch on axis ${stream.indexOf(-1)}, not first; the path study needs batch-first tensors (batch_first=True)`,
    );
  const ce = crossEntropy(b, createEmitter(b, 'loss'), logits, feeding === 'replicated' ? 'R' : 1, classes);
  const entry = topology.blocks[0]!.entry;
  const rank = shapes.get(entry)?.length ?? 4;
  return { b, image, logits, ce, entry, rank, feeding };
}

/** The outputs both path graphs give: norms and gradients at the first block's input, the input gradient, the loss. */
function finish(
  model: Model,
  topology: Topology,
  { b, image, ce, entry, rank, feeding }: ReturnType<typeof prepare>,
  d: Differentiated,
  what: string,
): PathGraph {
  const grads = d.grads.get(entry);
  if (!grads) throw new ModelError(`${model.name}: the loss does not depend on the first block's input`);
  const norms = scaledNormPerImage(d.e, grads, rank);
  const inputGrads = d.grads.get(image)!;
  b.setOutputs([norms, grads, inputGrads, ce.loss].map((name) => ({ name, elemType: DataType.FLOAT, shape: null })));
  return {
    model: b.build({ prune: true, name: `${model.name} (${what})` }),
    image,
    feeds: ce.feeds,
    norms,
    grads,
    inputGrads,
    loss: ce.loss,
    blocks: topology.blocks.length,
    feeding,
  };
}

/**
 * Exact per-length sums in one backward pass: the gradient carries a length index k on the batch axis. At block
 * l the skip keeps k and the branch adds one: g_{l−1}[k] = skipᵀ g_l[k] + J_lᵀ g_l[k−1]. The batch grows by one
 * at each block going back, so the branch at the m-th block from the end works on m rows: the whole pass costs
 * about (n + 1)/2 ordinary backward passes. Row k of the result at the first block's input is the sum of the
 * gradients of all C(n, k) paths that take k branches. Replicated feeding keeps n + 1 rows throughout (only the
 * first is seeded): the branch shifts its rows down one and drops the last, which is still zero.
 */
export function exactPathGraph(model: Model, topology: Topology): PathGraph {
  const prepared = prepare(model, topology);
  const { b, logits, ce, entry, image, rank, feeding } = prepared;
  const entries = new Map(topology.blocks.map((bl) => [bl.entry, bl]));
  const shift = (x: string, e: ReturnType<typeof createEmitter>, atStart: boolean) => {
    const pads = new Array<number>(rank * 2).fill(0);
    pads[atStart ? 0 : rank] = 1;
    return e.pad(x, pads);
  };
  const down = (x: string, e: ReturnType<typeof createEmitter>) => e.slice(shift(x, e, true), [0], [-1], [0]);
  const d = differentiate(b, model, {
    seeds: new Map([[logits, ce.seed]]),
    wrt: [entry, image],
    accumulate(tensor, parts, e) {
      const block = entries.get(tensor);
      if (!block) return undefined;
      const split = splitAtEntry(block, parts);
      if (!split.skip.length || !split.branch.length || split.other.length)
        throw new ModelError(`block ${block.index + 1}: its input feeds more than its skip and its branch`);
      // Skip: same length, one more row at the end; branch: one more branch taken, shifted down one row.
      if (feeding === 'replicated') return e.op('Add', [e.sum(split.skip), down(e.sum(split.branch), e)]);
      return e.op('Add', [shift(e.sum(split.skip), e, false), shift(e.sum(split.branch), e, true)]);
    },
  });
  return finish(model, topology, prepared, d, 'paths by length');
}

/** Gated backward passes: each row of the backward batch follows one path, given by its gates. */
export interface SampledPathGraph extends PathGraph {
  /** Per block, the gate inputs [S, 1, …] for the branch and for the skip (1 = the path goes this way). */
  gates: { branch: string; skip: string }[];
}

/**
 * One backward pass per path, S paths at once: at block l the gradient into the branch operand is multiplied by
 * the branch gate and the gradient into the skip operand by the skip gate, so a row whose gates pick one side at
 * every block carries exactly that path's gradient.
 */
export function sampledPathGraph(model: Model, topology: Topology): SampledPathGraph {
  const prepared = prepare(model, topology);
  const { b, logits, ce, entry, image } = prepared;
  const joins = new Map(topology.blocks.map((bl) => [bl.addNode, bl]));
  const gates = topology.blocks.map((bl) => {
    const shape = ['S', ...new Array<number>(bl.outShape?.length ?? 3).fill(1)];
    return {
      branch: b.input(`skipscope_path_branch_${bl.index}`, DataType.FLOAT, shape),
      skip: b.input(`skipscope_path_skip_${bl.index}`, DataType.FLOAT, shape),
    };
  });
  const d = differentiate(b, model, {
    seeds: new Map([[logits, ce.seed]]),
    wrt: [entry, image],
    onInputGrad(node, input, grad, e) {
      const block = joins.get(node.index);
      if (!block) return grad;
      const gate = gates[block.index]!;
      return e.op('Mul', [grad, input === block.branchOperand ? gate.branch : gate.skip]);
    },
  });
  return { ...finish(model, topology, prepared, d, 'sampled paths'), gates };
}
