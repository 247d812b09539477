import * as THREE from 'three';
import { describe, expect, it } from 'vitest';
import { layoutNetwork } from '../../renderer/src/core/layout/layout';
import { analyzeModel } from '../../renderer/src/core/summary';
import { framePoints, overviewPose } from '../../renderer/src/scene/framing';
import { placeLabels } from '../../renderer/src/scene/Labels';
import { bundledModel } from '../helpers/files';

/** The NDC box of points seen from a pose (this test's own camera and projection, three.js's maths). */
function screenBox(points: Float32Array, pose: { position: number[]; target: number[] }, aspect: number) {
  const camera = new THREE.PerspectiveCamera(40, aspect, 0.01, 1e6);
  camera.position.fromArray(pose.position);
  camera.lookAt(new THREE.Vector3().fromArray(pose.target));
  camera.updateMatrixWorld();
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  const v = new THREE.Vector3();
  for (let i = 0; i < points.length; i += 3) {
    v.set(points[i]!, points[i + 1]!, points[i + 2]!).project(camera);
    [x0, x1, y0, y1] = [Math.min(x0, v.x), Math.max(x1, v.x), Math.min(y0, v.y), Math.max(y1, v.y)];
  }
  return { width: (x1 - x0) / 2, height: (y1 - y0) / 2, x0, x1, y0, y1 };
}

describe('the overview framing', () => {
  for (const depth of [20, 56] as const)
    for (const [w, h] of [
      [1280, 650],
      [880, 620],
      [1600, 560],
    ] as const)
      it(`ResNet-${depth} fills ≥ 80 % of a ${w}×${h} stage's width, inside the view, over ≥ 1/4 of its area`, () => {
        const { topology } = analyzeModel(bundledModel(`resnet${depth}`), 'm.onnx');
        const layout = layoutNetwork(topology);
        const pose = overviewPose(layout, 40, w / h);
        const box = screenBox(framePoints(layout), pose, w / h);
        expect(box.width).toBeGreaterThanOrEqual(0.8);
        expect(box.x0).toBeGreaterThanOrEqual(-1);
        expect(box.x1).toBeLessThanOrEqual(1);
        expect(box.y0).toBeGreaterThanOrEqual(-1);
        expect(box.y1).toBeLessThanOrEqual(1);
        expect(box.width * box.height).toBeGreaterThanOrEqual(0.25);
      });

  it('the drawn points include every block, the stem and the head', () => {
    const { topology } = analyzeModel(bundledModel('resnet20'), 'm.onnx');
    const layout = layoutNetwork(topology);
    const points = framePoints(layout);
    const xs = Array.from({ length: points.length / 3 }, (_, i) => points[3 * i]!);
    expect(Math.min(...xs)).toBeLessThanOrEqual(layout.stem[0]! - layout.stem[3]! / 2);
    expect(Math.max(...xs)).toBeGreaterThanOrEqual(layout.head[0]! + layout.head[3]! / 2);
  });
});

describe('label placement', () => {
  const overlap = (a: number[], b: number[]) => a[0]! < b[2]! && b[0]! < a[2]! && a[1]! < b[3]! && b[1]! < a[3]!;

  it('never overlaps two labels, keeps them in view and off the obstacles, and favours higher priority', () => {
    // Ten labels anchored on nearly the same point, one obstacle under them.
    const items = Array.from({ length: 10 }, (_, i) => ({
      x: 200 + i * 7,
      y: 100 + (i % 3),
      width: 120,
      height: 20,
      priority: i === 7 ? 0 : 2,
    }));
    const obstacle = { x0: 0, y0: 118, x1: 400, y1: 140 };
    const places = placeLabels(items, { width: 400, height: 200 }, [obstacle]);
    const boxes = places.flatMap((p, i) =>
      p
        ? [
            [
              p.x - items[i]!.width / 2,
              p.y - items[i]!.height / 2,
              p.x + items[i]!.width / 2,
              p.y + items[i]!.height / 2,
            ],
          ]
        : [],
    );
    for (let i = 0; i < boxes.length; i++) {
      const b = boxes[i]!;
      expect(b[0]).toBeGreaterThanOrEqual(0);
      expect(b[2]).toBeLessThanOrEqual(400);
      expect(b[1]).toBeGreaterThanOrEqual(0);
      expect(b[3]).toBeLessThanOrEqual(200);
      expect(overlap(b, [obstacle.x0, obstacle.y0, obstacle.x1, obstacle.y1])).toBe(false);
      for (let j = i + 1; j < boxes.length; j++) expect(overlap(b, boxes[j]!)).toBe(false);
    }
    // The priority label keeps its own place; some others find room above, the rest are hidden.
    expect(places[7]).toEqual({ x: items[7]!.x, y: items[7]!.y });
    expect(places.filter((p) => p === null).length).toBeGreaterThan(0);
  });

  it('moves a label that would leave the view back inside it', () => {
    const [p] = placeLabels([{ x: 5, y: 50, width: 80, height: 16, priority: 1 }], { width: 300, height: 100 });
    expect(p!.x - 40).toBeGreaterThanOrEqual(0);
  });
});
