import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
/** ../shared beside the checkout: tests may read it; the app never does. */
export const SHARED = resolve(ROOT, '../shared');

export interface ManifestModel {
  id: string;
  file: string;
  sha256: string;
  referenceTop1: { value: number };
  preprocessing: {
    scale: number;
    mean: [number, number, number];
    std: [number, number, number];
    resize: number | null;
  };
}

export function readManifest(): ManifestModel[] {
  return (JSON.parse(readFileSync(join(ROOT, 'models/manifest.json'), 'utf8')) as { models: ManifestModel[] }).models;
}

/** File bytes as a Uint8Array view (no copy). */
export function readBytes(path: string): Uint8Array {
  const b = readFileSync(resolve(ROOT, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function bundledModel(name: string): Uint8Array {
  return readBytes(`models/cifar10/${name}.onnx`);
}

export function sharedExists(): boolean {
  return existsSync(SHARED);
}
