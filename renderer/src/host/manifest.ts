import type { ModelEntry, Preprocessing } from './host';

/** One bundled model as models/manifest.json lists it: the entry the UI sees and its file (relative to models/). */
export interface BundledModel {
  entry: ModelEntry;
  file: string;
}

interface RawModel {
  id?: unknown;
  name?: unknown;
  file?: unknown;
  bytes?: unknown;
  sha256?: unknown;
  labels?: unknown;
  default?: unknown;
  preprocessing?: { scale?: unknown; mean?: unknown; std?: unknown; resize?: unknown };
  referenceTop1?: { value?: unknown; set?: unknown };
}

/**
 * Reads models/manifest.json into entries, the one mapping both hosts use (so both builds list the same models).
 * Every field is checked; malformed rows are left out and named in `skipped`. `isValidId` lets the desktop host
 * apply its stricter id rule.
 */
export function parseManifestModels(
  json: unknown,
  isValidId: (id: unknown) => id is string = (id): id is string => typeof id === 'string' && id.length > 0,
): { models: BundledModel[]; skipped: string[] } {
  const rows = (json as { models?: unknown } | null)?.models;
  const models: BundledModel[] = [];
  const skipped: string[] = [];
  for (const m of Array.isArray(rows) ? (rows as RawModel[]) : []) {
    if (!isValidId(m.id) || typeof m.name !== 'string' || typeof m.file !== 'string' || m.file === '') {
      skipped.push(String(m?.id));
      continue;
    }
    const entry: ModelEntry = {
      id: m.id,
      name: m.name,
      source: 'bundled',
      bytes: typeof m.bytes === 'number' ? m.bytes : 0,
      isDefault: m.default === true,
      ...(typeof m.sha256 === 'string' ? { sha256: m.sha256 } : {}),
      ...(typeof m.labels === 'string' ? { labels: m.labels } : {}),
      ...(typeof m.referenceTop1?.value === 'number' && typeof m.referenceTop1.set === 'string'
        ? { dataset: m.referenceTop1.set, referenceTop1: m.referenceTop1.value }
        : {}),
      ...(readPreprocessing(m.preprocessing) ?? {}),
    };
    models.push({ entry, file: m.file });
  }
  return { models, skipped };
}

function readPreprocessing(raw: RawModel['preprocessing']): { preprocessing: Preprocessing } | null {
  if (!raw || typeof raw.scale !== 'number' || !isTriple(raw.mean) || !isTriple(raw.std)) return null;
  const resize = typeof raw.resize === 'number' ? raw.resize : null;
  return { preprocessing: { scale: raw.scale, mean: raw.mean, std: raw.std, resize } };
}

function isTriple(value: unknown): value is [number, number, number] {
  return Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number');
}
