import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { analyzeModel } from '../../renderer/src/core/summary';
import { ROOT, readBytes } from '../helpers/files';

/** tests/models.json (netron's manner): one row per model file, its expected structure or error text. */
interface Row {
  file: string;
  large: boolean;
  expect:
    | {
        kind: 'residual';
        blocks: number;
        stages: number;
        blockType: string;
        shortcuts: Record<string, number>;
        activation: string;
        parameters: number;
        opset: number;
        bn: 'folded' | 'separate';
        downsampling: number;
        inputShape: (number | string)[];
      }
    | { kind: 'plain'; layers: number; parameters: number }
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
      if (e.kind === 'plain') {
        expect(t.kind).toBe('plain');
        expect(t.layers).toHaveLength(e.layers);
        return;
      }
      expect(t.kind).toBe('residual');
      expect(t.blocks).toHaveLength(e.blocks);
      expect(t.stages).toHaveLength(e.stages);
      expect(model.opset).toBe(e.opset);
      expect(t.batchNorms > 0 ? 'separate' : 'folded').toBe(e.bn);
      expect(t.blocks.filter((b) => b.downsample)).toHaveLength(e.downsampling);
      expect(new Set(t.blocks.map((b) => b.kind))).toEqual(new Set([e.blockType]));
      expect(new Set(t.blocks.map((b) => b.activation))).toEqual(new Set([e.activation]));
      const shortcuts = { identity: 0, projection: 0, optionA: 0, pooled: 0 };
      for (const b of t.blocks) shortcuts[b.shortcut]++;
      expect(shortcuts).toEqual(e.shortcuts);
      expect(model.graph.inputs[0]!.shape).toEqual(e.inputShape);
    });
  }
});
