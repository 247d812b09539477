import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { analyzeModel } from '../../renderer/src/core/summary';
import { denseJoins } from '../../renderer/src/core/topology/family';
import { ROOT, readBytes } from '../helpers/files';

/** Figures every row made from a PyTorch model carries: MACs per image (counted by hooks in PyTorch) and classes. */
interface Figures {
  macs?: number;
  classes?: number;
  /**
   * Weighted layers on the longest path, counted by hand from the architecture (not by our code): ResNet-n's n;
   * MobileNetV2's 53 (stem, 2 for its t = 1 block, 3 for each of 16 more, the 1×1 to 1280, the classifier);
   * ViT-B/16's 50 (patch conv, 4 per encoder layer, head); ConvNeXt-T's 59 (stem, 3 per block × 18, 3 downsampling
   * convs, head); the small DenseNet's 18 (stem, 2 per dense layer × 7, 2 transitions, classifier).
   */
  depth?: number;
}

/**
 * tests/models.json (netron's manner): one row per model file, its expected structure or error text. Rows of
 * families beyond ResNet (ConvNeXt, Swin, ViT, MobileNetV2, EfficientNet, RegNet) leave out the ResNet block
 * vocabulary (blockType, shortcuts, activation, downsampling); every ResNet row has all of it.
 */
interface Row {
  file: string;
  large: boolean;
  expect:
    | ({
        kind: 'residual';
        blocks: number;
        stages: number;
        parameters: number;
        opset: number;
        bn: 'folded' | 'separate' | 'none';
        inputShape: (number | string)[];
      } & (
        | { blockType: string; shortcuts: Record<string, number>; activation: string; downsampling: number }
        | { blockType?: undefined }
      ) &
        Figures)
    | ({ kind: 'plain'; layers: number; parameters: number; denseJoins?: number; denseSkips?: number } & Figures)
    | { error: string };
}

const rows = (JSON.parse(readFileSync(join(ROOT, 'tests/models.json'), 'utf8')) as { models: Row[] }).models;

/** External data is read from beside the model, as the CLI and the desktop app do. */
function analyzeFile(file: string) {
  const path = resolve(ROOT, file);
  return analyzeModel(readBytes(file), file.split('/').pop()!, (location) => {
    const p = join(dirname(path), location);
    return existsSync(p) ? readBytes(p) : null;
  });
}

describe('tests/models.json', () => {
  for (const row of rows) {
    const present = existsSync(resolve(ROOT, row.file));
    it.skipIf(row.large && !present)(`${row.file}`, () => {
      const e = row.expect;
      if ('error' in e) {
        expect(() => analyzeFile(row.file)).toThrow(ModelError);
        // The whole message, exactly: it is what a user reads.
        expect(() => analyzeFile(row.file)).toThrow(new RegExp(`^${e.error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
        return;
      }
      const { topology: t, model } = analyzeFile(row.file);
      expect(t.params).toBe(e.parameters);
      expect(t.paramsUnknown).toBe(0);
      if (e.macs !== undefined) {
        // Every op's MACs known, and their sum PyTorch's.
        expect(t.macsUnknownOps).toEqual([]);
        expect(t.macs).toBe(e.macs);
      }
      if (e.classes !== undefined) expect(t.output.shape?.[t.output.shape.length - 1]).toBe(e.classes);
      if (e.depth !== undefined) expect(t.depth).toBe(e.depth);
      if (e.kind === 'plain') {
        expect(t.kind).toBe('plain');
        expect(t.layers).toHaveLength(e.layers);
        if (e.denseJoins !== undefined) expect(denseJoins(model)).toBe(e.denseJoins);
        if (e.denseSkips !== undefined) expect(t.denseSkips).toHaveLength(e.denseSkips);
        return;
      }
      expect(t.kind).toBe('residual');
      expect(t.blocks).toHaveLength(e.blocks);
      expect(t.stages).toHaveLength(e.stages);
      expect(model.opset).toBe(e.opset);
      expect(model.graph.inputs[0]!.shape).toEqual(e.inputShape);
      if (e.bn === 'none') expect(t.batchNorms).toBe(0);
      else expect(t.batchNorms > 0 ? 'separate' : 'folded').toBe(e.bn);
      if (e.blockType === undefined) return;
      expect(t.blocks.filter((b) => b.downsample)).toHaveLength(e.downsampling);
      expect(new Set(t.blocks.map((b) => b.kind))).toEqual(new Set([e.blockType]));
      expect(new Set(t.blocks.map((b) => b.activation))).toEqual(new Set([e.activation]));
      // A kind the expectations do not list (parameterFree) shows up as a key of its own: a mismatch.
      const shortcuts: Record<string, number> = { identity: 0, projection: 0, optionA: 0, pooled: 0 };
      for (const b of t.blocks) shortcuts[b.shortcut] = (shortcuts[b.shortcut] ?? 0) + 1;
      expect(shortcuts).toEqual(e.shortcuts);
    });
  }
});
