import { basename } from 'node:path';
import type { Preprocessing } from '../renderer/src/core/catalog';
import { sha256Hex } from '../renderer/src/core/hash';
import { ModelError } from '../renderer/src/core/onnx/model';
import { analyzeModel } from '../renderer/src/core/summary';
import { errorLine, formatBytes } from '../renderer/src/core/text';
import { loadImage } from '../renderer/src/lab/inputs';
import { interpolationCsv, landscapeCsv } from '../renderer/src/lab/landscape/csv';
import { type InterpolationResult, interpolationStudy } from '../renderer/src/lab/landscape/line';
import { type LandscapeResult, landscapeStudy } from '../renderer/src/lab/landscape/plane';
import {
  type Args,
  batch,
  dataOptions,
  defineCommand,
  float,
  int,
  json,
  onlyWith,
  preprocessingOptions,
  provider,
  side,
  text,
  UsageError,
  workOptions,
} from './args';
import { checkNotInput, checkOutputTarget, readModelFile, writeFileAtomicSync } from './files';
import { InputError, openWork, requireLabelled, type Work, type WorkOptions, withProgress } from './work';

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

export const LANDSCAPE = defineCommand({
  name: 'landscape',
  usage: `landscape MODEL (--data DIR | --cifar-bin FILE…) [--grid N] [--range R] [--samples M] [--seed S]
            [--sample-seed S] [--batch N] [--provider P] [--csv FILE] [--json]
landscape MODEL --interpolate OTHER.onnx (--data DIR | --cifar-bin FILE…) [--points K] [--from T0] [--to T1] …`,
  about: `the loss landscape (Li et al. 2018): mean cross-entropy and top-1 on M sampled images (default 256) over an
N×N grid (default 21) of θ + α·d₁ + β·d₂, α, β in [−R, R], d₁, d₂ random filter-normalised directions; with
--interpolate, the loss along θ(t) = (1 − t)·θA + t·θB between two models of one architecture`,
  positional: { noun: 'model file' },
  options: {
    ...dataOptions(),
    grid: int({ min: 1, max: 401, default: 21, help: 'grid points per axis' }),
    range: float({ above: 0, default: 1, value: 'R', help: 'α and β run over [−R, R]' }),
    samples: int({ min: 1, max: 1_000_000, default: 256, value: 'M', help: 'images in the sample' }),
    seed: int({ min: 0, max: 2 ** 32 - 1, default: 1, value: 'S', help: 'seed of the directions' }),
    'sample-seed': int({ min: 0, max: 2 ** 32 - 1, default: 1, value: 'S', help: 'seed of the sample' }),
    batch: batch(4096),
    provider: provider(),
    side: side(),
    ...preprocessingOptions(),
    csv: text({ value: 'FILE', help: 'also write the grid (or line) as CSV' }),
    interpolate: text({ value: 'OTHER.onnx', help: 'the line from MODEL to this model instead of the plane' }),
    points: int({ min: 1, max: 10_001, default: 21, value: 'K', help: 'with --interpolate: values of t' }),
    from: float({ default: -0.5, value: 'T0', help: 'with --interpolate: the first t' }),
    to: float({ default: 1.5, value: 'T1', help: 'with --interpolate: the last t' }),
    json: json(),
  },
});

/** `skipscope landscape`: the plane, or with `--interpolate` the line between two models, on the parsed arguments. */
export async function landscapeCommand(
  { positional, values: v, given }: Args<typeof LANDSCAPE.options>,
  out: (s: string) => void,
) {
  const line = v.interpolate !== undefined;
  const planeOnly = (['grid', 'range', 'seed'] as const).find((k) => given.has(k));
  if (line && planeOnly) throw new UsageError(`--${planeOnly} goes with the plane, not with --interpolate`);
  onlyWith(given, ['points', 'from', 'to'], line, '--interpolate');
  if (v.data === undefined && !v['cifar-bin'])
    throw new UsageError('landscape needs a labelled set: --data DIR or --cifar-bin FILE');
  if (line && !(v.to > v.from)) throw new UsageError('--to must be greater than --from');
  await landscape(
    {
      ...workOptions(positional, v),
      ...(v.csv !== undefined
        ? {
            csv: checkOutputTarget(v.csv, '--csv', [
              positional,
              ...(v.interpolate !== undefined ? [v.interpolate] : []),
              ...(v['cifar-bin'] ?? []),
              ...(v.data !== undefined ? [v.data] : []),
            ]),
          }
        : {}),
      ...(line ? { interpolate: v.interpolate } : {}),
      grid: v.grid,
      range: v.range,
      samples: v.samples,
      seed: v.seed,
      sampleSeed: v['sample-seed'],
      points: v.points,
      from: v.from,
      to: v.to,
      json: v.json,
    },
    out,
  );
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
  requireLabelled(work, 'a loss');
  // The model's external data files are known once it is decoded: the CSV may not replace them either.
  if (options.csv) checkNotInput(options.csv, `--csv ${options.csv}`, work.externalFiles);
  const { set } = work.source;
  // The sample is read and normalised once and kept: it must fit in memory (checked before any work).
  const side = work.input.side;
  const perImage = work.input.channels * side * side * 4;
  const sampleBytes = Math.min(options.samples, set.count) * perImage;
  if (sampleBytes > MAX_SAMPLE_BYTES)
    throw new InputError(
      `--samples ${options.samples} of ${side}×${side} images would hold ${formatBytes(sampleBytes)} of normalised images; at most ${Math.floor(MAX_SAMPLE_BYTES / perImage)} fit in ${formatBytes(MAX_SAMPLE_BYTES)}`,
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
    const { bytes, resolveExternal, externalFiles } = readModelFile(options.interpolate);
    // Read at the open model's side, where its file leaves the side open as the open model's does.
    const other = analyzeModel(
      bytes,
      basename(options.interpolate),
      resolveExternal,
      work.analysis.openSide?.side ?? null,
    );
    if (options.csv) checkNotInput(options.csv, `--csv ${options.csv}`, externalFiles);
    const r = await withProgress('interpolation', (job) =>
      interpolationStudy(
        work.runtime,
        work.analysis,
        other,
        work.input,
        set,
        { ...sample, points: options.points, from: options.from, to: options.to },
        job,
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
        job,
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

/** Most bytes the landscape's normalised sample may take. */
const MAX_SAMPLE_BYTES = 4 * 2 ** 30;

function writeCsv(path: string, text: string): void {
  try {
    writeFileAtomicSync(path, new TextEncoder().encode(text));
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
