import type { Model } from '../onnx/model';
import { inferShapes } from '../onnx/shapes';
import { opRole } from '../ops';
import { constantTensors } from './params';
import type { Topology } from './types';

/**
 * A layer of a plain network that can be taken out: a weighted layer with the shape-keeping ops that follow it
 * (normalisation, activation, dropout…), whose output has its input's shape, so the network still runs with its
 * input passed on in its place. Veit et al. 2016 removed such layers from VGG to show that a plain network falls
 * apart when one goes.
 */
export interface PlainUnit {
  /** Index into topology.layers: the unit's weighted layer, as the scene and the layer list number it. */
  layer: number;
  /** The tensor the weighted layer reads. */
  entry: string;
  /** The unit's last tensor, read by the rest of the network. */
  output: string;
  /** The unit's nodes, in order (the weighted layer first). */
  nodes: number[];
}

/** Ops that may follow a unit's weighted layer inside the unit. */
const UNIT_ROLES = new Set<string | null>(['norm', 'activation', 'passive', 'elementwise', 'join']);

const cache = new WeakMap<Model, PlainUnit[]>();

/**
 * The removable layers of a plain network, found from graph structure and shapes alone (never node names): from each
 * weighted layer, follow the single chain of nodes that keep its output's shape and read nothing else from the image
 * (their other inputs are constants) up to the next weighted layer, a fork, a join or a change of shape. The unit is
 * removable when that chain ends in a tensor shaped like the layer's input, and the layer does not read the image
 * itself. Empty for residual networks (their blocks are the units), for DenseNets (a later concatenation reads what
 * precedes each layer, so no cut separates the network there) and for networks whose layers all change shape.
 */
export function plainUnits(model: Model, topology: Topology): PlainUnit[] {
  if (topology.kind !== 'plain' || topology.denseSkips.length > 0) return [];
  const known = cache.get(model);
  if (known) return known;
  const { graph } = model;
  const shapes = inferShapes(graph);
  const constant = constantTensors(graph);
  const consumers = new Map<string, number[]>();
  for (const node of graph.nodes)
    for (const t of node.inputs) {
      if (!t) continue;
      const list = consumers.get(t);
      if (list) list.push(node.index);
      else consumers.set(t, [node.index]);
    }
  const weighted = new Set(topology.layers.map((l) => l.node));
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const same = (a: string, b: string) => {
    const x = shapes.get(a);
    const y = shapes.get(b);
    return !!x && !!y && x.length === y.length && x.every((d, i) => d === y[i]);
  };
  const units: PlainUnit[] = [];
  topology.layers.forEach((layer, index) => {
    const first = graph.nodes[layer.node]!;
    const entry = first.inputs[0];
    if (!entry || constant.has(entry) || entry === topology.input.name) return;
    const nodes = [first.index];
    let output = first.outputs[0]!;
    // Bounded by the graph's size too (decode refuses cycles; this walk ends whatever reaches it).
    while (nodes.length <= graph.nodes.length) {
      if (outputs.has(output)) break;
      const users = consumers.get(output) ?? [];
      if (users.length !== 1) break;
      const next = graph.nodes[users[0]!]!;
      // A Cast may change the element type: the unit's input could then not stand in for its output.
      if (weighted.has(next.index) || next.outputs.length !== 1 || next.domain !== '' || next.opType === 'Cast') break;
      // Reads the unit's tensor once and constants otherwise (a bias Add, a scale Mul).
      const data = next.inputs.filter((t) => t && !constant.has(t));
      if (data.length !== 1 || data[0] !== output) break;
      if (!UNIT_ROLES.has(opRole(next.opType, next.domain))) break;
      if (!same(next.outputs[0]!, output)) break;
      nodes.push(next.index);
      output = next.outputs[0]!;
    }
    if (outputs.has(output) || !same(entry, output)) return;
    units.push({ layer: index, entry, output, nodes });
  });
  cache.set(model, units);
  return units;
}
