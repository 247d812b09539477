import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { presetFor } from '../../renderer/src/data/preprocess';
import { quietJob } from '../../renderer/src/lab/job';
import { createLabHandlers } from '../../renderer/src/worker/handlers';

const CIFAR = readFileSync(join(import.meta.dirname, '../../assets/data/cifar10/test_first932.bin'));

/** Plain vs residual at initialisation (the Init panel and the tour), in both BatchNorm settings. */
describe('lab worker: networks at initialisation', () => {
  it('with batch statistics deep nets stay finite; the plain net’s first/last gradient ratio runs away, the residual’s does not', async () => {
    const lab = createLabHandlers({ createRuntime: () => createNodeRuntime({}), decodeImage });
    await lab.addImageSet(
      { kind: 'cifar-binary', id: 't', title: 't', data: CIFAR.slice().buffer, labelSet: 'cifar10' },
      quietJob(),
    );
    const variants = (['resnet', 'plain'] as const).map((variant) => ({ variant, depth: 56, seed: 0 }));
    const common = { variants, set: 't', index: 0, preprocessing: presetFor(32) };
    const [resnet, plain] = await lab.compareAtInit({ ...common, batchNorm: 'batch' }, quietJob());
    const [rawResnet] = await lab.compareAtInit({ ...common, batchNorm: 'identity' }, quietJob());
    expect(resnet!.batchNorm).toEqual({ kind: 'batch', images: 32 });
    expect(rawResnet!.batchNorm).toEqual({ kind: 'identity' });
    const ratio = (r: typeof resnet) => r!.layers[0]! / r!.layers.at(-1)!;
    // Unnormalised, ResNet-56's activations grow block by block (loss in the hundreds); normalised, it is near
    // the ln 10 ≈ 2.3 of an untrained classifier.
    expect(rawResnet!.loss).toBeGreaterThan(50);
    expect(resnet!.loss).toBeLessThan(10);
    expect(plain!.loss).toBeLessThan(10);
    expect(ratio(resnet)).toBeGreaterThan(0.1);
    expect(ratio(resnet)).toBeLessThan(10);
    expect(ratio(plain)).toBeGreaterThan(100);
  }, 120_000);
});
