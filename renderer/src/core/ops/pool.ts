import { attrInts } from '../onnx/attrs';
import { inferWindow } from './conv';
import { each, type OpDef } from './types';

export const poolOps: Record<string, OpDef> = {
  ...each(['MaxPool', 'AveragePool', 'LpPool'], {
    role: 'pool',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (x) ctx.set(inferWindow(ctx.node, x, attrInts(ctx.node, 'kernel_shape') ?? [1, 1], x[1]!));
    },
  }),
  ...each(['GlobalAveragePool', 'GlobalMaxPool'], {
    role: 'pool',
    inferShapes(ctx) {
      const x = ctx.input(0);
      if (x) ctx.set([x[0]!, x[1]!, ...x.slice(2).map(() => 1)]);
    },
  }),
};
