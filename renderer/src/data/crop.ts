/**
 * torchvision's evaluation transform for ImageNet models, as a source rectangle: resize the shorter side to
 * `resize`, then take the centred `size`×`size` square. Returned in source-image pixels for drawImage.
 */
export function centerCropRect(
  width: number,
  height: number,
  resize: number,
  size: number,
): { x: number; y: number; w: number; h: number } {
  const scale = resize / Math.min(width, height);
  const side = size / scale;
  return { x: (width - side) / 2, y: (height - side) / 2, w: side, h: side };
}

/** The resize side torchvision pairs with a crop (256 for 224): the same 0.875 crop ratio at any input size. */
export function defaultResize(size: number): number {
  return Math.round(size / 0.875);
}

/** ImageNet sample files are named `<wnid>_<name>.JPEG`; returns the wnid, or null. */
export function wnidOf(fileName: string): string | null {
  const match = /^(n\d{8})_/.exec(fileName);
  return match ? match[1]! : null;
}
