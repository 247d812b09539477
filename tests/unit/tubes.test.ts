import * as THREE from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';
import { describe, expect, it } from 'vitest';
import { ARC_POINTS, layoutNetwork } from '../../renderer/src/core/layout/layout';
import { analyzeModel } from '../../renderer/src/core/summary';
import { mergePlaced, placedTube } from '../../renderer/src/scene/tubes';
import { bundledModel } from '../helpers/files';

/** The reference: three's own TubeGeometry on each arc's absolute points, merged by three's mergeGeometries. */
function reference(arcs: ArrayLike<number>, count: number, segments: number, radius: number) {
  const tubes: THREE.BufferGeometry[] = [];
  for (let i = 0; i < count; i++) {
    const points: THREE.Vector3[] = [];
    for (let k = 0; k < ARC_POINTS; k++) {
      const o = 3 * (i * ARC_POINTS + k);
      points.push(new THREE.Vector3(arcs[o], arcs[o + 1], arcs[o + 2]));
    }
    tubes.push(new THREE.TubeGeometry(new THREE.CatmullRomCurve3(points), segments, radius, 8, false));
  }
  return mergeGeometries(tubes);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('tubes built once per shape', () => {
  it("ResNet-56's skips: the same vertices as a TubeGeometry per arc, from a few built shapes", () => {
    const { topology } = analyzeModel(bundledModel('resnet56'), 'resnet56.onnx');
    const layout = layoutNetwork(topology);
    const count = layout.arcs.length / (3 * ARC_POINTS);
    let built = 0;
    // A kind no other test uses, so the shared cache starts empty for it.
    const kind = `test ${Math.random()}`;
    const parts = Array.from({ length: count }, (_, i) =>
      placedTube(layout.arcs, 3 * i * ARC_POINTS, ARC_POINTS, kind, (points) => {
        built++;
        return new THREE.TubeGeometry(new THREE.CatmullRomCurve3(points), 48, 0.05, 8, false);
      }),
    );
    const merged = mergePlaced(parts)!;
    const ref = reference(layout.arcs, count, 48, 0.05);
    expect(maxDiff(merged.getAttribute('position').array, ref.getAttribute('position').array)).toBeLessThan(1e-4);
    expect(maxDiff(merged.getAttribute('normal').array, ref.getAttribute('normal').array)).toBeLessThan(1e-3);
    expect(maxDiff(merged.getAttribute('uv').array, ref.getAttribute('uv').array)).toBe(0);
    expect(Array.from(merged.getIndex()!.array)).toEqual(Array.from(ref.getIndex()!.array));
    // 27 arcs, but far fewer distinct shapes: each stage repeats one spacing.
    expect(built).toBeGreaterThan(0);
    expect(built).toBeLessThan(count / 2);
    // A second pass builds nothing.
    placedTube(layout.arcs, 0, ARC_POINTS, kind, () => {
      throw new Error('rebuilt a cached shape');
    });
  });

  it('nothing to merge gives no geometry; more than 65,535 vertices get 32-bit indices', () => {
    expect(mergePlaced([])).toBeNull();
    const shape = new THREE.TubeGeometry(
      new THREE.CatmullRomCurve3([new THREE.Vector3(0, 0, 0), new THREE.Vector3(1, 1, 0), new THREE.Vector3(2, 0, 0)]),
      48,
      0.1,
      8,
      false,
    );
    const perTube = shape.getAttribute('position').count;
    const n = Math.ceil(65536 / perTube) + 1;
    const merged = mergePlaced(Array.from({ length: n }, (_, i) => ({ shape, x: i, y: 0, z: 0 })))!;
    expect(merged.getIndex()!.array).toBeInstanceOf(Uint32Array);
    const pos = merged.getAttribute('position');
    // The last tube's first vertex is the shape's first vertex moved by n − 1 along x.
    expect(pos.getX((n - 1) * perTube)).toBeCloseTo(shape.getAttribute('position').getX(0) + n - 1, 5);
    expect(Array.from(merged.getIndex()!.array).reduce((a, b) => Math.max(a, b), 0)).toBe(n * perTube - 1);
  });
});
