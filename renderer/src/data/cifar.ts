/** CIFAR binary format: per image 1 label byte, then 1024 R, 1024 G, 1024 B bytes (32×32, row-major). */
export const CIFAR_SIDE = 32;
const RECORD = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE;

export interface LabelledImages {
  count: number;
  width: number;
  height: number;
  labels: Uint8Array;
  /** Planar RGB bytes, image after image: count × 3 × height × width. */
  pixels: Uint8Array;
}

/** Parses a CIFAR-10/100-style binary batch; throws when the length is not a whole number of records. */
/**
 * "not a CIFAR binary batch: …" for a length no batch has (empty, or no whole number of records), else null. Each
 * file of several is a batch of its own (the CLI and the app check each: a file one byte short and one a byte long
 * passed as one, and the second was read out of place).
 */
export function cifarLengthProblem(byteLength: number): string | null {
  if (byteLength === 0) return `not a CIFAR binary batch: the file is empty (a batch holds ${RECORD} bytes per image)`;
  if (byteLength % RECORD !== 0) return `not a CIFAR binary batch: ${byteLength} bytes is not a multiple of ${RECORD}`;
  return null;
}

export function parseCifarBinary(bytes: Uint8Array): LabelledImages {
  const problem = cifarLengthProblem(bytes.byteLength);
  if (problem) throw new Error(problem);
  const count = bytes.byteLength / RECORD;
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * (RECORD - 1));
  for (let i = 0; i < count; i++) {
    labels[i] = bytes[i * RECORD]!;
    pixels.set(bytes.subarray(i * RECORD + 1, (i + 1) * RECORD), i * (RECORD - 1));
  }
  return { count, width: CIFAR_SIDE, height: CIFAR_SIDE, labels, pixels };
}

/** Planar RGB bytes of one image (a view, no copy). */
export function imagePixels(set: LabelledImages, i: number): Uint8Array {
  const size = 3 * set.width * set.height;
  return set.pixels.subarray(i * size, (i + 1) * size);
}
