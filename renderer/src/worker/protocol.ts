import type { ProviderPreference } from '../core/catalog';
import type { Lesion } from '../core/rewrite/gates';
import type { LabelSetName } from '../data/imageSets';
import type { Preprocessing } from '../data/preprocess';
import type { BenchmarkResult } from '../lab/benchmark';
import type { EvaluateOptions, EvaluatePartial, EvaluateResult } from '../lab/evaluate';
import type { GradientView } from '../lab/gradients';
import type { InitComparison, InitRequest } from '../lab/init';
import type { ModelInput } from '../lab/inputs';
import type { ControlAction, Progress } from '../lab/job';
import type { InterpolationOptions, InterpolationPartial, InterpolationResult } from '../lab/landscape/line';
import type { LandscapeOptions, LandscapePartial, LandscapeResult } from '../lab/landscape/plane';
import type { LesionEvaluation, LesionScore } from '../lab/lesion';
import type { SweepRequest, SweepResult } from '../lab/lesionLab';
import type { ImageTarget, PathRequest } from '../lab/modelLab';
import type { PathStudy } from '../lab/paths';
import type { Prediction } from '../lab/predict';
import type { SignalResult } from '../lab/signal';
import type { SweepPartial } from '../lab/sweeps';
import type { RaceStep } from '../lab/train/loop';
import type { RaceNet, RaceResult } from '../lab/train/race';
import type { TrainSettings } from '../lab/train/schedule';

/** Where the images of a set come from, as the page hands them to the lab worker (Blobs are not copied). */
export type ImageSetSource =
  | { kind: 'cifar-binary'; id: string; title: string; data: ArrayBuffer; labelSet: LabelSetName | null }
  | {
      kind: 'files';
      id: string;
      title: string;
      labelSet: LabelSetName | null;
      files: { name: string; label: number | null; blob: Blob }[];
    };

export interface OpenedModel {
  key: string;
  sha256: string;
  provider: string;
  reason: string;
  /** The image input, or why the model takes no images Skipscope can feed. */
  input: ModelInput | null;
  inputError: string | null;
}

/** The lab worker's methods: params in, result out; long ones report progress (their partial type). */
export interface LabMethods {
  configure(p: { wasmBase: string; preference: ProviderPreference }): { runtime: string };
  /** `side`: the image side for a model whose file leaves it open (core/rewrite/inputSize.ts); absent: Skipscope's. */
  openModel(p: { key: string; name: string; bytes: ArrayBuffer; side?: number | null }): OpenedModel;
  closeModel(p: { key: string }): null;
  addImageSet(p: ImageSetSource): { id: string; count: number };
  /** Image `index` as the model sees it (planar RGB, side × side) and its name. */
  pixels(p: { set: string; index: number; side: number; resize: number | null }): { pixels: Uint8Array; name: string };
  /** One image through the model, or through the lesioned model when `lesion` removes anything. */
  predict(p: { model: string; set: string; index: number; preprocessing: Preprocessing; lesion?: Lesion }): Prediction;
  evaluate(p: { model: string; set: string; options: EvaluateOptions }): EvaluateResult;
  /** Accuracy of the lesioned model on a set, beside the intact model's (running estimates as it goes). */
  lesionEvaluate(p: {
    model: string;
    set: string;
    preprocessing: Preprocessing;
    batchSize: number;
    lesion: Lesion;
  }): LesionEvaluation;
  /** One of the lesion studies (single-block, k-block, reorder, stochastic depth) on a set. */
  lesionSweep(p: {
    model: string;
    set: string;
    preprocessing: Preprocessing;
    batchSize: number;
    sweep: SweepRequest;
  }): SweepResult;
  /**
   * Layer-wise cross-entropy gradients of one image: norms at the input, stem and every block, the skip / branch
   * split, weight-gradient norms and a saliency map. The loss is taken against `target` when given, else the
   * image's label when `useLabel` (the set's classes are the model's), else the model's top-1.
   */
  gradients(p: ImageTarget & { model: string; set: string }): GradientView;
  /** The path-length study of one image: Binomial(n, ½), exact per-length sums and sampled paths. */
  pathStudy(p: PathRequest & { model: string; set: string }): PathStudy & { target: number; name: string };
  /**
   * Networks from the variants builder at initialisation, one image through each: per weighted layer
   * ‖∂L/∂W‖, and ‖∂L/∂image‖ (the image as the CIFAR-style nets take it, 32 × 32, with `preprocessing`).
   */
  compareAtInit(p: InitRequest & { set: string }): InitComparison[];
  /**
   * The forward signal of the open model on the first `count` images of a set: ‖F(x)‖/‖shortcut(x)‖ per block,
   * activation norms by depth, cosines between early and late features and between different images.
   */
  signal(p: { model: string; set: string; preprocessing: Preprocessing; count: number }): SignalResult;
  /**
   * The training race: RACE_NETS networks from the variants builder trained side by side on the same batches of
   * a labelled set (SGD, BatchNorm in training mode). Progress partials carry every network's metrics at the step
   * just taken. Pausable and stoppable (LabClient.control). The trained networks stay in the worker under `race`
   * for trainExport.
   */
  trainRace(p: { race: string; nets: RaceNet[]; set: string; settings: TrainSettings }): RaceResult;
  /** A finished race's network as an inference-form ONNX file (BatchNorm reads the running statistics). */
  trainExport(p: { race: string; net: string }): { bytes: Uint8Array; name: string };
  /**
   * The loss landscape of the open model (Li et al. 2018) on a sample of a labelled set: a grid over the plane
   * through its weights spanned by two seeded filter-normalised directions. Partials carry the grid so far.
   */
  landscape(p: { model: string; set: string; options: LandscapeOptions }): LandscapeResult;
  /**
   * Loss and accuracy along θA + t·(θB − θA), from the open model A to model B (same architecture: the same
   * initializer names and shapes), whose bytes the page hands over.
   */
  interpolate(p: {
    model: string;
    other: { name: string; bytes: ArrayBuffer };
    set: string;
    options: InterpolationOptions;
  }): InterpolationResult;
  /** Images per second of the open model at a batch size (median of `runs` timed runs). */
  benchmark(p: { model: string; batch: number; runs: number }): BenchmarkResult;
  /** Returns the payload: measures the page ↔ worker round trip (bench). */
  echo(p: { payload: Float32Array }): Float32Array;
  /**
   * Fails on purpose inside the worker, for the tests of the failure paths; refused unless the worker was started
   * with faults allowed (the page's `?lab-faults`, which nothing in the UI sets). 'error': an ordinary error;
   * 'trap': a real WebAssembly trap (RuntimeError: unreachable), after which the worker counts as corrupt; 'stall':
   * never answers, cancel or not; 'spin': a synchronous endless loop (the worker hears nothing any more).
   */
  fault(p: { mode: FaultMode }): null;
}

export type FaultMode = 'error' | 'trap' | 'stall' | 'spin';

export type LabMethod = keyof LabMethods;
export type LabParams<M extends LabMethod> = Parameters<LabMethods[M]>[0];
export type LabResult<M extends LabMethod> = ReturnType<LabMethods[M]>;
/** What a method's progress reports carry as `partial`. */
export interface LabPartials {
  evaluate: EvaluatePartial;
  lesionEvaluate: LesionScore;
  lesionSweep: SweepPartial;
  pathStudy: PathStudy;
  compareAtInit: InitComparison[];
  trainRace: RaceStep;
  landscape: LandscapePartial;
  interpolate: InterpolationPartial;
}
export type LabPartial<M extends LabMethod> = M extends keyof LabPartials ? LabPartials[M] : never;

/**
 * The methods whose jobs pause and resume besides cancelling; a race also stops early, keeping what it did (Evaluate,
 * lesion studies, landscapes, the path study and the forward signal have no stop: see LesionEngine.run).
 */
export const CONTROLLABLE = [
  'trainRace',
  'evaluate',
  'lesionSweep',
  'landscape',
  'interpolate',
  'pathStudy',
  'signal',
] as const satisfies readonly LabMethod[];
export type ControllableMethod = (typeof CONTROLLABLE)[number];

/** Whether a method's jobs take pause / resume (the worker gives them a JobControl; the K key pauses them). */
export function isControllable(method: LabMethod): method is ControllableMethod {
  return (CONTROLLABLE as readonly LabMethod[]).includes(method);
}

/** Every method's result, by method: what the result cache holds under a job's key. */
export type LabResults = { [M in LabMethod]: LabResult<M> };
/** Every method's progress partial, by method: what the store's job table holds. */
export type JobPartials = { [M in LabMethod]: LabPartial<M> };

export type LabRequest =
  | { kind: 'call'; id: number; method: LabMethod; params: unknown }
  | { kind: 'cancel'; id: number }
  | { kind: 'control'; id: number; action: ControlAction };

export type LabReply =
  | { kind: 'progress'; id: number; progress: Progress }
  /**
   * A control action took effect (or the call is not running any more: all false); `held` also comes by itself
   * when a paused job's loop starts waiting between two units (from then on nothing moves until it resumes).
   */
  | { kind: 'control'; id: number; paused: boolean; stopping: boolean; held: boolean }
  | { kind: 'done'; id: number; value: unknown }
  /** `fatal`: the error may have left the worker's memory corrupt (a WebAssembly trap, out of memory): replace it. */
  | { kind: 'failed'; id: number; message: string; cancelled: boolean; fatal?: boolean };
