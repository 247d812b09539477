/**
 * The store's types: each slice's state and actions, the services they work through, the whole state. Slices
 * import from here and store.ts assembles them, so no file of the store imports one that imports it.
 */
import type { StoreApi } from 'zustand';
import type { BuildOptions } from '../core/build/resnet';
import type { ModelEntry, ProviderPreference, Settings } from '../core/catalog';
import type { NetworkLayout } from '../core/layout/layout';
import type { BlockParts } from '../core/layout/parts';
import type { Analysis } from '../core/summary';
import type { LabelSet, Prediction } from '../data/labels';
import type { Preprocessing } from '../data/preprocess';
import type { Host } from '../host/host';
import type { ResultCache } from '../lab/cache';
import type { InitBatchNorm } from '../lab/init';
import type { ModelInput } from '../lab/inputs';
import type { ControlAction, Progress } from '../lab/job';
import type { JobRecord, JobTable } from '../lab/jobTable';
import type { SweepRequest } from '../lab/lesionLab';
import type { RaceNet, RaceResult } from '../lab/train/race';
import type { TrainSettings } from '../lab/train/schedule';
import type { StepMetrics } from '../lab/train/trainer';
import type { Analyzer } from '../worker/analyzer';
import type { LabClient } from '../worker/client';
import type { ImageSetSource, JobPartials, LabMethod, LabParams, LabPartial, LabResults } from '../worker/protocol';
import type { Assets } from './assets';
import type { ColorMode } from './colorModes';

// modelSlice
export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** Everything derived from the open model's bytes; immutable, replaced as a whole when another model opens. */
export interface OpenModel {
  /** The host's id for the file. */
  id: string;
  /** The lab worker's handle for this opening of the model. */
  key: string;
  name: string;
  entry: ModelEntry | undefined;
  analysis: Analysis;
  /** Each block's ops, in block order (drawn when a block is opened). */
  parts: BlockParts[];
  layout: NetworkLayout;
  labelSet: LabelSet | null;
  /** The image input, or (inputError) why the model takes no images Skipscope can feed. */
  input: ModelInput | null;
  inputError: string | null;
  /** The model's own preprocessing: from its manifest entry, else a preset for its input size. */
  preprocessing: Preprocessing;
}

export interface ModelSlice {
  hostKind: 'web' | 'electron';
  entries: ModelEntry[];
  currentId: string | null;
  status: LoadStatus;
  /**
   * One-line, user-readable reason the last open failed: with status 'error' no model is open; otherwise the model
   * that was open stayed open and the reason shows beside it until dismissed or the next open.
   */
  error: string | null;
  model: OpenModel | null;
  providerPreference: ProviderPreference;
  /** The lab's session for the open model. */
  runtime: 'idle' | 'starting' | 'ready' | 'error';
  provider: string | null;
  providerReason: string | null;
  runtimeError: string | null;
  /** SHA-256 of the open model's bytes (result cache keys); null until the lab has read them. */
  sha256: string | null;
  /** Names of the models opened this session, by sha256: results cached for them can be shown beside the open one's. */
  modelNames: Record<string, string>;
  refreshModels(): Promise<void>;
  /** Opens a listed model; false when it could not be opened (the reason is in `error`). */
  openModel(id: string, options?: { side?: number }): Promise<boolean>;
  /** Opens a file the user picks, or one dropped: a file that will not open is not kept in the list. */
  openFromDialog(): Promise<void>;
  openDropped(file: File): Promise<void>;
  /** Opens a file the host has just added to its library (the desktop app's File ▸ Open…), on the same terms. */
  openImported(entry: ModelEntry): Promise<void>;
  dismissError(): void;
  removeModel(id: string): Promise<void>;
  revealModel(id: string): Promise<void>;
  /**
   * Image sides chosen this session, by model id, for files that leave their input's size open: the model is read
   * and run at that side (core/rewrite/inputSize.ts).
   */
  openSides: Record<string, number>;
  /** Reopens the open model at another image side, where its file leaves the side open; false if it did not open. */
  setOpenSide(side: number): Promise<boolean>;
  /** Persists the preference and reopens the model on it. */
  setProviderPreference(preference: ProviderPreference): Promise<void>;
}

// runSlice
/** Where the image to run comes from. */
export type ImageSource = 'cifar10' | 'imagenet' | 'custom';

/** An image set registered with the lab worker. */
export interface RegisteredSet {
  id: string;
  title: string;
  count: number;
  labelSet: ImageSetSource['labelSet'];
}

export interface RunResult {
  predictions: Prediction[];
  /** Raw logits (one row, small), kept for checks. */
  logits: number[];
  /** The true class, only when the image's label set is the one the model predicts. */
  trueLabel: number | null;
  ms: number;
  name: string;
}

/** Images the user brought: one image, a folder (one subfolder per class), CIFAR binaries, or a drop. */
export interface CustomImages {
  origin: 'image' | 'folder' | 'cifar-binary' | 'drop';
  files: File[];
  /** Each file's path below the chosen folder ("cat/001.png"), where it is not the files' webkitRelativePath (a
   * dropped folder's files have none). */
  paths?: string[];
  /** What the user chose, e.g. "dogs/ (120 images)". */
  title: string;
}

export interface RunSlice {
  imageSource: ImageSource;
  imageIndex: number;
  /** The set behind `imageSource`, once the lab has it. */
  imageSet: RegisteredSet | null;
  custom: CustomImages | null;
  /** What reading the user's images left out (non-image files, folders naming no class), one line. */
  customNotice: string | null;
  /** Why files dropped on the window were not taken (none is a model, a CIFAR binary or an image), or null. */
  dropNotice: string | null;
  setDropNotice(notice: string | null): void;
  running: boolean;
  run: RunResult | null;
  runError: string | null;
  resetRun(): void;
  /** 32×32 models get the CIFAR-10 test set, others the ImageNet samples (the user's own image stays chosen). */
  chooseDefaultImages(): Promise<void>;
  setImageSource(source: ImageSource): Promise<void>;
  /** Uses the user's images: an image, a folder's files, CIFAR binary batches, or files dropped on the window. */
  setCustomImages(custom: CustomImages): Promise<void>;
  setImageIndex(i: number): void;
  runImage(): Promise<void>;
}

// viewSlice
/** Where the camera stands and what it looks at (world units). */
export interface CameraPose {
  position: [number, number, number];
  target: [number, number, number];
}

export interface Bookmark {
  name: string;
  pose: CameraPose;
}

/** A camera move the scene carries out; `seq` makes repeated requests distinct. */
export type CameraRequest =
  | { kind: 'fly'; block: number; seq: number }
  | { kind: 'reset'; seq: number }
  | { kind: 'pose'; pose: CameraPose; seq: number };

/** The labs of the switcher, in order (ui/App.tsx LABS gives their names and panels). */
export const LAB_IDS = [
  'explore',
  'evaluate',
  'lesion',
  'gradients',
  'paths',
  'signal',
  'build',
  'race',
  'landscape',
] as const;
export type Lab = (typeof LAB_IDS)[number];
/** The workspace a lab shows: its own for the race and the landscape, the 3D network for every other. */
export function labWorkspace(lab: Lab): Workspace {
  return lab === 'race' ? 'race' : lab === 'landscape' ? 'landscape' : 'network';
}
export type Workspace = 'network' | 'race' | 'landscape';

/**
 * The open lab's main action (Evaluate, Run the study, Compute gradients…), as its panel offers it: presenting,
 * the stage shows it as a button and Enter starts it, where the side panel with its own button is hidden.
 */
export interface PrimaryAction {
  /** Who registered it (a panel's own token), so that one panel's unmount cannot clear another's. */
  owner: symbol;
  /** The button's text, as the panel's own button says it. */
  label: string;
  enabled: boolean;
  /** Nothing is left to do (Evaluated, Measured, Computed): shown as a status, not as a button that is off. */
  done?: boolean;
  run(): void;
}

export interface ViewSlice {
  theme: Settings['theme'];
  selectedBlock: number | null;
  hoveredBlock: number | null;
  presentation: boolean;
  colorMode: ColorMode;
  cameraRequest: CameraRequest | null;
  /** Named camera views of the open model (Alt+1…9 recalls them). */
  bookmarks: Bookmark[];
  /** Each model's camera views this session, by model id: opening another model and coming back keeps them. */
  savedBookmarks: Record<string, Bookmark[]>;
  /** The key list (?) is open. */
  helpOpen: boolean;
  /** The open lab's main action, or null where its panel offers none (ui/common/primaryAction.tsx). */
  primaryAction: PrimaryAction | null;
  setPrimaryAction(action: PrimaryAction | null): void;
  /** Clears the main action if `owner` registered it. */
  clearPrimaryAction(owner: symbol): void;
  /** Side panels the user closed (ids of ui/common/Panel). */
  closedPanels: string[];
  togglePanel(id: string): void;
  /** The guided tour's current step, or null when the tour is closed. */
  tourStep: number | null;
  /** What the centre of the window shows: the 3D network, the training race or the loss landscape. */
  workspace: Workspace;
  /** Shows a workspace: the network opens the Explore lab (unless a network lab is open), race and landscape theirs. */
  setWorkspace(workspace: Workspace): void;
  /** The lab on the stage: its controls in the side panel, its charts on the stage (LABS). */
  lab: Lab;
  setLab(lab: Lab): void;
  /** The chart filling the whole stage (its id), or null. */
  stageChart: string | null;
  setStageChart(id: string | null): void;
  /** Side panels collapsed by the user. */
  collapsed: { left: boolean; right: boolean };
  toggleSide(side: 'left' | 'right'): void;
  setTheme(theme: Settings['theme']): void;
  selectBlock(index: number | null): void;
  hoverBlock(index: number | null): void;
  togglePresentation(): void;
  setPresentation(on: boolean): void;
  setColorMode(mode: ColorMode): void;
  /** Selects a block and flies the camera to it. */
  flyTo(block: number): void;
  resetView(): void;
  goToPose(pose: CameraPose): void;
  addBookmark(bookmark: Bookmark): void;
  removeBookmark(index: number): void;
  setHelpOpen(open: boolean): void;
  setTourStep(step: number | null): void;
}

// labSlice
export type Jobs = JobTable<JobPartials>;
/** A job of method M as the store keeps it. */
export type JobState<M extends LabMethod = LabMethod> = JobRecord<M, LabPartial<M>>;

export interface JobOptions {
  /** Keep every progress partial (JobState.partials), not only the last. */
  keepPartials?: boolean;
  /** Hand progress to the store at most this often (ms); a trailing update follows a skipped one. Default 100. */
  redrawMs?: number;
}

export interface LabSlice {
  /** Jobs by result key: at most one running per key. */
  jobs: Jobs;
  /** How many times the lab worker was replaced (a cancelled run's kept state lives in the worker of its time). */
  labRestarts: number;
  /**
   * Runs a lab method as a job whose result is cached under `key`; does nothing when the result is cached or
   * the job is already running.
   */
  startJob<M extends LabMethod>(key: string, method: M, params: LabParams<M>, options?: JobOptions): Promise<void>;
  cancelJob(key: string): void;
  /**
   * Cancels the running jobs on the model whose key is `model` (OpenModel.key), one switched away from; landscapes
   * go on (their workspace lists them with their model).
   */
  cancelModelJobs(model: string): void;
  /** Pause, resume or stop a running job of a controllable method (protocol CONTROLLABLE). */
  controlJob(key: string, action: ControlAction): void;
  /**
   * The K key: pauses every running job that can pause (Evaluate, lesion studies, landscapes, races), or, when all
   * of them are paused already, resumes them. In presentation no panel is there to click.
   */
  togglePauseJobs(): void;
  /** The cache key of "evaluate the open model on the current image set", or null when that is not possible. */
  evaluationKey(): string | null;
  evaluate(): Promise<void>;
}

// lesionSlice
export interface LesionSlice {
  /** Blocks whose branch F(x) is removed (the skip carries the signal). */
  dropped: number[];
  /** Blocks whose skip is cut (y = F(x)). */
  cutSkips: number[];
  /** Preprocessing used by every experiment on the open model: from its manifest or a preset, editable. */
  preprocessing: Preprocessing | null;
  toggleDrop(block: number): void;
  toggleSkip(block: number): void;
  resetLesion(): void;
  /** Re-runs the readout (after the images or the model's session changed). */
  refreshLesion(): void;
  setPreprocessing(preprocessing: Preprocessing): void;
  /** The result key of the current lesion's accuracy on the current images, or null when that cannot run. */
  lesionKey(): string | null;
  /** The result key of a lesion study on the current images. */
  sweepKey(request: SweepRequest): string | null;
  startSweep(request: SweepRequest): Promise<void>;
}

// insightSlice
export interface PathStudyRequest {
  samples: number;
  exact: boolean;
  seed: number;
}

export interface InsightSlice {
  /** The class the gradient views take the loss against; null: the image's label, else the top-1. */
  gradTarget: number | null;
  /** A path lit in 3D: per block, true when the path goes through the branch F (false: through the skip). */
  litPath: boolean[] | null;
  /** How many of the current set's images the forward-signal study takes (its result colours the blocks). */
  signalCount: number;
  setSignalCount(count: number): void;
  /** The forward-signal study of the open model on the first `count` images of the current set. */
  signalKey(count?: number): string | null;
  startSignal(count?: number): Promise<void>;
  setGradTarget(target: number | null): void;
  lightPath(path: boolean[] | null): void;
  gradientKey(): string | null;
  computeGradients(): Promise<void>;
  pathKey(request: PathStudyRequest): string | null;
  startPathStudy(request: PathStudyRequest): Promise<void>;
  /** Built networks compared at initialisation on the current image (CIFAR-style, 32 × 32). */
  initKey(variants: BuildOptions[], batchNorm?: InitBatchNorm): string | null;
  startInitCompare(variants: BuildOptions[], batchNorm?: InitBatchNorm): Promise<void>;
}

// raceSlice
/** Where a race's images come from: the bundled CIFAR-10 training images, or the Run panel's current set. */
export type RaceData = 'bundled' | 'current';

/** What the user asks for: the networks, the data and the optimiser settings (preprocessing is the CIFAR preset). */
export interface RaceConfig {
  nets: RaceNet[];
  data: RaceData;
  settings: Omit<TrainSettings, 'preprocessing'>;
}

export interface RaceNetInfo {
  id: string;
  name: string;
  params: number;
}

/** A race the user started, as the store lists it: its key (the job's and the result's), what was asked. */
export interface RaceEntry {
  id: string;
  config: RaceConfig;
  nets: RaceNetInfo[];
  /** The set trained on, e.g. "CIFAR-10 training images (5000)". */
  data: string;
}

/** A race as the views show it (raceSlice.raceState): running, paused, finished, stopped, cancelled or failed. */
export interface RaceState extends RaceEntry {
  status: 'running' | 'done' | 'cancelled' | 'error';
  paused: boolean;
  /** The pause is in force: the race waits between two steps, and every step before it is drawn. */
  held: boolean;
  stopping: boolean;
  progress: Progress | null;
  /** Every step's metrics by network id, as they arrive (the final result replaces them when done). */
  steps: Record<string, StepMetrics[]>;
  result: RaceResult | null;
  error: string | null;
  /** When it started (ms since the epoch). */
  startedAt: number;
}

export interface RaceSlice {
  /** The races of this session, newest first (the lab keeps the trained networks of the last four). */
  races: RaceEntry[];
  /** The race on screen. */
  raceId: string | null;
  /** The form, kept while the user looks at other workspaces. */
  raceDraft: RaceDraft;
  setRaceDraft(update: (draft: RaceDraft) => RaceDraft): void;
  raceError: string | null;
  startRace(config: RaceConfig): Promise<void>;
  showRace(id: string): void;
  controlRace(action: ControlAction): void;
  cancelRace(): void;
  /** A finished race's network as an .onnx file (inference form), or null with raceError set. */
  raceNetFile(netId: string): Promise<{ bytes: Uint8Array; name: string } | null>;
  /** Opens a trained network as a model: it joins the model list like any opened file. */
  openRaceNet(netId: string): Promise<void>;
}

/** The race form as the user left it (networks as builder options, data, settings). */
export interface RaceDraft {
  nets: RaceNet['build'][];
  data: RaceData;
  settings: RaceConfig['settings'];
}

// landscapeSlice
/** What the user sets for a landscape; the sample comes from the Run panel's images. */
export interface LandscapeSettings {
  grid: number;
  range: number;
  samples: number;
  seed: number;
}

export interface InterpolationSettings {
  points: number;
  from: number;
  to: number;
  samples: number;
}

/** A landscape asked for in this session (its result is in the cache under `key`). */
export interface LandscapeEntry {
  key: string;
  model: string;
  data: string;
  settings: LandscapeSettings;
}

export interface LandscapeSlice {
  /** The form, kept while the user looks at other workspaces. */
  landscapeSettings: LandscapeSettings;
  setLandscapeSettings(settings: LandscapeSettings): void;
  /** Landscapes started this session, newest first: the ones to compare. */
  landscapes: LandscapeEntry[];
  landscapeError: string | null;
  landscapeKey(settings: LandscapeSettings): string | null;
  startLandscape(settings: LandscapeSettings): Promise<void>;
  interpolationKey(otherId: string, settings: InterpolationSettings): string | null;
  /** From the open model to another model of the list (same architecture). */
  startInterpolation(otherId: string, settings: InterpolationSettings): Promise<void>;
}

// store
/** What the store's actions work through: the platform, its shipped data, the lab worker, the result cache. */
export interface Services {
  host: Host;
  assets: Assets;
  lab: LabClient;
  /** Reads model files (in a worker in the page). */
  analyzer: Analyzer;
  cache: ResultCache<LabResults>;
}

/** One store, typed slices (zustand slices pattern). It holds ids, choices, progress and result keys. */
export type AppState = ModelSlice &
  RunSlice &
  ViewSlice &
  LabSlice &
  LesionSlice &
  InsightSlice &
  RaceSlice &
  LandscapeSlice;

export type AppStore = StoreApi<AppState>;
