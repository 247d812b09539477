import { type BackwardContext, broadcast, each, type OpDef, type Shape, type ShapeContext, sameAsInput } from './types';

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

/** Gradients of the arithmetic ops, summed back over broadcast axes. */
const arithmetic: Record<string, (ctx: BackwardContext) => (string | undefined)[]> = {
  Add: (ctx) => ctx.node.inputs.map((_, i) => (ctx.needs(i) ? ctx.unbroadcast(ctx.grad()!, i) : undefined)),
  Sub: (ctx) => [
    ctx.needs(0) ? ctx.unbroadcast(ctx.grad()!, 0) : undefined,
    ctx.needs(1) ? ctx.unbroadcast(ctx.e.op('Neg', [ctx.grad()!]), 1) : undefined,
  ],
  Mul: (ctx) => {
    const [a, b] = ctx.node.inputs as [string, string];
    const g = ctx.grad()!;
    return [
      ctx.needs(0) ? ctx.unbroadcast(ctx.e.op('Mul', [g, b]), 0) : undefined,
      ctx.needs(1) ? ctx.unbroadcast(ctx.e.op('Mul', [g, a]), 1) : undefined,
    ];
  },
  Div: (ctx) => {
    const [a, b] = ctx.node.inputs as [string, string];
    const g = ctx.grad()!;
    const { e } = ctx;
    return [
      ctx.needs(0) ? ctx.unbroadcast(e.op('Div', [g, b]), 0) : undefined,
      ctx.needs(1)
        ? ctx.unbroadcast(e.op('Neg', [e.op('Div', [e.op('Mul', [g, a]), e.op('Mul', [b, b])])]), 1)
        : undefined,
    ];
  },
};

const pass = (ctx: BackwardContext) => [ctx.grad()];

export const elementwiseOps: Record<string, OpDef> = {
  // Where residual branches join the shortcut.
  Add: { role: 'join', inferShapes: inferBroadcast, backward: arithmetic.Add },
  Sum: { role: 'join', inferShapes: inferBroadcast, backward: arithmetic.Add },
  ...each(['Pow', 'Max', 'Min', 'Where'], { role: 'elementwise', inferShapes: inferBroadcast }),
  Sub: { role: 'elementwise', inferShapes: inferBroadcast, backward: arithmetic.Sub },
  Mul: { role: 'elementwise', inferShapes: inferBroadcast, backward: arithmetic.Mul },
  Div: { role: 'elementwise', inferShapes: inferBroadcast, backward: arithmetic.Div },
  // Comparisons and logic give no gradient: their outputs are masks and booleans.
  ...each(['Equal', 'Greater', 'Less', 'And', 'Or'], {
    role: 'elementwise',
    inferShapes: inferBroadcast,
    gradInputs: [],
  }),
  ...each(['Not', 'Floor', 'Ceil'], { role: 'elementwise', inferShapes: sameAsInput, gradInputs: [] }),
  ...each(['Abs', 'Sqrt', 'Exp', 'Log', 'Erf', 'Reciprocal'], { role: 'elementwise', inferShapes: sameAsInput }),
  Neg: { role: 'elementwise', inferShapes: sameAsInput, backward: (ctx) => [ctx.e.op('Neg', [ctx.grad()!])] },
  Cast: { role: 'elementwise', inferShapes: passThrough, backward: pass },
  Identity: { role: 'passive', inferShapes: passThrough, backward: pass },
  Dropout: { role: 'passive', inferShapes: passThrough, backward: pass, gradInputs: [0] },
};
