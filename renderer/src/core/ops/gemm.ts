import { attrFloat, attrInt, attrString, float, int } from '../onnx/attrs';
import type { Node } from '../onnx/model';
import {
  type BackwardContext,
  broadcast,
  type MacShapes,
  type OpDef,
  product,
  type Shape,
  type ShapeContext,
  sumToShape,
} from './types';

/** Every output element of Gemm needs K multiply–accumulates, K = A's shared dimension. */
function gemmMacs(node: Node, s: MacShapes): number | undefined {
  const a = s.input(0);
  const y = s.output();
  if (!a || !y) return undefined;
  const k = attrInt(node, 'transA', 0) === 1 ? a[0]! : a[a.length - 1]!;
  return product(y) * k;
}

/**
 * MatMul, a Linear layer (a constant operand) or a product of two activations (attention's Q·Kᵀ and A·V, batched
 * and broadcast): every output element needs K multiply–accumulates, K = A's last dimension.
 */
function matmulMacs(_node: Node, s: MacShapes): number | undefined {
  const a = s.input(0);
  const y = s.output();
  return a && y ? product(y) * a[a.length - 1]! : undefined;
}

/**
 * Einsum's subscripts: every output element sums over the contracted indices, so the MACs are the product of
 * every index's size (when the operands are multiplied at all: two or more of them).
 */
function einsumMacs(node: Node, s: MacShapes): number | undefined {
  const terms = parseEinsum(node, node.inputs.length);
  if (!terms || node.inputs.length < 2) return 0;
  const sizes = einsumSizes(terms.inputs, s);
  return sizes ? product([...sizes.values()]) : undefined;
}

/** "bij,bjk->bk" into input and output subscripts ("..." is kept as one letter, '.'); explicit output only. */
function parseEinsum(node: Node, inputs: number): { inputs: string[]; output: string | null } | undefined {
  const eq = attrString(node, 'equation', '')
    .replace(/\s/g, '')
    .replace(/\.\.\./g, '.');
  const [lhs, rhs] = eq.split('->');
  const terms = (lhs ?? '').split(',');
  if (terms.length !== inputs) return undefined;
  return { inputs: terms, output: rhs ?? null };
}

/** Each subscript letter's size, read from the operand shapes ('.' spans the broadcast dimensions). */
function einsumSizes(terms: string[], s: MacShapes): Map<string, number> | undefined {
  const sizes = new Map<string, number>();
  for (const [i, term] of terms.entries()) {
    const shape = s.input(i);
    if (!shape) return undefined;
    const dots = shape.length - (term.length - (term.includes('.') ? 1 : 0));
    let axis = 0;
    for (const letter of term) {
      if (letter === '.') {
        for (let d = 0; d < dots; d++) sizes.set(`.${d}`, Math.max(sizes.get(`.${d}`) ?? 1, shape[axis++]!));
        continue;
      }
      sizes.set(letter, Math.max(sizes.get(letter) ?? 1, shape[axis++]!));
    }
  }
  return sizes;
}

/** Einsum's output shape: the explicit output subscripts, or (implicit form) the letters used once, sorted. */
function inferEinsum(ctx: ShapeContext): void {
  const terms = parseEinsum(ctx.node, ctx.node.inputs.length);
  if (!terms) return;
  const sizes = einsumSizes(terms.inputs, { input: (i) => ctx.input(i), output: () => undefined });
  if (!sizes) return;
  let out = terms.output;
  if (out === null) {
    const letters = terms.inputs.join('').replace(/\./g, '');
    out = `${terms.inputs.some((t) => t.includes('.')) ? '.' : ''}${[...new Set(letters)]
      .filter((l) => letters.indexOf(l) === letters.lastIndexOf(l))
      .sort()
      .join('')}`;
  }
  const dots = [...sizes.keys()].filter((k) => k.startsWith('.')).length;
  const shape: Shape = [];
  for (const letter of out) {
    if (letter === '.') for (let d = 0; d < dots; d++) shape.push(sizes.get(`.${d}`)!);
    else shape.push(sizes.get(letter)!);
  }
  if (shape.every((d) => d !== undefined)) ctx.set(shape);
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

/**
 * MatMul. 2-D (a Linear layer exported without Gemm): ∂A = g·Bᵀ, ∂B = Aᵀ·g as Gemms. Batched and broadcast
 * (attention's q·kᵀ and softmax·v, a Linear on [N, tokens, width]): the same products with the last two axes
 * swapped, summed over the leading axes an operand was broadcast along.
 */
function matmulBackward(ctx: BackwardContext): (string | undefined)[] {
  const { e } = ctx;
  const [a, b] = ctx.node.inputs as [string, string];
  const sa = ctx.shape(a);
  const sb = ctx.shape(b);
  if (!sa || !sb) ctx.fail('its input shapes are unknown');
  if (sa.length < 2 || sb.length < 2) ctx.fail('a 1-D operand is not differentiated');
  const g = ctx.grad()!;
  if (sa.length === 2 && sb.length === 2) {
    const c = e.opset < 11 ? [e.scalar(0)] : [];
    const gemm = (x: string, y: string, transA: number, transB: number) =>
      e.op('Gemm', [x, y, ...c], { transA: int(transA), transB: int(transB) });
    return [ctx.needs(0) ? gemm(g, b, 0, 1) : undefined, ctx.needs(1) ? gemm(a, g, 1, 0) : undefined];
  }
  const swap = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
  const out = ctx.shape(ctx.node.outputs[0]!) ?? ctx.fail('its output shape is unknown');
  const lead = out.slice(0, -2);
  // The product's gradient is [...lead, rows, cols] of the operand: summed over the leading axes it was broadcast on.
  const reduceTo = (grad: string, s: number[]): string => sumToShape(e, grad, s, [...lead, ...s.slice(-2)]);
  return [
    ctx.needs(0) ? reduceTo(e.op('MatMul', [g, e.transpose(b, swap(sb.length))]), sa) : undefined,
    ctx.needs(1) ? reduceTo(e.op('MatMul', [e.transpose(a, swap(sa.length)), g]), sb) : undefined,
  ];
}

export const gemmOps: Record<string, OpDef> = {
  Gemm: {
    role: 'weighted',
    paramInputs: [1, 2],
    macs: gemmMacs,
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
      // 1-D operands are promoted to matrices, and the added axis removed again.
      const batchDims = broadcast(x.slice(0, -2), b.slice(0, -2));
      const rows = x.length === 1 ? [] : [x[x.length - 2]!];
      const cols = b.length === 1 ? [] : [b[b.length - 1]!];
      ctx.set([...batchDims, ...rows, ...cols]);
    },
  },
  Einsum: { role: 'elementwise', macs: einsumMacs, inferShapes: inferEinsum },
};
