import { attrInt } from '../onnx/attrs';
import type { Node } from '../onnx/model';
import { broadcast, type OpDef, product, type Shape } from './types';

/** Every output element needs K multiply–accumulates, K = the weight's shared dimension. */
function matmulMacs(node: Node, weightShape: Shape, outShape: Shape): number {
  const transB = attrInt(node, 'transB', 0) === 1;
  const k = transB ? weightShape[weightShape.length - 1]! : weightShape[0]!;
  return (product(outShape) / (outShape[0] ?? 1)) * k;
}

export const gemmOps: Record<string, OpDef> = {
  Gemm: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: matmulMacs,
    inferShapes(ctx) {
      const x = ctx.input(0);
      const b = ctx.input(1);
      if (!x || !b) return;
      const m = attrInt(ctx.node, 'transA', 0) ? x[1]! : x[0]!;
      const n = attrInt(ctx.node, 'transB', 0) ? b[0]! : b[1]!;
      ctx.set([m, n]);
    },
  },
  MatMul: {
    role: 'weighted',
    paramInputs: [0, 1],
    macs: matmulMacs,
    inferShapes(ctx) {
      const x = ctx.input(0);
      const b = ctx.input(1);
      if (!x || !b) return;
      const batchDims = broadcast(x.slice(0, -2), b.slice(0, -2));
      ctx.set([...batchDims, x[x.length - 2] ?? 1, b[b.length - 1]!].slice(x.length === 1 ? 1 : 0));
    },
  },
};
