import { broadcast, each, type OpDef, type Shape, type ShapeContext, sameAsInput } from './types';

/** Broadcast shape of all inputs; folds two small integer operands (shape arithmetic). */
function inferBroadcast(ctx: ShapeContext): void {
  const { node } = ctx;
  const known = node.inputs.map((_, i) => ctx.input(i)).filter((s): s is Shape => !!s);
  if (known.length === node.inputs.length) ctx.set(known.reduce(broadcast));
  else if (known.length > 0) ctx.set(known.reduce((a, b) => (a.length >= b.length ? a : b)));
  const a = ctx.value(0);
  const b = ctx.value(1);
  if (a && b && node.inputs.length === 2)
    ctx.fold(foldArithmetic(node.opType, a.values, b.values), broadcast(a.dims, b.dims));
}

function foldArithmetic(op: string, a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length === 1 ? 0 : i]!;
    const y = b[b.length === 1 ? 0 : i]!;
    out.push(op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : op === 'Div' ? Math.trunc(x / y) : x);
  }
  return out;
}

/** Same shape as the input, and the same values when they are folded (Identity, Cast). */
function passThrough(ctx: ShapeContext): void {
  sameAsInput(ctx);
  const v = ctx.value(0);
  if (v) ctx.fold(v.values, v.dims);
}

export const elementwiseOps: Record<string, OpDef> = {
  // Where residual branches join the shortcut.
  ...each(['Add', 'Sum'], { role: 'join', inferShapes: inferBroadcast }),
  ...each(['Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Equal', 'Greater', 'Less', 'Where', 'And', 'Or'], {
    role: 'elementwise',
    inferShapes: inferBroadcast,
  }),
  ...each(['Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Erf', 'Reciprocal', 'Not', 'Floor', 'Ceil'], {
    role: 'elementwise',
    inferShapes: sameAsInput,
  }),
  Cast: { role: 'elementwise', inferShapes: passThrough },
  ...each(['Identity', 'Dropout'], { role: 'passive', inferShapes: passThrough }),
};
