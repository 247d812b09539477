import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Preprocessing } from '../renderer/src/core/catalog';
import { sha256Hex } from '../renderer/src/core/hash';
import { ModelError } from '../renderer/src/core/onnx/model';
import { analyzeModel } from '../renderer/src/core/summary';
import { errorLine } from '../renderer/src/core/text';
import { loadImage } from '../renderer/src/lab/inputs';
import {
  type InterpolationResult,
  interpolationCsv,
  interpolationStudy,
  type LandscapeResult,
  landscapeCsv,
  landscapeStudy,
} from '../renderer/src/lab/landscape';
import { readModelFile, writeFileAtomic } from './files';
import type { NodeProvider } from './ortNode';
import { InputError, openWork, type Work, type WorkOptions, withProgress } from './work';

export interface LandscapeCliOptions extends WorkOptions {
  grid: number;
  range: number;
  samples: number;
  seed: number;
  sampleSeed: number;
  csv?: string;
  /** The 1-D interpolation towards this model instead of the plane. */
  interpolate?: string;
  points: number;
  from: number;
  to: number;
  json: boolean;
}

/**
 * `skipscope landscape MODEL (--data DIR | --cifar-bin FILE…) [--grid N] [--range R] [--samples M] [--seed S]
 * [--sample-seed S] [--batch N] [--provider P] [--csv FILE] [--json]`, or with `--interpolate OTHER.onnx
 * [--points K] [--from T0] [--to T1]` the line between two models: parses the arguments (bad ones: InputError,
 * exit 2) and runs it.
 */
export async function landscapeCommand(args: string[], out: (s: string) => void): Promise<number> {
  let parsed: LandscapeCliOptions;
  try {
    parsed = parseLandscapeArgs(args);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `${(error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, '')} (see skipscope --help)`,
    );
  }
  await landscape(parsed, out);
  return 0;
}

function parseLandscapeArgs(args: string[]): LandscapeCliOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      data: { type: 'string' },
      'cifar-bin': { type: 'string', multiple: true },
      grid: { type: 'string' },
      range: { type: 'string' },
      samples: { type: 'string' },
      seed: { type: 'string' },
      'sample-seed': { type: 'string' },
      batch: { type: 'string' },
      provider: { type: 'string' },
      csv: { type: 'string' },
      interpolate: { type: 'string' },
      points: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new InputError('landscape takes exactly one model file (see skipscope --help)');
  const whole = (flag: string, v: string | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InputError(`${flag} takes a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
  const real = (flag: string, v: string | undefined, fallback: number, positive: boolean) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (positive && !(n > 0)))
      throw new InputError(`${flag} takes ${positive ? 'a number > 0' : 'a number'}, got "${v}"`);
    return n;
  };
  const line = values.interpolate !== undefined;
  const planeOnly = ['grid', 'range', 'seed'].filter((k) => values[k as keyof typeof values] !== undefined);
  const lineOnly = ['points', 'from', 'to'].filter((k) => values[k as keyof typeof values] !== undefined);
  if (line && planeOnly.length) throw new InputError(`--${planeOnly[0]} goes with the plane, not with --interpolate`);
  if (!line && lineOnly.length) throw new InputError(`--${lineOnly[0]} goes with --interpolate`);
  const provider = values.provider;
  if (provider !== undefined && !['cpu', 'cuda', 'tensorrt', 'webgpu'].includes(provider))
    throw new InputError(`unknown provider "${provider}" (cpu, cuda, tensorrt or webgpu)`);
  if (values.data === undefined && !values['cifar-bin'])
    throw new InputError('landscape needs a labelled set: --data DIR or --cifar-bin FILE');
  const from = real('--from', values.from, -0.5, false);
  const to = real('--to', values.to, 1.5, false);
  if (line && !(to > from)) throw new InputError('--to must be greater than --from');
  return {
    model: positionals[0]!,
    ...(values.data !== undefined ? { data: values.data } : {}),
    ...(values['cifar-bin'] ? { cifarBin: values['cifar-bin'] } : {}),
    ...(values.batch !== undefined ? { batch: whole('--batch', values.batch, 0, 1, 4096) } : {}),
    ...(provider ? { provider: provider as NodeProvider } : {}),
    ...(values.csv !== undefined ? { csv: checkTarget(values.csv, '--csv') } : {}),
    ...(line ? { interpolate: values.interpolate! } : {}),
    grid: whole('--grid', values.grid, 21, 1, 401),
    range: real('--range', values.range, 1, true),
    samples: whole('--samples', values.samples, 256, 1, 1_000_000),
    seed: whole('--seed', values.seed, 1, 0, 2 ** 32 - 1),
    sampleSeed: whole('--sample-seed', values['sample-seed'], 1, 0, 2 ** 32 - 1),
    points: whole('--points', values.points, 21, 1, 10_001),
    from,
    to,
    json: !!values.json,
  };
}

function checkTarget(path: string, flag: string): string {
  const target = resolve(path);
  if (!existsSync(dirname(target))) throw new InputError(`${flag} ${path}: folder ${dirname(target)} does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new InputError(`${flag} ${path} is a folder`);
  return target;
}

/** An image's reason for being passed over. */
interface SkippedJson {
  name: string;
  reason: string;
}

interface ImagesJson {
  count: number;
  sampleSeed: number;
  indices: number[];
  batch: number;
  runs: number;
  skipped: SkippedJson[];
}

/** The stable JSON of `skipscope landscape --json` (schema "skipscope.landscape/1", docs/cli.md). */
export type LandscapeJson = {
  schema: 'skipscope.landscape/1';
  model: { file: string; sha256: string };
  data: Work['header']['data'];
  preprocessing: Preprocessing;
  runtime: { name: string; provider: string };
  images: ImagesJson;
  timing: LandscapeResult['timing'];
  csv: string | null;
} & (
  | ({ kind: 'plane' } & Pick<
      LandscapeResult,
      'settings' | 'alphas' | 'betas' | 'loss' | 'accuracy' | 'centre' | 'min' | 'max' | 'directions'
    >)
  | ({ kind: 'line'; other: { file: string; sha256: string } } & Pick<
      InterpolationResult,
      'settings' | 'ts' | 'loss' | 'accuracy' | 'a' | 'b' | 'tensors'
    >)
);

/** `skipscope landscape`: the loss on a plane through the weights, or on the line between two models. */
export async function landscape(options: LandscapeCliOptions, out: (s: string) => void): Promise<void> {
  let work: Work;
  try {
    work = await openWork(options, 'landscape');
  } catch (error) {
    if (error instanceof InputError || error instanceof ModelError) throw error;
    throw new InputError(errorLine(error));
  }
  const { set } = work.source;
  const classes = work.input.classes;
  let labelled = false;
  for (let i = 0; i < set.count && !labelled; i++) {
    const label = set.label(i);
    labelled = label !== null && (classes === null || label < classes);
  }
  if (!labelled)
    throw new InputError(
      `${set.title} has no images labelled with the model's ${classes === null ? '' : `${classes} `}classes: a loss needs labels`,
    );
  // A fixed-size set (CIFAR binaries) of another size than the model takes: exit 2, one line.
  if (set.nativeSide !== null)
    await loadImage(set, 0, work.input, work.preprocessing).catch((error: unknown) => {
      throw new InputError(errorLine(error));
    });
  const sample = {
    samples: options.samples,
    sampleSeed: options.sampleSeed,
    preprocessing: work.preprocessing,
    ...(options.batch ? { batch: options.batch } : {}),
  };
  const meta = {
    ...work.header,
    runtime: { name: work.runtime.name },
  };
  const images = (r: LandscapeResult | InterpolationResult): ImagesJson => ({
    count: r.images.count,
    sampleSeed: r.images.sampleSeed,
    indices: r.images.indices,
    batch: r.images.batch,
    runs: r.images.runs,
    skipped: r.images.skipped.map((s) => ({ name: s.name, reason: s.reason })),
  });
  let report: LandscapeJson;
  if (options.interpolate) {
    const { bytes, resolveExternal } = readModelFile(options.interpolate);
    const other = analyzeModel(bytes, basename(options.interpolate), resolveExternal);
    const r = await withProgress('interpolation', (job) =>
      interpolationStudy(
        work.runtime,
        work.analysis,
        other,
        work.input,
        set,
        { ...sample, points: options.points, from: options.from, to: options.to },
        job as never,
      ),
    );
    if (options.csv)
      writeCsv(options.csv, interpolationCsv(r, { ...meta, runtime: { ...meta.runtime, provider: r.provider } }));
    report = {
      schema: 'skipscope.landscape/1',
      ...work.header,
      runtime: { name: work.runtime.name, provider: r.provider },
      kind: 'line',
      other: { file: basename(options.interpolate), sha256: await sha256Hex(bytes) },
      settings: r.settings,
      ts: r.ts,
      loss: r.loss,
      accuracy: r.accuracy,
      a: r.a,
      b: r.b,
      tensors: r.tensors,
      images: images(r),
      timing: r.timing,
      csv: options.csv ?? null,
    };
  } else {
    const r = await withProgress('loss landscape', (job) =>
      landscapeStudy(
        work.runtime,
        work.analysis,
        work.input,
        set,
        { ...sample, grid: options.grid, range: options.range, seed: options.seed },
        job as never,
      ),
    );
    if (options.csv)
      writeCsv(options.csv, landscapeCsv(r, { ...meta, runtime: { ...meta.runtime, provider: r.provider } }));
    report = {
      schema: 'skipscope.landscape/1',
      ...work.header,
      runtime: { name: work.runtime.name, provider: r.provider },
      kind: 'plane',
      settings: r.settings,
      alphas: r.alphas,
      betas: r.betas,
      loss: r.loss,
      accuracy: r.accuracy,
      centre: r.centre,
      min: r.min,
      max: r.max,
      directions: r.directions,
      images: images(r),
      timing: r.timing,
      csv: options.csv ?? null,
    };
  }
  // JSON has no NaN or Infinity: a diverged point's loss is written as null.
  out(options.json ? JSON.stringify(report, null, 2) : formatLandscape(report));
}

function writeCsv(path: string, text: string): void {
  try {
    writeFileAtomic(path, new TextEncoder().encode(text));
  } catch (error) {
    throw new InputError(`--csv ${path}: ${errorLine(error)}`);
  }
}

const f = (x: number | null, digits = 4) => (x === null || !Number.isFinite(x) ? String(x) : x.toFixed(digits));
/** At most 7 characters: 3 decimals below 10, fewer above, exponent from 1000. */
const short = (x: number | null) =>
  x === null || !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) < 10
      ? x.toFixed(3)
      : Math.abs(x) < 100
        ? x.toFixed(2)
        : Math.abs(x) < 1000
          ? x.toFixed(1)
          : x.toExponential(1);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

function formatLandscape(r: LandscapeJson): string {
  const t = r.timing;
  const lines = [
    `${r.model.file}: ${r.kind === 'plane' ? 'loss landscape' : 'interpolation'} on ${r.images.count} images of ${r.data.title} (sample seed ${r.images.sampleSeed}, batches of ${r.images.batch}), ${r.runtime.provider}`,
  ];
  const speed = `${t.points} points × ${r.images.count} images in ${(t.ms / 1000).toFixed(1)} s (${Math.round(t.evaluationsPerSecond)} evaluations/s; set-up ${(t.setupMs / 1000).toFixed(1)} s)`;
  if (r.kind === 'plane') {
    const d = r.directions;
    lines.push(
      `  plane θ + α·d₁ + β·d₂, ${r.settings.grid}×${r.settings.grid} grid over [−${r.settings.range}, ${r.settings.range}]²; directions from seed ${d.seed}, filter-normalised`,
      `  moved: ${d.perturbedTensors} weight tensors (${d.perturbedParameters} of ${d.parameters} parameters); direction 0: ${d.zeroedTensors} biases and norm parameters (${d.zeroedParameters})`,
      `  centre (the model): loss ${f(r.centre.loss)}, top-1 ${pct(r.centre.accuracy)}`,
    );
    if (r.min && r.max)
      lines.push(
        `  lowest loss ${f(r.min.loss)} at α = ${f(r.min.alpha, 3)}, β = ${f(r.min.beta, 3)}; highest ${f(r.max.loss)} at α = ${f(r.max.alpha, 3)}, β = ${f(r.max.beta, 3)}`,
      );
    lines.push(`  ${speed}`);
    if (r.settings.grid <= 25) {
      const cell = (x: number | null) => ` ${short(x).padStart(7)}`;
      lines.push('  loss (rows α, columns β):', `  ${'α \\ β'.padStart(8)}${r.betas.map(cell).join('')}`);
      r.alphas.forEach((alpha, i) => {
        lines.push(`  ${cell(alpha)}${r.loss[i]!.map(cell).join('')}`);
      });
    } else lines.push('  the grid is written with --json or --csv FILE');
  } else {
    lines.push(
      `  θ(t) = (1 − t)·θA + t·θB, A = ${r.model.file}, B = ${r.other.file}: ${r.tensors.interpolated} tensors interpolated (${r.tensors.parameters} values, ‖θB − θA‖ = ${f(r.tensors.distance, 3)}), ${r.tensors.identical} equal`,
      `  A: loss ${f(r.a.loss)}, top-1 ${pct(r.a.accuracy)}; B: loss ${f(r.b.loss)}, top-1 ${pct(r.b.accuracy)}`,
      `  ${speed}`,
      '        t      loss     top-1',
    );
    r.ts.forEach((t, k) => {
      lines.push(`  ${f(t, 3).padStart(7)}  ${f(r.loss[k]!).padStart(8)}  ${pct(r.accuracy[k]!).padStart(8)}`);
    });
  }
  if (r.csv) lines.push(`  CSV: ${r.csv}`);
  return lines.join('\n');
}
