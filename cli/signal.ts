import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Preprocessing } from '../renderer/src/core/catalog';
import { errorLine } from '../renderer/src/core/text';
import { SHORTCUT_NAMES } from '../renderer/src/core/topology/types';
import { loadImage } from '../renderer/src/lab/inputs';
import { type SignalResult, type Spread, signalStudy } from '../renderer/src/lab/signal';
import {
  type Args,
  batch,
  dataOptions,
  defineCommand,
  imageOption,
  int,
  json,
  preprocessingOptions,
  provider,
  side,
  text,
  UsageError,
  workOptions,
} from './args';
import { InputError, openWork, type Work, type WorkOptions, withProgress } from './work';

export const SIGNAL = defineCommand({
  name: 'signal',
  usage:
    'signal MODEL (--images FILE|DIR | --cifar-bin FILE… | --data DIR | --image FILE) [--count N] [--batch N] [--json]',
  about: `the forward signal on the first N images (default 64): ||F(x)||/||x|| per residual block, activation norms
by depth, cosines between early and late features and between different images (plain nets: per layer)`,
  positional: { noun: 'model file' },
  options: {
    images: text({ value: 'FILE|DIR', help: 'a folder of images (class subfolders or not) or one image file' }),
    ...dataOptions(),
    ...imageOption(),
    count: int({ min: 1, default: 64, help: 'the first N images of the set' }),
    batch: batch(),
    provider: provider(),
    side: side(),
    ...preprocessingOptions(),
    json: json(),
  },
});

/** `skipscope signal`: runs it on the parsed arguments. */
export async function signalCommand({ positional, values: v }: Args<typeof SIGNAL.options>, out: (s: string) => void) {
  // --images takes a folder (one subfolder per class, or any images) or one image file.
  let { data, image } = v;
  if (v.images !== undefined) {
    if (data !== undefined || image !== undefined || v['cifar-bin'])
      throw new UsageError('signal takes one of --images, --data, --image or --cifar-bin');
    if (!existsSync(v.images)) throw new InputError(`${basename(v.images)}: no such file or folder`);
    if (statSync(v.images).isDirectory()) data = v.images;
    else image = v.images;
  }
  await signal({ ...workOptions(positional, { ...v, data, image }), count: v.count, json: v.json }, out);
}

export interface SignalOptions extends WorkOptions {
  /** The first `count` images of the set. */
  count: number;
  json: boolean;
}

/** The stable JSON of `skipscope signal --json` (schema "skipscope.signal/1", docs/cli.md). */
export interface SignalJson {
  schema: 'skipscope.signal/1';
  model: { file: string; sha256: string };
  data: Work['header']['data'];
  preprocessing: Preprocessing;
  runtime: { name: string; provider: string };
  kind: SignalResult['kind'];
  pointsAt: SignalResult['pointsAt'];
  setting: SignalResult['setting'];
  images: { count: number; skipped: number; batch: number; pairs: number; names: string[] };
  /** 1-based `block` and `stage`; `reference` and `previous` are indices into `points`. */
  points: (Omit<SignalResult['points'][number], 'block' | 'stage'> & { block: number | null; stage: number | null })[];
  blocks: (Omit<SignalResult['blocks'][number], 'block' | 'stage'> & { block: number; stage: number })[];
  ms: number;
}

/** `skipscope signal`: ‖F(x)‖/‖x‖ per block, activation norms and cosines by depth, on the first N images of a set. */
export async function signal(options: SignalOptions, out: (s: string) => void): Promise<void> {
  const work = await openWork(options, 'signal');
  // A fixed-size set (CIFAR binaries) of another size than the model takes is the user's to fix: exit 2, one line.
  // (Files are resized, and an unreadable one is skipped by the study.)
  if (work.source.set.nativeSide !== null)
    await loadImage(work.source.set, 0, work.input, work.preprocessing).catch((error: unknown) => {
      throw new InputError(errorLine(error));
    });
  const r = await withProgress('forward signal', (job) =>
    signalStudy(
      work.runtime,
      work.analysis,
      work.input,
      work.source.set,
      { count: options.count, preprocessing: work.preprocessing },
      job,
    ),
  );
  const plusOne = (x: number | null) => (x === null ? null : x + 1);
  const report: SignalJson = {
    schema: 'skipscope.signal/1',
    ...work.header,
    runtime: { name: work.runtime.name, provider: r.provider },
    kind: r.kind,
    pointsAt: r.pointsAt,
    setting: r.setting,
    images: { count: r.images.count, skipped: r.images.skipped, batch: r.batch, pairs: r.pairs, names: r.images.names },
    points: r.points.map((p) => ({ ...p, block: plusOne(p.block), stage: plusOne(p.stage) })),
    blocks: r.blocks.map((b) => ({ ...b, block: b.block + 1, stage: b.stage + 1 })),
    ms: r.ms,
  };
  out(options.json ? JSON.stringify(report, null, 2) : formatSignal(report));
}

const e3 = (s: Spread | null) => (s ? s.mean.toExponential(3) : '—');
const f3 = (s: Spread | null) => (s ? s.mean.toFixed(3) : '—');
const range = (s: Spread | null, digits = 3) =>
  s ? `${s.mean.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : '—';

function formatSignal(r: SignalJson): string {
  const lines = [
    `${r.model.file}: ${r.kind}, ${r.images.count} images of ${r.data.title}${r.images.skipped ? `, ${r.images.skipped} unreadable skipped` : ''} (batches of ${r.images.batch}, ${r.images.pairs} image pairs), ${r.runtime.provider}`,
    `  setting: ${r.setting.text}`,
    '  means over images; cos vs earliest: the earliest point of the same shape; between images: different images of a batch',
    '  point                 depth  shape         ‖h‖        rms        cos vs earliest  cos vs previous  cos between images',
  ];
  for (const p of r.points)
    lines.push(
      `  ${p.label.padEnd(20)}  ${String(p.depth).padStart(5)}  ${(p.shape?.join('×') ?? '?').padEnd(12)}  ${e3(p.norm).padStart(9)}  ${e3(p.rms).padStart(9)}  ${f3(p.cosReference).padStart(15)}  ${f3(p.cosPrevious).padStart(15)}  ${range(p.cosInputs)}`,
    );
  // Cosines between images are taken within a batch: a file fixed at batch 1 gives none (its "—" said nothing).
  if (r.images.pairs === 0 && r.images.count > 1 && r.images.batch === 1)
    lines.push(
      "  note: no cos between images: they are compared within a batch, and this model's file fixes its batch at 1 (export it with a dynamic batch axis to compare them)",
    );
  if (r.blocks.length) {
    lines.push('  block  stage  shortcut     ‖F(x)‖/‖shortcut(x)‖ mean (min–max)   cos(F(x), shortcut(x))');
    for (const b of r.blocks)
      lines.push(
        `  ${String(b.block).padStart(5)}  ${String(b.stage).padStart(5)}  ${SHORTCUT_NAMES[b.shortcut].padEnd(11)}  ${range(b.ratio).padEnd(35)}  ${f3(b.cosBranchShortcut)}`,
      );
  } else
    lines.push(
      '  no residual blocks: ‖F(x)‖/‖x‖ needs residual joins; the points above are the inputs of the weighted layers',
    );
  return lines.join('\n');
}
