import { describe, expect, it } from 'vitest';
import { ARC_POINTS, layoutNetwork, plainStages } from '../../renderer/src/core/layout/layout';
import { analyzeModel } from '../../renderer/src/core/summary';
import { bundledModel, readBytes } from '../helpers/files';

describe('layoutNetwork', () => {
  it('lays out ResNet-56 left to right: 27 boxes, one arc each, 3 stage plates in order', () => {
    const { topology } = analyzeModel(bundledModel('resnet56'), 'resnet56.onnx');
    const l = layoutNetwork(topology);
    expect(l.blockCount).toBe(27);
    expect(l.arcs.length).toBe(27 * ARC_POINTS * 3);
    expect(Array.from(l.blockStages)).toEqual([...Array(9).fill(0), ...Array(9).fill(1), ...Array(9).fill(2)]);
    for (let i = 1; i < 27; i++) expect(l.blockCenters[3 * i]!).toBeGreaterThan(l.blockCenters[3 * (i - 1)]!);
    // Stages do not overlap, and each block sits inside its stage's plate.
    for (let s = 0; s < 3; s++) expect(l.stageBounds[2 * s]!).toBeLessThan(l.stageBounds[2 * s + 1]!);
    for (let i = 0; i < 27; i++) {
      const s = l.blockStages[i]!;
      expect(l.blockCenters[3 * i]!).toBeGreaterThan(l.stageBounds[2 * s]!);
      expect(l.blockCenters[3 * i]!).toBeLessThan(l.stageBounds[2 * s + 1]!);
    }
    // More channels → taller boxes; smaller feature maps → shallower ones.
    expect(l.blockSizes[3 * 26 + 1]!).toBeGreaterThan(l.blockSizes[1]!);
    expect(l.blockSizes[3 * 26 + 2]!).toBeLessThan(l.blockSizes[2]!);
    // Every arc starts before its block and ends after it, above it.
    for (let i = 0; i < 27; i++) {
      const first = 3 * i * ARC_POINTS;
      const last = 3 * ((i + 1) * ARC_POINTS - 1);
      expect(l.arcs[first]!).toBeLessThan(l.blockCenters[3 * i]! - l.blockSizes[3 * i]! / 2);
      expect(l.arcs[last]!).toBeGreaterThan(l.blockCenters[3 * i]! + l.blockSizes[3 * i]! / 2);
    }
    expect(l.head[0]!).toBeGreaterThan(l.blockCenters[3 * 26]!);
    expect(l.bounds[3]!).toBeGreaterThan(l.head[0]!);
  });

  it('draws a plain network as its weighted layers, with no skip arcs', () => {
    const { topology } = analyzeModel(readBytes('tests/fixtures/models/cifar_plain8_op13.onnx'), 'plain.onnx');
    const l = layoutNetwork(topology);
    expect(l.blockCount).toBe(8);
    expect(l.arcs.length).toBe(0);
    expect(l.stageBounds.length / 2).toBeGreaterThanOrEqual(3);
  });

  it('names a plain network’s stages as it draws them: runs of one output shape, the classifier apart', () => {
    const { topology } = analyzeModel(readBytes('models/cifar10/recorded-plain20.onnx'), 'plain20.onnx');
    const stages = plainStages(topology);
    // The stem and six 3×3 layers per feature-map size, then the fully connected classifier.
    expect(stages).toEqual([
      { first: 0, last: 6, outShape: [16, 32, 32] },
      { first: 7, last: 12, outShape: [32, 16, 16] },
      { first: 13, last: 18, outShape: [64, 8, 8] },
      { first: 19, last: 19, outShape: [10] },
    ]);
    // One plate per stage in the drawing, each around its layers.
    const l = layoutNetwork(topology);
    expect(l.stageBounds.length / 2).toBe(stages.length);
    stages.forEach((s, k) => {
      for (const i of [s.first, s.last]) {
        expect(l.blockStages[i]).toBe(k);
        expect(l.blockCenters[3 * i]!).toBeGreaterThan(l.stageBounds[2 * k]!);
        expect(l.blockCenters[3 * i]!).toBeLessThan(l.stageBounds[2 * k + 1]!);
      }
    });
    const resnet = analyzeModel(bundledModel('resnet20'), 'resnet20.onnx').topology;
    expect(plainStages(resnet)).toEqual([]);
  });
});
