/**
 * The training race as the app and `skipscope` run it: networks from the variants builder (CIFAR recipe) trained
 * side by side on the same batches of a CIFAR-10-labelled set, and the trained networks kept for export.
 */
import { architecture, type BuildOptions, buildResNet, netName } from '../../core/build/resnet';
import { encodeModel } from '../../core/onnx/encode';
import type { Model } from '../../core/onnx/model';
import type { ImageSet } from '../../data/imageSets';
import type { JobContext } from '../job';
import type { Runtime } from '../runtime';
import { type RaceHooks, type RaceStep, trainRace } from './loop';
import type { TrainSettings } from './schedule';
import type { EpochMetrics, StepMetrics, TrainTiming } from './trainer';

/** How many networks a race takes: the form, the store, the lab and the CLI all read this. */
export const RACE_NETS = { min: 2, max: 4 } as const;

/** One network of a training race: built by the variants builder (CIFAR recipe) from these options. */
export interface RaceNet {
  id: string;
  build: Omit<BuildOptions, 'dataset' | 'classes' | 'inputSize'>;
}

/** One network's run in a finished (or stopped) race. */
export interface RaceRunResult {
  id: string;
  /** The builder's name, e.g. "resnet56-cifar-w16-s0". */
  name: string;
  /** As charts and tables name it, e.g. "ResNet-56". */
  title: string;
  variant: BuildOptions['variant'];
  depth: number;
  width: number;
  params: number;
  /** Every step's metrics, in order. */
  steps: StepMetrics[];
  epochs: EpochMetrics[];
  timing: TrainTiming;
}

/** One network's entry in a race result: the builder's names and sizes for it, with its curves and timing. */
export function raceRunResult(
  net: RaceNet,
  curves: { steps: StepMetrics[]; epochs: EpochMetrics[]; timing: TrainTiming },
): RaceRunResult {
  const a = architecture({ ...net.build, dataset: 'cifar' });
  return {
    id: net.id,
    name: a.name,
    title: netName(net.build),
    variant: a.variant,
    depth: a.depth,
    width: a.width,
    params: a.params,
    ...curves,
  };
}

export interface RaceResult {
  race: string;
  nets: RaceRunResult[];
  settings: TrainSettings;
  /** Images trained on, and the set's title. */
  images: number;
  data: string;
  /** True when the user stopped the race before its last step (what was trained is kept). */
  stopped: boolean;
  /** Wall time of the race, ms (pauses included). */
  ms: number;
}

/** Ready-made races: the degradation experiment at lecture scale, and a one-minute demonstration. */
/** A ready-made race: its networks and the settings it changes from RACE_BASE. */
export interface RacePreset {
  /** What `skipscope race --preset` calls it. */
  id: string;
  name: string;
  nets: RaceNet['build'][];
  settings: Partial<Omit<TrainSettings, 'preprocessing'>>;
}

export const RACE_PRESETS: RacePreset[] = [
  {
    id: 'lecture',
    name: 'Lecture: plain-20, plain-56, pre-activation ResNet-20 and -56 at width 4, 1000 images, 256 steps',
    nets: [
      { variant: 'plain', depth: 20, width: 4, seed: 0 },
      { variant: 'plain', depth: 56, width: 4, seed: 0 },
      { variant: 'preact', depth: 20, width: 4, seed: 0 },
      { variant: 'preact', depth: 56, width: 4, seed: 0 },
    ],
    // Found by scripts/sweep-degradation.ts (docs/degradation.md): narrow nets on a subset the deep plain net cannot
    // fit in 256 steps, no augmentation (training error is about fitting), the first 10 % of steps at lr/10. On five
    // seeds plain-56 ends above plain-20 beyond the noise every time, and the pre-activation ResNet-56 level with or
    // below its 20-layer sibling every time; with the original (post-activation) ResNets only on seed 0.
    settings: {
      epochs: 8,
      batch: 32,
      limit: 1000,
      lr: 0.05,
      warmup: 0.1,
      augment: false,
      schedule: { kind: 'cosine' },
    },
  },
  {
    id: 'degradation',
    name: 'Degradation: plain-20, plain-56, ResNet-20, ResNet-56',
    nets: [
      { variant: 'plain', depth: 20, width: 16, seed: 0 },
      { variant: 'plain', depth: 56, width: 16, seed: 0 },
      { variant: 'resnet', depth: 20, width: 16, seed: 0 },
      { variant: 'resnet', depth: 56, width: 16, seed: 0 },
    ],
    // Measured on onnxruntime-node (README): plain-56 ends at 88.5 % training error against plain-20's 70.7 %;
    // ResNet-56 at 76.2 % (ResNet-20 63.7 %), 189 steps.
    settings: { epochs: 3, batch: 32, limit: 2000, lr: 0.05 },
  },
  {
    id: 'quick',
    name: 'Quick look: plain-8 vs plain-32 vs ResNet-32, width 8',
    nets: [
      { variant: 'plain', depth: 8, width: 8, seed: 0 },
      { variant: 'plain', depth: 32, width: 8, seed: 0 },
      { variant: 'resnet', depth: 32, width: 8, seed: 0 },
    ],
    settings: { epochs: 2, batch: 32, limit: 640, lr: 0.05 },
  },
];

/** The race settings every preset starts from. */
export const RACE_BASE: Omit<TrainSettings, 'preprocessing'> = {
  epochs: 3,
  batch: 32,
  lr: 0.05,
  schedule: { kind: 'cosine' },
  seed: 0,
  augment: true,
  momentum: 0.9,
  weightDecay: 5e-4,
  normMomentum: 0.1,
  limit: 2000,
};

/** A preset by its id (`skipscope race --preset`). */
export function racePreset(id: string): RacePreset | undefined {
  return RACE_PRESETS.find((p) => p.id === id);
}

/** Checks a race's networks: their count (RACE_NETS) and distinct ids; one line when they do not fit. */
export function checkRaceNets(nets: readonly RaceNet[]): void {
  if (nets.length < RACE_NETS.min || nets.length > RACE_NETS.max)
    throw new Error(`a race takes ${RACE_NETS.min} to ${RACE_NETS.max} networks, got ${nets.length}`);
  if (new Set(nets.map((n) => n.id)).size !== nets.length) throw new Error('the networks of a race need distinct ids');
}

/** The trained networks of a race, in inference form, for export. */
export interface TrainedNets {
  race: string;
  nets: Map<string, { model: Model; name: string; steps: number }>;
}

/**
 * Runs a race: builds each network, trains them on the same batches (pause and stop through the job's control),
 * and returns the result with the trained networks.
 */
export async function runRace(
  runtime: Runtime,
  request: { race: string; nets: readonly RaceNet[]; settings: TrainSettings },
  images: ImageSet,
  job: JobContext<RaceStep>,
  hooks: RaceHooks = {},
): Promise<{ result: RaceResult; trained: TrainedNets }> {
  checkRaceNets(request.nets);
  if (images.labelSet !== 'cifar10')
    throw new Error(
      `${images.title}: the race trains CIFAR-10 networks, so it needs images labelled with CIFAR-10 classes`,
    );
  const built = request.nets.map((n) => buildResNet({ ...n.build, dataset: 'cifar' }));
  const started = performance.now();
  const results = await trainRace(
    runtime,
    request.nets.map((n, k) => ({ id: n.id, model: built[k]!.model })),
    images,
    request.settings,
    job,
    hooks,
  );
  const first = results.get(request.nets[0]!.id)!;
  const result: RaceResult = {
    race: request.race,
    nets: request.nets.map((n) => {
      const r = results.get(n.id)!;
      return raceRunResult(n, { steps: r.steps, epochs: r.epochs, timing: r.timing });
    }),
    settings: first.settings,
    images: first.images,
    data: images.title,
    stopped: first.stopped,
    ms: performance.now() - started,
  };
  const trained: TrainedNets = {
    race: request.race,
    nets: new Map(
      request.nets.map((n, k) => {
        const r = results.get(n.id)!;
        return [n.id, { model: r.model, name: built[k]!.architecture.name, steps: r.steps.length }];
      }),
    ),
  };
  return { result, trained };
}

/** A trained network as an inference-form ONNX file and its file name. */
export function trainedFile(trained: TrainedNets | undefined, net: string): { bytes: Uint8Array; name: string } {
  const found = trained?.nets.get(net);
  if (!found) throw new Error('that network is not in a finished race (train it again)');
  return { bytes: encodeModel(found.model), name: `${found.name}-trained-${found.steps}steps.onnx` };
}
