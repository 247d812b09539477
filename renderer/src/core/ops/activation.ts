import { each, type OpDef, sameAsInput } from './types';

/** Non-linearities applied element-wise: the "ReLU" of conv → BN → ReLU, and their relatives. */
export const activationOps: Record<string, OpDef> = each(
  [
    'Relu',
    'LeakyRelu',
    'PRelu',
    'Elu',
    'Selu',
    'Clip',
    'Sigmoid',
    'HardSigmoid',
    'HardSwish',
    'Tanh',
    'Mish',
    'Softplus',
  ],
  { role: 'activation', inferShapes: sameAsInput },
);
