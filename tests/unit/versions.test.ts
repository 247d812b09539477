import { describe, expect, it } from 'vitest';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
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
