import { each, type OpDef, sameAsInput } from './types';

export const softmaxOps: Record<string, OpDef> = each(['Softmax', 'LogSoftmax'], {
  role: 'elementwise',
  inferShapes: sameAsInput,
});
