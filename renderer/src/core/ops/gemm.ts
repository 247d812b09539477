import { attrFloat, attrInt, float, int } from '../onnx/attrs';
import type { Node } from '../onnx/model';
import { type BackwardContext, broadcast, type OpDef, product, type Shape } from './types';

/** Every output element needs K multiply–accumulates, K = the weight's shared dimension. */
function matmulMacs(node: Node, weightShape: Shape, outShape: Shape): number {
  const transB = attrInt(node, 'transB', 0) === 1;
  const k = transB ? weightShape[weightShape.length - 1]! : weightShape[0]!;
  // Per image: every axis but the batch (which may be 0 in a declared shape).
  return product(outShape.slice(1)) * k;
}

/**
 * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A (and B' likewise): ∂A' = α·g·B'ᵀ, ∂B' = α·A'ᵀ·g, ∂C = β·g summed
 * over broadcast axes. Each is one Gemm with the transposes chosen so that no Transpose node is needed.
 */
function gemmBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const [a, b] = node.inputs as [string, string];
  const g = ctx.grad()!;
  const ta = attrInt(node, 'transA', 0) === 1;
  const tb = attrInt(node, 'transB', 0) === 1;
  const alpha = float(attrFloat(node, 'alpha', 1));
  // Before opset 11 Gemm's C is required: a zero scalar (broadcast) stands in.
  const c = e.opset < 11 ? [e.scalar(0)] : [];
  const gemm = (x: string, y: string, transA: boolean, transB: boolean) =>
    e.op('Gemm', [x, y, ...c], { alpha, transA: int(transA ? 1 : 0), transB: int(transB ? 1 : 0) });
  const out: (string | undefined)[] = [];
  if (ctx.needs(0)) out[0] = ta ? gemm(b, g, tb, true) : gemm(g, b, false, !tb);
  if (ctx.needs(1)) out[1] = tb ? gemm(g, a, true, ta) : gemm(a, g, !ta, false);
  if (node.inputs[2] && ctx.needs(2)) {
    const beta = attrFloat(node, 'beta', 1);
    const scaled = beta === 1 ? g : e.op('Mul', [g, e.scalar(beta)]);
    out[2] = ctx.unbroadcast(scaled, 2);
  }
  return out;
}

/** 2-D MatMul (a Linear layer exported without Gemm): ∂A = g·Bᵀ, ∂B = Aᵀ·g. */
function matmulBackward(ctx: BackwardContext): (string | undefined)[] {
  const [a, b] = ctx.node.inputs as [string, string];
  const sa = ctx.shape(a);
  const sb = ctx.shape(b);
  if (sa?.length !== 2 || sb?.length !== 2) ctx.fail('only 2-D MatMul is differentiated');
  const g = ctx.grad()!;
  const c = ctx.e.opset < 11 ? [ctx.e.scalar(0)] : [];
  const gemm = (x: string, y: string, transA: number, transB: number) =>
    ctx.e.op('Gemm', [x, y, ...c], { transA: int(transA), transB: int(transB) });
  return [ctx.needs(0) ? gemm(g, b, 0, 1) : undefined, ctx.needs(1) ? gemm(a, g, 1, 0) : undefined];
}

export const gemmOps: Record<string, OpDef> = {
  Gemm: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: matmulMacs,
    backward: gemmBackward,
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
    backward: matmulBackward,
    inferShapes(ctx) {
      const x = ctx.input(0);
      const b = ctx.input(1);
      if (!x || !b) return;
      const batchDims = broadcast(x.slice(0, -2), b.slice(0, -2));
      ctx.set([...batchDims, x[x.length - 2] ?? 1, b[b.length - 1]!].slice(x.length === 1 ? 1 : 0));
    },
  },
};
