import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamedLabelSet as LabelSetName } from '../renderer/src/data/imageSets';
import { type LabelSet, parseLabelSet } from '../renderer/src/data/labels';

/** The shipped assets/ folder: beside the checkout's cli/ (sources) or dist-cli/ (the bundle). */
export function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '..', 'assets'), resolve(here, '..', '..', 'assets')])
    if (existsSync(join(candidate, 'manifest.json'))) return candidate;
  throw new Error(`the assets folder (labels) was not found near ${here}`);
}

const LABEL_FILES: Record<LabelSetName, string> = { cifar10: 'labels/cifar10.txt', imagenet: 'labels/imagenet.tsv' };

export function loadLabelSet(name: LabelSetName): LabelSet {
  return parseLabelSet(name, readFileSync(join(assetsDir(), LABEL_FILES[name]), 'utf8'));
}
