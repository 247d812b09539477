import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../cli/files';
import { analyzeModel } from '../../renderer/src/core/summary';
import { ROOT } from '../helpers/files';

/**
 * Parameters per residual block against PyTorch's module tree (tests/fixtures/block_params_reference.py): BatchNorm
 * scales and shifts, LayerNorms, biases added apart and layer scales belong to their block. Blocks once counted only
 * their weighted layers' weights and biases (a ViT sublayer 4,128 of 4,288; a BN-kept ResNet block 4,608 of 4,672).
 */
const reference = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/block_params.json'), 'utf8')) as Record<
  string,
  { joins: number[]; total: number }
>;

describe('parameters per block equal the PyTorch modules that compute each join', () => {
  for (const [name, expected] of Object.entries(reference)) {
    it(name, () => {
      const { bytes, resolveExternal } = readModelFile(resolve(ROOT, `tests/fixtures/models/${name}.onnx`));
      const { topology } = analyzeModel(bytes, name, resolveExternal);
      expect(topology.blocks.map((b) => b.params)).toEqual(expected.joins);
      expect(topology.params).toBe(expected.total);
    });
  }
});
