/**
 * Persisted settings: `<userData>/settings.json`, written atomically, every field validated.
 * Plain Node (no Electron import): main/index.ts passes the directory in.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSettings, type Settings } from '../../renderer/src/core/catalog';
import { isModelId } from '../contract';
import { serialize, TEMP_SUFFIX, writeFileAtomic } from './atomic';

type Rule<K extends keyof Settings> = { accepts: (value: unknown) => value is Settings[K]; reason: string };

const themes: readonly unknown[] = ['dark', 'light', 'projector'] satisfies Settings['theme'][];
const providers: readonly unknown[] = ['auto', 'webgpu', 'wasm'] satisfies Settings['provider'][];
const MAX_BATCH = 4096;

/** One rule per field; a mapped type, so a new field in Settings without a rule does not compile. */
const rules: { [K in keyof Settings]: Rule<K> } = {
  theme: {
    accepts: (value): value is Settings['theme'] => themes.includes(value),
    reason: `Setting theme must be one of ${themes.join(', ')}`,
  },
  provider: {
    accepts: (value): value is Settings['provider'] => providers.includes(value),
    reason: `Setting provider must be one of ${providers.join(', ')}`,
  },
  batchSize: {
    accepts: (value): value is number =>
      Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_BATCH,
    reason: `Setting batchSize must be a whole number from 1 to ${MAX_BATCH}`,
  },
  lastModelId: {
    accepts: (value): value is string | null => value === null || isModelId(value),
    reason: 'Setting lastModelId must be a model id or null',
  },
};

export interface SettingsStore {
  get(): Settings;
  /** Validates a patch from the renderer (an unknown key or a bad value refuses the whole patch), saves, returns the result. */
  update(patch: unknown): Promise<Settings>;
}

/** Loads settings from `dir`; a missing or damaged file, or any bad field, falls back to the default for that field. */
export async function openSettings(dir: string): Promise<SettingsStore> {
  const path = join(dir, 'settings.json');
  await cleanTempFiles(dir);
  let current = normalizeSettings(await readJson(path));
  const exclusive = serialize();
  return {
    get: () => ({ ...current }),
    update: (patch) =>
      exclusive(async () => {
        const next = { ...current, ...validateSettingsPatch(patch) };
        await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`);
        current = next;
        return { ...current };
      }),
  };
}

/** Keeps every valid field of a stored object and replaces the rest by defaults (old or hand-edited files). */
export function normalizeSettings(raw: unknown): Settings {
  const settings: Settings = { ...defaultSettings };
  if (!isRecord(raw)) return settings;
  for (const key of Object.keys(rules) as (keyof Settings)[]) {
    if (Object.hasOwn(raw, key) && rules[key].accepts(raw[key])) Object.assign(settings, { [key]: raw[key] });
  }
  return settings;
}

/** Returns a checked patch or throws an Error with a one-line reason. */
export function validateSettingsPatch(patch: unknown): Partial<Settings> {
  if (!isRecord(patch)) throw new Error('Settings must be an object');
  const checked: Partial<Settings> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (!Object.hasOwn(rules, key)) throw new Error(`Unknown setting ${JSON.stringify(key.slice(0, 40))}`);
    const rule = rules[key as keyof Settings];
    if (!rule.accepts(value)) throw new Error(rule.reason);
    Object.assign(checked, { [key]: value });
  }
  return checked;
}

/** Deletes the temp files of settings writes a crash interrupted (`.settings.json.<random>.tmp`); best effort. */
async function cleanTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('.settings.json.') && name.endsWith(TEMP_SUFFIX)) {
      await rm(join(dir, name), { force: true }).catch(() => undefined);
    }
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
