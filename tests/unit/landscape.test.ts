import { describe, expect, it } from 'vitest';
import { buildResNet } from '../../renderer/src/core/build/resnet';
import {
  coarseToFine,
  filterNormalize,
  gaussianDirections,
  gridOrder,
  landscapeTensors,
  linspace,
  moveWeights,
} from '../../renderer/src/core/rewrite/landscape';
import { gridValues } from '../../renderer/src/lab/landscape/plane';

describe('landscape rewrite', () => {
  it('orders a line and a grid coarse to fine: every index once, the middle first, then the ends', () => {
    for (const n of [1, 2, 3, 4, 5, 8, 21, 51]) {
      const order = coarseToFine(n);
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(order[0]).toBe((n - 1) >> 1);
      const cells = gridOrder(n);
      expect(new Set(cells.map(([i, j]) => i * n + j)).size).toBe(n * n);
      expect(cells[0]).toEqual([(n - 1) >> 1, (n - 1) >> 1]);
    }
    expect(coarseToFine(9)).toEqual([4, 0, 8, 2, 6, 1, 3, 5, 7]);
    // After the centre and one end, the 2×2 sub-grid of those two rows and columns is complete.
    expect(gridOrder(5).slice(0, 4)).toEqual([
      [2, 2],
      [0, 2],
      [2, 0],
      [0, 0],
    ]);
  });

  it('grid values are symmetric with an exact 0; linspace hits both ends', () => {
    expect(gridValues(5, 0.3)).toEqual([-0.3, -0.15, 0, 0.15, 0.3]);
    const v = gridValues(21, 0.7);
    expect(v.every((x, i) => x === -v[20 - i]!)).toBe(true);
    expect(v[10]).toBe(0);
    expect(linspace(-0.5, 1.5, 9)).toEqual([-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]);
  });

  it('filter normalisation scales each slice along the axis to the weight slice’s norm', () => {
    // A [2, 3] weight, filters along axis 1 (three columns), and along axis 0 (two rows).
    const w = Float32Array.of(3, 0, 1, 4, 2, 1);
    const d = Float32Array.of(1, 1, 2, 1, 1, 2);
    const cols = Float32Array.from(d);
    filterNormalize(cols, w, [2, 3], 1);
    const colNorm = (a: Float32Array, c: number) => Math.hypot(a[c]!, a[3 + c]!);
    for (const c of [0, 1, 2]) expect(colNorm(cols, c)).toBeCloseTo(colNorm(w, c), 6);
    expect(cols[0]! / cols[3]!).toBeCloseTo(1, 6); // direction within a filter kept
    const rows = Float32Array.from(d);
    filterNormalize(rows, w, [2, 3], 0);
    expect(Math.hypot(rows[0]!, rows[1]!, rows[2]!)).toBeCloseTo(Math.hypot(3, 0, 1), 5);
    expect(Math.hypot(rows[3]!, rows[4]!, rows[5]!)).toBeCloseTo(Math.hypot(4, 2, 1), 5);
  });

  it('perturbs conv and linear weights only: biases and BatchNorm get direction 0, running statistics are no parameters', () => {
    const { model } = buildResNet({ variant: 'resnet', dataset: 'cifar', depth: 8, seed: 0 });
    const tensors = landscapeTensors(model);
    const moved = tensors.filter((t) => t.filterAxis !== null);
    expect(moved.map((t) => t.op)).toEqual([...new Array(7).fill('Conv'), 'Gemm']);
    expect(moved.every((t) => t.dims.length >= 2 && t.filterAxis === 0)).toBe(true);
    expect(new Set(tensors.filter((t) => t.filterAxis === null).map((t) => t.zeroed))).toEqual(
      new Set(['norm', 'bias']),
    );
    expect(tensors.some((t) => /running/.test(t.name))).toBe(false);
    // Same seed, same numbers; the two directions differ.
    const [d1, d2] = gaussianDirections(tensors, 5);
    expect(gaussianDirections(tensors, 5)[0]![0]).toEqual(d1![0]);
    expect(d1![0]).not.toEqual(d2![0]);

    const rewritten = moveWeights(
      model,
      moved.map((t, k) => ({ name: t.name, directions: [d1![k]!, d2![k]!] })),
      ['a', 'b'],
    );
    expect(rewritten.coords).toEqual(['a', 'b']);
    const g = rewritten.model.graph;
    expect(g.inputs.map((i) => [i.name, i.shape])).toEqual([
      [model.graph.inputs[0]!.name, model.graph.inputs[0]!.shape],
      ['a', []],
      ['b', []],
    ]);
    // Each moved weight is read only by its W + a·D₁ + b·D₂ Add; the layer reads the sum.
    for (const t of moved) {
      const readers = g.nodes.filter((n) => n.inputs.includes(t.name));
      expect(readers.map((n) => n.opType)).toEqual(['Add']);
    }
    expect(g.initializers.length).toBe(model.graph.initializers.length + 2 * moved.length);
  });
});
