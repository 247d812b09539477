/**
 * Race logs as JSON: `skipscope race --json` / `--json-log` and the recorded full-length runs the app ships
 * (assets/runs/*.json, made by scripts/record-runs.ts) share the schema "skipscope.race/1"; `skipscope train`'s
 * "skipscope.train/1" reads as a race of one. parseRunLog validates either and returns curves to draw;
 * loadRecordedRuns fetches the shipped ones (the tour and the race workspace read them through it).
 */
import { VARIANT_SHORT, type Variant } from '../../core/build/resnet';
import type { RaceResult } from './race';

/** One epoch of a logged run. Errors are fractions; test figures are present when the run measured a test set. */
export interface LoggedEpoch {
  epoch: number;
  loss: number;
  trainError: number;
  testError?: number;
  testLoss?: number;
  ms?: number;
}

/** One logged step (race logs carry them; recorded runs only epochs). */
export interface LoggedStep {
  step: number;
  epoch: number;
  loss: number;
  trainError: number;
}

export interface LoggedNet {
  id: string;
  title: string;
  variant: Variant;
  depth: number;
  width: number;
  params?: number;
  /** The mean training error over the last steps (`window`), and its 95 % interval over those batches. */
  finalTrainError: number;
  interval: [number, number];
  window: number;
  steps?: LoggedStep[];
  epochs: LoggedEpoch[];
  /** A shipped trained model (inference ONNX, path under assets/), when there is one. */
  model?: string;
}

/** The stable JSON of `skipscope race --json` and the recorded runs (schema "skipscope.race/1", docs/cli.md). */
export interface RaceJson {
  schema: 'skipscope.race/1';
  complete: boolean;
  race: string;
  preset: string | null;
  data: { title: string; used: number; test?: { title: string; count: number } };
  settings: Record<string, unknown> & { epochs: number; batch: number; lr: number; seed: number };
  /** Steps per epoch. */
  stepsPerEpoch: number;
  runtime: string;
  provider: string;
  engine: string;
  wallMs: number;
  nets: LoggedNet[];
}

/** A run log ready to draw: its label and every network's curves. */
export interface RunLog {
  label: string;
  stepsPerEpoch: number;
  nets: LoggedNet[];
}

/** Statistics of the last `window` steps' batch errors: the mean and a 95 % interval of it (normal, ±1.96 s/√k). */
export function finalError(
  errors: readonly number[],
  window = Math.max(5, Math.round(errors.length / 10)),
): {
  mean: number;
  interval: [number, number];
  window: number;
} {
  const last = errors.slice(-window).filter(Number.isFinite);
  const k = last.length;
  if (k === 0) return { mean: Number.NaN, interval: [Number.NaN, Number.NaN], window: 0 };
  const mean = last.reduce((s, e) => s + e, 0) / k;
  const sd = k > 1 ? Math.sqrt(last.reduce((s, e) => s + (e - mean) ** 2, 0) / (k - 1)) : 0;
  const half = (1.96 * sd) / Math.sqrt(k);
  return { mean, interval: [Math.max(0, mean - half), Math.min(1, mean + half)], window: k };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isFraction = (v: unknown): v is number => isNumber(v) && v >= 0 && v <= 1;

class LogError extends Error {}

function epochsOf(raw: unknown, where: string): LoggedEpoch[] {
  if (!Array.isArray(raw)) throw new LogError(`${where}: "epochs" is not a list`);
  return raw.map((e, i) => {
    if (!e || typeof e !== 'object') throw new LogError(`${where}: epoch ${i + 1} is not an object`);
    const o = e as Record<string, unknown>;
    if (!isNumber(o.epoch) || !isFraction(o.trainError) || typeof o.loss !== 'number')
      throw new LogError(`${where}: epoch ${i + 1} needs "epoch", "loss" and "trainError" (a fraction)`);
    return {
      epoch: o.epoch,
      loss: o.loss,
      trainError: o.trainError,
      ...(isFraction(o.testError) ? { testError: o.testError } : {}),
      ...(isNumber(o.testLoss) ? { testLoss: o.testLoss } : {}),
      ...(isNumber(o.ms) ? { ms: o.ms } : {}),
    };
  });
}

function stepsOf(raw: unknown, where: string): LoggedStep[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new LogError(`${where}: "steps" is not a list`);
  return raw.map((s, i) => {
    const o = (s ?? {}) as Record<string, unknown>;
    if (!isNumber(o.step) || !isNumber(o.epoch) || typeof o.loss !== 'number' || typeof o.trainError !== 'number')
      throw new LogError(`${where}: step ${i + 1} needs "step", "epoch", "loss" and "trainError"`);
    return { step: o.step, epoch: o.epoch, loss: o.loss, trainError: o.trainError };
  });
}

function variantOf(v: unknown, where: string): Variant {
  if (v === 'plain' || v === 'resnet' || v === 'preact') return v;
  throw new LogError(`${where}: "variant" must be plain, resnet or preact`);
}

/**
 * Reads a skipscope.race/1 or skipscope.train/1 log (the text of the file); throws one line saying what is wrong.
 * `name` (the file name) prefixes the message and labels the curves.
 */
export function parseRunLog(text: string, name: string): RunLog {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${name} is not JSON (open a skipscope.race/1 or skipscope.train/1 log)`);
  }
  try {
    if (!raw || typeof raw !== 'object') throw new LogError(`${name} is not a Skipscope log`);
    const o = raw as Record<string, unknown>;
    if (o.schema === 'skipscope.race/1') {
      if (!Array.isArray(o.nets) || o.nets.length === 0) throw new LogError(`${name}: "nets" is empty or missing`);
      const nets = o.nets.map((n, i): LoggedNet => {
        const where = `${name}: net ${i + 1}`;
        const x = (n ?? {}) as Record<string, unknown>;
        const variant = variantOf(x.variant, where);
        if (!isNumber(x.depth)) throw new LogError(`${where}: "depth" is not a number`);
        if (!isFraction(x.finalTrainError)) throw new LogError(`${where}: "finalTrainError" is not a fraction`);
        const interval = Array.isArray(x.interval) && x.interval.length === 2 && x.interval.every(isFraction);
        if (!interval) throw new LogError(`${where}: "interval" must be two fractions`);
        const steps = stepsOf(x.steps, where);
        return {
          id: typeof x.id === 'string' ? x.id : `net${i + 1}`,
          title: typeof x.title === 'string' ? x.title : `${VARIANT_SHORT[variant]}-${x.depth}`,
          variant,
          depth: x.depth,
          width: isNumber(x.width) ? x.width : 16,
          ...(isNumber(x.params) ? { params: x.params } : {}),
          finalTrainError: x.finalTrainError,
          interval: x.interval as [number, number],
          window: isNumber(x.window) ? x.window : 0,
          ...(steps ? { steps } : {}),
          epochs: epochsOf(x.epochs ?? [], where),
          ...(typeof x.model === 'string' ? { model: x.model } : {}),
        };
      });
      return { label: name, stepsPerEpoch: isNumber(o.stepsPerEpoch) ? o.stepsPerEpoch : 0, nets };
    }
    if (o.schema === 'skipscope.train/1') {
      const m = (o.model ?? {}) as Record<string, unknown>;
      const variant = variantOf(m.variant, name);
      if (!isNumber(m.depth)) throw new LogError(`${name}: "model.depth" is not a number`);
      const steps = stepsOf(o.steps ?? [], name) ?? [];
      const epochs = epochsOf(o.epochs ?? [], name);
      const final = finalError(steps.map((s) => s.trainError));
      const perEpoch = steps.length && epochs.length ? steps.filter((s) => s.epoch === 1).length : 0;
      return {
        label: name,
        stepsPerEpoch: perEpoch,
        nets: [
          {
            id: 'model',
            title: `${VARIANT_SHORT[variant]}-${m.depth}`,
            variant,
            depth: m.depth,
            width: isNumber(m.width) ? m.width : 16,
            finalTrainError: Number.isFinite(final.mean) ? final.mean : (epochs.at(-1)?.trainError ?? 0),
            interval: Number.isFinite(final.mean) ? final.interval : [0, 1],
            window: final.window,
            steps,
            epochs,
          },
        ],
      };
    }
    throw new LogError(`${name} is not a skipscope.race/1 or skipscope.train/1 log`);
  } catch (error) {
    if (error instanceof LogError) throw new Error(error.message);
    throw error;
  }
}

/** The recorded runs shipped in assets/runs (index.json lists them). */
export interface RecordedRuns {
  runs: { file: string; log: RunLog; json: RaceJson }[];
}

/**
 * Loads the shipped recorded full-length runs: `read(path)` fetches a file under assets/ as text (the app's
 * asset URL, or the file system in Node). The tour and the race workspace draw them as reference curves.
 */
export async function loadRecordedRuns(read: (path: string) => Promise<string>): Promise<RecordedRuns> {
  const index = JSON.parse(await read('runs/index.json')) as { runs: string[] };
  const runs: RecordedRuns['runs'] = [];
  for (const file of index.runs) {
    const text = await read(`runs/${file}`);
    runs.push({ file, log: parseRunLog(text, file), json: JSON.parse(text) as RaceJson });
  }
  return { runs };
}

/** A finished (or stopped) race as its skipscope.race/1 JSON. */
export function raceToJson(
  result: RaceResult,
  meta: { preset: string | null; runtime: string; engine: string; complete: boolean; stepsPerEpoch: number },
): RaceJson {
  const { preprocessing: _, ...settings } = result.settings;
  return {
    schema: 'skipscope.race/1',
    complete: meta.complete,
    race: result.race,
    preset: meta.preset,
    data: { title: result.data, used: result.images },
    settings: { ...settings, limit: settings.limit ?? null },
    stepsPerEpoch: meta.stepsPerEpoch,
    runtime: meta.runtime,
    provider: result.nets[0]?.timing.provider ?? '',
    engine: meta.engine,
    wallMs: result.ms,
    nets: result.nets.map((n) => {
      const f = finalError(n.steps.map((s) => s.trainError));
      return {
        id: n.id,
        title: n.title,
        variant: n.variant,
        depth: n.depth,
        width: n.width,
        params: n.params,
        finalTrainError: f.mean,
        interval: f.interval,
        window: f.window,
        steps: n.steps.map((s) => ({ step: s.step, epoch: s.epoch, loss: s.loss, trainError: s.trainError })),
        epochs: n.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, trainError: e.trainError, ms: e.ms })),
      };
    }),
  };
}
