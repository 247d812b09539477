import type { ImageSet } from '../data/imageSets';
import type { Preprocessing } from '../data/preprocess';
import { firstImage, loadImage, type ModelInput, oneImageBatch } from './inputs';
import type { HostTensor } from './runtime';
import type { ModelSessions } from './sessions';

export interface Prediction {
  /** The image as the model sees it: planar RGB, side × side. */
  pixels: Uint8Array;
  name: string;
  label: number | null;
  /** Logits (or whatever the output holds) for the image. */
  logits: Float32Array;
  /** Milliseconds of the session run alone. */
  ms: number;
  provider: string;
}

/** Runs one image of a set through the model. */
export async function predictOne(
  sessions: ModelSessions,
  input: ModelInput,
  set: ImageSet,
  index: number,
  prep: Preprocessing,
  /** More feeds for the run (e.g. lesion gates for a gated model). */
  extra: Record<string, HostTensor> = {},
): Promise<Prediction> {
  const image = await loadImage(set, index, input, prep);
  const session = await sessions.forBatch(1);
  const { tensor, rows } = oneImageBatch(input, image.tensor);
  const started = performance.now();
  const out = await session.run({ [input.name]: tensor, ...extra }, [input.output]);
  const ms = performance.now() - started;
  return {
    pixels: image.pixels,
    name: set.name(index),
    label: set.label(index),
    logits: Float32Array.from(firstImage(out[input.output]!.data as Float32Array, rows)),
    ms,
    provider: session.provider,
  };
}
