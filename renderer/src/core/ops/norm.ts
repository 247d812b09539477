import { each, type OpDef, sameAsInput } from './types';

/** Normalisation layers; scale and shift are learned, running statistics are not. */
export const normOps: Record<string, OpDef> = {
  ...each(['BatchNormalization', 'InstanceNormalization'], {
    role: 'norm',
    paramInputs: [1, 2],
    inferShapes: sameAsInput,
  }),
  // Local response normalisation (AlexNet-era): no parameters, not part of any ResNet block pattern.
  LRN: { role: 'elementwise', inferShapes: sameAsInput },
};
