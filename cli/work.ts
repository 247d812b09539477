import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Preprocessing, parseManifestModels } from '../renderer/src/core/catalog';
import { sha256Hex } from '../renderer/src/core/hash';
import { type Analysis, analyzeModel } from '../renderer/src/core/summary';
import { guessLabelSet, type LabelSet } from '../renderer/src/data/labels';
import { presetFor } from '../renderer/src/data/preprocess';
import { describeInput, type ModelInput } from '../renderer/src/lab/inputs';
import { type JobContext, trackProgress } from '../renderer/src/lab/job';
import type { Runtime } from '../renderer/src/lab/runtime';
import { assetsDir, loadLabelSet } from './assets';
import { readModelFile } from './files';
import { cifarBinSet, type DiskSet, folderSet, singleImageSet } from './imageSets';
import { createNodeRuntime, type NodeProvider } from './ortNode';
import { stderrProgress } from './progress';

/** Bad input from the user (exit code 2 with this one line). */
export class InputError extends Error {}

export interface WorkOptions {
  model: string;
  data?: string;
  cifarBin?: string[];
  image?: string;
  batch?: number;
  provider?: NodeProvider;
}

/** A model and the images to run it on, opened the same way for every command. */
export interface Work {
  file: string;
  bytes: Uint8Array;
  sha256: string;
  analysis: Analysis;
  input: ModelInput;
  labels: LabelSet | null;
  source: DiskSet;
  preprocessing: Preprocessing;
  runtime: Runtime;
  /** The fields every JSON report starts with. */
  header: {
    model: { file: string; sha256: string };
    data: { kind: DiskSet['kind']; title: string; id: string; count: number; labelSet: string | null };
    preprocessing: Preprocessing;
  };
}

export async function openWork(options: WorkOptions, command: string): Promise<Work> {
  const { bytes, resolveExternal } = readModelFile(options.model);
  const file = basename(options.model);
  const analysis = analyzeModel(bytes, file, resolveExternal);
  const input = describeInput(analysis.model, analysis.topology);
  const labelSetName = guessLabelSet(input.classes);
  const labels = labelSetName ? loadLabelSet(labelSetName) : null;
  const source = openData(options, labels, command);
  const sha256 = await sha256Hex(bytes);
  const preprocessing = shippedPreprocessing(sha256) ?? presetFor(input.side);
  const runtime = createNodeRuntime({
    provider: options.provider ?? 'cpu',
    ...(options.batch ? { batchSize: options.batch } : {}),
  });
  const { set } = source;
  return {
    file,
    bytes,
    sha256,
    analysis,
    input,
    labels,
    source,
    preprocessing,
    runtime,
    header: {
      model: { file, sha256 },
      data: { kind: source.kind, title: set.title, id: set.id, count: set.count, labelSet: set.labelSet },
      preprocessing,
    },
  };
}

/** The preprocessing models/manifest.json ships for a bundled model (matched by content), or null. */
function shippedPreprocessing(sha256: string): Preprocessing | null {
  const path = join(dirname(assetsDir()), 'models', 'manifest.json');
  if (!existsSync(path)) return null;
  const { models } = parseManifestModels(JSON.parse(readFileSync(path, 'utf8')));
  return models.find((m) => m.entry.sha256 === sha256)?.entry.preprocessing ?? null;
}

function openData(options: WorkOptions, labels: LabelSet | null, command: string): DiskSet {
  const given = [options.data, options.cifarBin?.length ? 'x' : undefined, options.image].filter(Boolean).length;
  if (given !== 1) throw new InputError(`${command} needs exactly one of --data DIR, --cifar-bin FILE or --image FILE`);
  const check = (path: string, folder: boolean) => {
    if (!existsSync(path)) throw new InputError(`${basename(path)}: no such ${folder ? 'folder' : 'file'}`);
    if (statSync(path).isDirectory() !== folder)
      throw new InputError(`${basename(path)} is ${folder ? 'a file, not a folder' : 'a folder, not a file'}`);
  };
  try {
    if (options.data) {
      check(options.data, true);
      return folderSet(options.data, labels);
    }
    if (options.image) {
      check(options.image, false);
      return singleImageSet(options.image);
    }
    for (const p of options.cifarBin!) check(p, false);
    return cifarBinSet(options.cifarBin!);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError((error as Error).message);
  }
}

/** Runs long work with a progress bar on stderr; Ctrl+C cancels it between batches. */
export async function withProgress<T, P = never>(label: string, run: (job: JobContext<P>) => Promise<T>): Promise<T> {
  const bar = stderrProgress(label);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  try {
    return await run(trackProgress(controller.signal, (p) => bar.report(p)));
  } finally {
    process.off('SIGINT', stop);
    bar.finish();
  }
}
