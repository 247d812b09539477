import { attrInt } from '../onnx/attrs';
import { DataType, isIntegral } from '../onnx/dtypes';
import {
  type BackwardContext,
  broadcast,
  each,
  type Folded,
  MAX_FOLDED,
  type OpDef,
  product,
  type Shape,
  type ShapeContext,
  sameAsInput,
} from './types';

/** Round half to even, as ONNX Round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Broadcast shape of all inputs; folds small operands whose values are known (shape arithmetic, masks). */
function inferBroadcast(ctx: ShapeContext): void {
  const { node } = ctx;
  const known = node.inputs.map((_, i) => ctx.input(i)).filter((s): s is Shape => !!s);
  if (known.length === node.inputs.length) ctx.set(known.reduce(broadcast));
  else if (known.length > 0) ctx.set(known.reduce((a, b) => (a.length >= b.length ? a : b)));
  const f = FOLDS[node.opType];
  const values = node.inputs.map((_, i) => ctx.value(i));
  if (!f || node.inputs.length < 2 || !values.every((v): v is Folded => !!v)) return;
  const float = values.some((v) => v.float);
  // Where's condition is boolean: the result is float when either branch is.
  const resultFloat =
    node.opType === 'Where' ? !!(values[1]!.float || values[2]!.float) : float && !COMPARES.has(node.opType);
  const folded = foldBroadcast(values, (xs) => f(xs, float));
  if (folded) ctx.fold(folded.values, folded.dims, resultFloat);
}

const COMPARES = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

/** Element-wise folds of small tensors: integer semantics unless a value is floating point. */
const FOLDS: Record<string, (xs: number[], float: boolean) => number> = {
  Add: ([a, b]) => a! + b!,
  Sub: ([a, b]) => a! - b!,
  Mul: ([a, b]) => a! * b!,
  Div: ([a, b], float) => (float ? a! / b! : Math.trunc(a! / b!)),
  // fmod = 0 (the default, and what exporters emit for integers): the sign follows the divisor, as in Python.
  Mod: ([a, b]) => a! - b! * Math.floor(a! / b!),
  Pow: ([a, b]) => a! ** b!,
  Max: (xs) => Math.max(...xs),
  Min: (xs) => Math.min(...xs),
  Equal: ([a, b]) => (a === b ? 1 : 0),
  Less: ([a, b]) => (a! < b! ? 1 : 0),
  Greater: ([a, b]) => (a! > b! ? 1 : 0),
  LessOrEqual: ([a, b]) => (a! <= b! ? 1 : 0),
  GreaterOrEqual: ([a, b]) => (a! >= b! ? 1 : 0),
  And: ([a, b]) => (a && b ? 1 : 0),
  Or: ([a, b]) => (a || b ? 1 : 0),
  Xor: ([a, b]) => (!a !== !b ? 1 : 0),
  Where: ([c, a, b]) => (c ? a! : b!),
};

/** Numpy-broadcast of several folded tensors through `f`, element by element; undefined when too large. */
function foldBroadcast(values: Folded[], f: (xs: number[]) => number): Folded | undefined {
  const dims = values.map((v) => v.dims).reduce(broadcast);
  const total = product(dims);
  if (total > MAX_FOLDED || values.some((v) => v.values.length !== product(v.dims))) return undefined;
  const rank = dims.length;
  const out: number[] = [];
  const index = new Array<number>(rank).fill(0);
  for (let k = 0; k < total; k++) {
    let rest = k;
    for (let a = rank - 1; a >= 0; a--) {
      index[a] = rest % dims[a]!;
      rest = Math.floor(rest / dims[a]!);
    }
    const xs = values.map((v) => {
      let flat = 0;
      const offset = rank - v.dims.length;
      for (let a = 0; a < v.dims.length; a++) flat = flat * v.dims[a]! + (v.dims[a] === 1 ? 0 : index[a + offset]!);
      return v.values[flat]!;
    });
    out.push(f(xs));
  }
  return { dims, values: out };
}

/** One-input ops on small folded tensors (Not, Neg, Floor …). */
function inferUnary(f: (x: number, float: boolean) => number, float?: (input: boolean) => boolean) {
  return (ctx: ShapeContext): void => {
    sameAsInput(ctx);
    const v = ctx.value(0);
    if (v)
      ctx.fold(
        v.values.map((x) => f(x, !!v.float)),
        v.dims,
        float ? float(!!v.float) : v.float,
      );
  };
}

/** Same shape as the input, and the same values when they are folded (Identity). */
function passThrough(ctx: ShapeContext): void {
  sameAsInput(ctx);
  const v = ctx.value(0);
  if (v) ctx.fold(v.values, v.dims, v.float);
}

/** Cast: same shape; folded values become floating point or integers as `to` says. */
function inferCast(ctx: ShapeContext): void {
  sameAsInput(ctx);
  const v = ctx.value(0);
  if (!v) return;
  const to = attrInt(ctx.node, 'to', DataType.FLOAT);
  if (isIntegral(to)) ctx.fold(v.values.map(Math.trunc), v.dims);
  else if (to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16 || to === DataType.BFLOAT16)
    ctx.fold(v.values, v.dims, true);
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

/** g · f'(x) for a one-input op, f' written with the forward input x and output y. */
const unary =
  (slope: (ctx: BackwardContext, x: string, y: string) => string) =>
  (ctx: BackwardContext): (string | undefined)[] => [
    ctx.e.op('Mul', [ctx.grad()!, slope(ctx, ctx.node.inputs[0]!, ctx.node.outputs[0]!)]),
  ];

/** d/dx erf(x) = 2/√π · exp(−x²): GELU before opset 20 is x·½·(1 + erf(x/√2)) in plain ops. */
const erfSlope = (ctx: BackwardContext, x: string) =>
  ctx.e.op('Mul', [
    ctx.e.op('Exp', [ctx.e.op('Neg', [ctx.e.op('Mul', [x, x])])]),
    ctx.e.scalar(2 / Math.sqrt(Math.PI)),
  ]);

/**
 * x^p with a constant exponent p (the squares of a LayerNorm written out as ops): p·x^(p−1), and 2x for the
 * common square. A learned or data-dependent exponent is refused.
 */
function powBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  if (ctx.needs(1)) ctx.fail('its exponent depends on the image');
  const p = ctx.floats(node.inputs[1]!) ?? ctx.ints(node.inputs[1]!);
  if (p?.length !== 1) ctx.fail('its exponent is not a constant scalar');
  const k = p[0]!;
  const x = node.inputs[0]!;
  const slope = k === 2 ? e.op('Mul', [x, e.scalar(2)]) : e.op('Mul', [e.op('Pow', [x, e.scalar(k - 1)]), e.scalar(k)]);
  return [ctx.unbroadcast(e.op('Mul', [ctx.grad()!, slope]), 0)];
}

/** Where(c, x, y): the gradient goes to x where c holds and to y elsewhere. */
function whereBackward(ctx: BackwardContext): (string | undefined)[] {
  const { node, e } = ctx;
  const g = ctx.grad()!;
  const m = e.mask(node.inputs[0]!);
  return [
    undefined,
    ctx.needs(1) ? ctx.unbroadcast(e.op('Mul', [g, m]), 1) : undefined,
    ctx.needs(2) ? ctx.unbroadcast(e.op('Mul', [g, e.op('Sub', [e.scalar(1), m])]), 2) : undefined,
  ];
}

export const elementwiseOps: Record<string, OpDef> = {
  // Where residual branches join the shortcut.
  Add: { role: 'join', inferShapes: inferBroadcast, backward: arithmetic.Add, constantParams: [0, 1] },
  Sum: { role: 'join', inferShapes: inferBroadcast, backward: arithmetic.Add },
  Pow: { role: 'elementwise', inferShapes: inferBroadcast, backward: powBackward },
  ...each(['Max', 'Min'], { role: 'elementwise', inferShapes: inferBroadcast }),
  Mod: { role: 'elementwise', inferShapes: inferBroadcast, gradInputs: [] },
  // Where's condition is a mask; x and y are data.
  Where: { role: 'elementwise', inferShapes: inferBroadcast, gradInputs: [1, 2], backward: whereBackward },
  Sub: { role: 'elementwise', inferShapes: inferBroadcast, backward: arithmetic.Sub },
  Mul: { role: 'elementwise', inferShapes: inferBroadcast, backward: arithmetic.Mul, constantParams: [0, 1] },
  Div: { role: 'elementwise', inferShapes: inferBroadcast, backward: arithmetic.Div },
  // Comparisons and logic give no gradient: their outputs are masks and booleans.
  ...each(['Equal', 'Greater', 'Less', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'], {
    role: 'elementwise',
    inferShapes: inferBroadcast,
    gradInputs: [],
  }),
  Not: {
    role: 'elementwise',
    inferShapes: inferUnary(
      (x) => (x ? 0 : 1),
      () => false,
    ),
    gradInputs: [],
  },
  Floor: { role: 'elementwise', inferShapes: inferUnary(Math.floor), gradInputs: [] },
  Ceil: { role: 'elementwise', inferShapes: inferUnary(Math.ceil), gradInputs: [] },
  Round: { role: 'elementwise', inferShapes: inferUnary(roundHalfEven), gradInputs: [] },
  Sign: { role: 'elementwise', inferShapes: inferUnary(Math.sign), gradInputs: [] },
  Abs: {
    role: 'elementwise',
    inferShapes: inferUnary(Math.abs),
    backward: unary((ctx, x) => ctx.e.op('Sign', [x])),
  },
  // ½ / √x
  Sqrt: {
    role: 'elementwise',
    inferShapes: inferUnary(Math.sqrt, () => true),
    backward: unary((ctx, _x, y) => ctx.e.op('Div', [ctx.e.scalar(0.5), y])),
  },
  Exp: { role: 'elementwise', inferShapes: sameAsInput, backward: unary((_ctx, _x, y) => y) },
  Log: {
    role: 'elementwise',
    inferShapes: sameAsInput,
    backward: unary((ctx, x) => ctx.e.op('Reciprocal', [x])),
  },
  // −1/x² = −y²
  Reciprocal: {
    role: 'elementwise',
    inferShapes: sameAsInput,
    backward: unary((ctx, _x, y) => ctx.e.op('Neg', [ctx.e.op('Mul', [y, y])])),
  },
  Erf: { role: 'elementwise', inferShapes: sameAsInput, backward: unary(erfSlope) },
  ...each(['Sin', 'Cos', 'Tan', 'Atan', 'IsNaN', 'IsInf'], {
    role: 'elementwise',
    inferShapes: sameAsInput,
  }),
  Neg: {
    role: 'elementwise',
    inferShapes: inferUnary((x) => -x),
    backward: (ctx) => [ctx.e.op('Neg', [ctx.grad()!])],
  },
  Cast: { role: 'elementwise', inferShapes: inferCast, backward: pass },
  CastLike: { role: 'elementwise', inferShapes: sameAsInput, gradInputs: [0] },
  Identity: { role: 'passive', inferShapes: passThrough, backward: pass },
  // An activation quantized on the way (a QDQ model: QuantizeLinear → DequantizeLinear before a Conv, around an Add):
  // the same tensor, rounded to the int8 grid, so the structure passes over them as it does over Identity. Their
  // rounding has no gradient (zero almost everywhere): differentiating through one is refused with the reason.
  ...each(['QuantizeLinear', 'DequantizeLinear'], {
    role: 'passive',
    inferShapes: sameAsInput,
    gradInputs: [0],
    backward: (ctx) =>
      ctx.fail(
        'an activation rounded to integers (QuantizeLinear → DequantizeLinear) has no gradient; gradients need the float model',
      ),
  }),
  Dropout: {
    role: 'passive',
    inferShapes(ctx) {
      passThrough(ctx);
      // The optional mask output has the data's shape.
      ctx.set(ctx.input(0), 1);
    },
    backward: pass,
    gradInputs: [0],
  },
};
