import { GraphBuilder } from '../onnx/builder';
import type { Model } from '../onnx/model';
import { detectTopology } from '../topology/detect';
import { plainUnits } from '../topology/plainUnits';
import type { Topology } from '../topology/types';
import type { Lesion } from './gates';

/**
 * What lesions run on. A residual network is its own target. A plain network's removable layers (plainUnits) become
 * joins with a closed skip, y = F(x) · g + x · s with s = 0 unless the layer is removed (g = 0, s = 1), so the lesion
 * engine, its cache of block inputs and its tails work on them as on residual blocks. With every gate at rest the
 * target computes the plain network exactly (x · 0 = 0, y + 0 = y).
 */
export interface LesionTarget {
  model: Model;
  topology: Topology;
  /** Plain network: its skips are closed unless a unit is removed; `layers[k]` is unit k's layer index. */
  plain: { layers: number[] } | null;
}

const cache = new WeakMap<Model, LesionTarget>();

/** The lesion target of a model: itself when residual, its removable layers as closed-skip joins when plain. */
export function lesionTarget(model: Model, topology: Topology): LesionTarget {
  if (topology.kind !== 'plain') return { model, topology, plain: null };
  const known = cache.get(model);
  if (known) return known;
  const units = plainUnits(model, topology);
  let target: LesionTarget = { model, topology, plain: null };
  if (units.length) {
    const g = new GraphBuilder(model);
    // A unit that reads the previous unit's output reads that unit's join once it has one.
    const entries = units.map((u) => u.entry);
    units.forEach((unit, k) => {
      const joined = g.unique(`skipscope_unit_${k}`);
      g.rewire(unit.output, joined);
      g.node('Add', [unit.output, entries[k]!], {}, { outputs: [joined] });
      entries.forEach((e, j) => {
        if (e === unit.output) entries[j] = joined;
      });
    });
    const built = g.build({ prune: false, name: model.name });
    const t = detectTopology(built);
    const matches =
      t.blocks.length === units.length &&
      t.blocks.every((b, k) => b.branchOutput === units[k]!.output && b.shortcutOutput === entries[k]);
    if (!matches)
      throw new Error(
        `${model.name}: ${units.length} removable layers became ${t.blocks.length} joins that do not match them`,
      );
    target = { model: built, topology: t, plain: { layers: units.map((u) => u.layer) } };
  }
  cache.set(model, target);
  return target;
}

/**
 * A lesion as the app numbers it (residual blocks; a plain network's weighted layers, the units its scene draws)
 * in the target's numbering (a plain network's removable layers, in order). Layers that cannot be removed are left
 * out.
 */
export function targetLesion(model: Model, topology: Topology, lesion: Lesion): Lesion {
  if (topology.kind !== 'plain') return lesion;
  const unitOf = new Map(plainUnits(model, topology).map((u, k) => [u.layer, k]));
  return { dropped: lesion.dropped.flatMap((layer) => (unitOf.has(layer) ? [unitOf.get(layer)!] : [])), cutSkips: [] };
}

/** Whether the app's lesion lab works on this network: residual blocks, or plain layers that can be removed. */
export function takesLesions(model: Model, topology: Topology): boolean {
  return topology.blocks.length > 0 || plainUnits(model, topology).length > 0;
}
