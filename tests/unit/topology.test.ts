import { describe, expect, it } from 'vitest';
import type { Model } from '../../renderer/src/core/onnx/model';
import { inferShapes } from '../../renderer/src/core/onnx/shapes';
import { formatInspect, toInspectJson } from '../../renderer/src/core/report';
import {
  analyzeModel,
  describeArchitecture,
  describeMacs,
  describeParams,
  formatPathCount,
} from '../../renderer/src/core/summary';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { bundledModel } from '../helpers/files';
import { decodeFile } from '../helpers/models';

// Block counts follow from the CIFAR ResNet recipe: depth = 6n + 2 with n blocks per stage, 3 stages.
const EXPECTED: [string, number, number][] = [
  ['resnet20', 9, 20],
  ['resnet32', 15, 32],
  ['resnet44', 21, 44],
  ['resnet56', 27, 56],
];

describe('residual structure of the bundled CIFAR ResNets', () => {
  for (const [name, blocks, depth] of EXPECTED) {
    it(`${name}: ${blocks} basic blocks in 3 stages, option-A shortcuts at the two downsamplings`, () => {
      const { topology: t, architecture } = analyzeModel(bundledModel(name), `${name}.onnx`);
      const n = blocks / 3;
      expect(t.kind).toBe('residual');
      expect(t.blocks).toHaveLength(blocks);
      expect(t.depth).toBe(depth);
      expect(t.stages.map((s) => s.last - s.first + 1)).toEqual([n, n, n]);
      expect(t.stages.map((s) => s.outShape)).toEqual([
        [16, 32, 32],
        [32, 16, 16],
        [64, 8, 8],
      ]);
      expect(t.blocks.filter((b) => b.shortcut === 'optionA').map((b) => b.index)).toEqual([n, 2 * n]);
      expect(t.blocks.filter((b) => b.downsample).map((b) => b.index)).toEqual([n, 2 * n]);
      expect(t.blocks.every((b) => b.kind === 'basic' && b.activation === 'post' && b.afterAdd === 'Relu')).toBe(true);
      expect(t.blocks.every((b) => b.branchLayers.length === 2 && b.shortcutLayers.length === 0)).toBe(true);
      // Parameters of a BN-folded CIFAR ResNet: 3×3 convs with biases + the 64→10 classifier.
      const conv = (cin: number, cout: number) => cin * cout * 9 + cout;
      let params = conv(3, 16) + 64 * 10 + 10;
      for (const [cin, cout] of [
        [16, 16],
        [16, 32],
        [32, 64],
      ] as const) {
        params += conv(cin, cout) + conv(cout, cout) + (n - 1) * 2 * conv(cout, cout);
      }
      expect(t.params).toBe(params);
      expect(architecture).toBe(
        `ResNet-${depth}, CIFAR-style, post-activation, ${blocks} basic blocks in 3 stages, option-A shortcuts`,
      );
    });
  }

  it('numbers the 2^n paths exactly', () => {
    expect(formatPathCount(9)).toBe('512');
    expect(formatPathCount(27)).toBe('134,217,728');
    expect(formatPathCount(60)).toMatch(/^2\^60 ≈ 1\.15e\+18$/);
  });
});

describe('figures that cannot be computed say so', () => {
  const file = 'tests/fixtures/models/cifar_resnet8_a_op13.onnx';
  const analyse = (model: Model) => {
    const topology = detectTopology(model);
    return { model, topology, architecture: describeArchitecture(topology, model), warnings: [] };
  };
  /** The model with its first ReLU replaced by an op Skipscope does not know (shapes stop there). */
  const withMystery = (): Model => {
    const model = decodeFile(file);
    const relu = model.graph.nodes.find((n) => n.opType === 'Relu')!;
    relu.opType = 'Mystery';
    relu.domain = 'com.example';
    return model;
  };

  it('MACs past an unknown op are a lower bound, named as such, and null in inspect --json', () => {
    const full = detectTopology(decodeFile(file));
    expect(full.macsUnknownOps).toEqual([]);
    const a = analyse(withMystery());
    const t = a.topology;
    expect(t.macsUnknownOps).toContain('Mystery');
    expect(t.macsUnknownOps).toContain('Conv');
    expect(t.macs).toBeGreaterThan(0);
    expect(t.macs).toBeLessThan(full.macs);
    expect(describeMacs(t, String)).toBe(`≥ ${t.macs} (unknown for ${t.macsUnknownOps.slice(0, 4).join(', ')})`);
    expect(t.blocks.some((b) => !b.macsComplete)).toBe(true);
    expect(t.layers.some((l) => l.macs === null)).toBe(true);
    // Parameters do not need shapes: still exact.
    expect(t.params).toBe(full.params);
    expect(describeParams(t, String)).toBe(String(full.params));
    const j = toInspectJson('m.onnx', a);
    expect(j.macs).toBeNull();
    expect(j.macsAtLeast).toBe(t.macs);
    expect(j.parameters).toBe(full.params);
    expect(j.blocks.some((b) => b.macs === null)).toBe(true);
    expect(formatInspect(j)).toContain(`MACs/image ≥ ${t.macs.toLocaleString('en-US')} (unknown for Mystery`);
  });

  it("the file's declared shapes (value_info) fill in where no rule applies", () => {
    const reference = inferShapes(decodeFile(file).graph);
    const model = withMystery();
    const out = model.graph.nodes.find((n) => n.opType === 'Mystery')!.outputs[0]!;
    model.graph.valueInfo.set(out, { name: out, elemType: 1, shape: reference.get(out)! });
    const t = detectTopology(model);
    expect(t.macsUnknownOps).toEqual(['Mystery']);
    expect(t.macs).toBe(detectTopology(decodeFile(file)).macs);
    expect(inferShapes(model.graph).get(model.graph.outputs[0]!.name)).toEqual([1, 10]);
  });

  /** `conv`'s weight read through an op Skipscope does not know: its size is unknown. */
  const decodeWeightByUnknownOp = (model: ReturnType<typeof decodeFile>, conv: (typeof model.graph.nodes)[number]) => {
    const weight = conv.inputs[1]!;
    conv.inputs[1] = `${weight}_decoded`;
    model.graph.nodes.unshift({
      index: 0,
      name: 'decode_weight',
      opType: 'Mystery',
      domain: 'com.example',
      inputs: [weight],
      outputs: [`${weight}_decoded`],
      attrs: new Map(),
    });
    model.graph.nodes.forEach((n, i) => {
      n.index = i;
    });
  };

  it('a parameter computed by an unknown op counts as unknown, not as zero', () => {
    const model = decodeFile(file);
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
    const size = model.graph.constants.get(conv.inputs[1]!)!.size;
    decodeWeightByUnknownOp(model, conv);
    const t = detectTopology(model);
    expect(t.paramsUnknown).toBe(1);
    expect(t.params).toBe(detectTopology(decodeFile(file)).params - size);
    expect(describeParams(t, String)).toBe(`≥ ${t.params} (1 tensor of unknown size)`);
    expect(toInspectJson('m.onnx', analyse(model)).parameters).toBeNull();
  });

  it('a block whose parameter is computed by an unknown op has params null in the report, ≥ on screen', () => {
    const model = decodeFile(file);
    const original = detectTopology(decodeFile(file));
    const conv = model.graph.nodes[original.blocks[0]!.branchLayers[0]!.node]!;
    decodeWeightByUnknownOp(model, conv);
    const t = detectTopology(model);
    expect(t.blocks[0]!.paramsComplete).toBe(false);
    expect(t.blocks[1]!.paramsComplete).toBe(true);
    const json = toInspectJson('m.onnx', analyse(model));
    expect(json.blocks[0]!.params).toBeNull();
    expect(json.blocks[1]!.params).toBe(original.blocks[1]!.params);
  });
});
