import { describe, expect, it } from 'vitest';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { inferShapes } from '../../renderer/src/core/onnx/shapes';
import { analyzeModel } from '../../renderer/src/core/summary';
import { bundledModel, readBytes } from '../helpers/files';

/** Re-encodes a real model with another IR version / opset stamp, as newer exporters write them. */
function restamp(bytes: Uint8Array, irVersion: number, opset: number, domain = ''): Uint8Array {
  const proto = onnx.ModelProto.decode(bytes);
  proto.irVersion = irVersion;
  proto.opsetImport = [new onnx.OperatorSetIdProto({ domain, version: opset })];
  return onnx.ModelProto.encode(proto).finish();
}

describe('ONNX IR and opset versions', () => {
  // Structure-only ops (Conv, Relu, Add, Gemm, GlobalAveragePool, Flatten) keep their meaning across opsets 7–21.
  const tv = readBytes('tests/fixtures/models/tv_resnet18_w8_op17_dyn.onnx');
  for (const [ir, opset] of [
    [8, 18],
    [9, 19],
    [10, 20],
    [10, 21],
  ] as const) {
    it(`IR ${ir}, opset ${opset}: decodes and finds the same 8 blocks`, () => {
      const { model, topology } = analyzeModel(restamp(tv, ir, opset), 'restamped.onnx');
      expect(model.irVersion).toBe(ir);
      expect(model.opset).toBe(opset);
      expect(topology.blocks).toHaveLength(8);
    });
  }

  it('reads the default domain when it is spelled "ai.onnx"', () => {
    const { model, topology } = analyzeModel(restamp(bundledModel('resnet20'), 7, 13, 'ai.onnx'), 'r20.onnx');
    expect(model.opset).toBe(13);
    expect(topology.blocks).toHaveLength(9);
  });

  it('IR 3 / opset 7 (initializers listed as graph inputs) keeps only the image as an input', () => {
    const { model } = analyzeModel(readBytes('tests/fixtures/models/zoo_resnet18v2_w8_op7_ir3.onnx'), 'zoo.onnx');
    expect(model.irVersion).toBe(3);
    expect(model.graph.inputs.map((i) => i.name)).toEqual(['input']);
  });
});

describe('Constant nodes', () => {
  it('value_ints / value_float constants (opset 12+) feed shape inference like tensor constants', () => {
    // Rewrite every small INT64 Constant of the option-A shortcut into the value_ints form newer exporters use.
    const proto = onnx.ModelProto.decode(bundledModel('resnet20'));
    let rewritten = 0;
    for (const node of proto.graph!.node!) {
      const attr = node.attribute?.[0];
      const t = attr?.t;
      if (node.opType !== 'Constant' || !t || t.dataType !== 7 || (t.dims ?? []).length !== 1) continue;
      const view = new DataView(t.rawData!.buffer, t.rawData!.byteOffset, t.rawData!.byteLength);
      // INT64_MAX ("to the end") cannot round-trip through a JS number; any end past the axis means the same.
      const ints = Array.from({ length: t.rawData!.byteLength / 8 }, (_, i) =>
        Math.max(-(2 ** 52), Math.min(2 ** 52, Number(view.getBigInt64(i * 8, true)))),
      );
      node.attribute = [
        new onnx.AttributeProto({ name: 'value_ints', type: onnx.AttributeProto.AttributeType.INTS, ints }),
      ];
      rewritten++;
    }
    expect(rewritten).toBeGreaterThan(4);
    const { topology, model } = analyzeModel(onnx.ModelProto.encode(proto).finish(), 'r20-value-ints.onnx');
    expect(topology.blocks).toHaveLength(9);
    // The option-A shortcut's Pad takes its pads from that constant arithmetic: its output shape proves it was folded.
    const shapes = inferShapes(model.graph);
    const shortcutPads = topology.blocks
      .filter((b) => b.shortcut === 'optionA')
      .map((b) => b.shortcutNodes.map((n) => model.graph.nodes[n]!).find((n) => n.opType === 'Pad')!);
    expect(shortcutPads.map((n) => shapes.get(n.outputs[0]!))).toEqual([
      [1, 32, 16, 16],
      [1, 64, 8, 8],
    ]);
  });
});
