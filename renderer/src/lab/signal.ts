import { encodeModel } from '../core/onnx/encode';
import type { Model } from '../core/onnx/model';
import { type SignalGraph, type SignalPoint, signalGraph } from '../core/rewrite/signal';
import type { ShortcutKind, Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import type { Preprocessing } from '../data/preprocess';
import { metaComments, type ResultMeta } from './export';
import { batches, batchSessionOptions, loadBatch, type ModelInput, padBatch, sessionBatch } from './inputs';
import { between, type JobContext, UnsupportedInput } from './job';
import type { HostTensor, Runtime, Session } from './runtime';
import { summarize } from './stats';

/** Mean, sample standard deviation and range of a quantity over images (or image pairs); `n` values. */
export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
}

/** Mean, sd and range of the finite values, or null when there are none. */
export function spread(values: readonly number[]): Spread | null {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? { ...summarize(finite), n: finite.length } : null;
}

/**
 * What one batch measured, per image (or per pair of images), before any averaging: the numbers the tests compare
 * against PyTorch. Indices follow the graph's points and blocks.
 */
export interface SignalMeasurements {
  /** [point][image] ‖h‖. */
  norms: number[][];
  /** [point][image] cos(h, h at the earliest point of the same shape); null where the point is its own reference. */
  cosReference: (number[] | null)[];
  /** [point][image] cos(h, h at the point before), where both have the same shape. */
  cosPrevious: (number[] | null)[];
  /** [point][pair] cos(hᵢ, hⱼ) for every pair i < j of images in the batch, in the order (0,1), (0,2), …, (1,2), … */
  cosInputs: number[][];
  /** [block][image] ‖F(x)‖, ‖shortcut(x)‖, their ratio and cos(F(x), shortcut(x)). */
  branchNorm: number[][];
  shortcutNorm: number[][];
  ratio: number[][];
  cosBranchShortcut: number[][];
}

/** The forward-signal graph of a model and its session (batch fixed), built once and run per batch. */
export class SignalEngine {
  private constructor(
    readonly graph: SignalGraph,
    private readonly session: Session,
    /** Images per run (a shorter batch is padded with zero images, whose rows are ignored). */
    readonly batch: number,
  ) {}

  static async create(
    runtime: Runtime,
    model: Model,
    topology: Topology,
    input: ModelInput,
    batch: number,
  ): Promise<SignalEngine> {
    const graph = signalGraph(model, topology);
    const size = sessionBatch(input, batch);
    const session = await runtime.createSession(encodeModel(graph.model), batchSessionOptions(input, size));
    return new SignalEngine(graph, session, size);
  }

  get provider(): string {
    return this.session.provider;
  }

  /** Measures the images of `tensor` ([n, …], n ≤ batch). */
  async measure(tensor: HostTensor): Promise<SignalMeasurements> {
    const n = tensor.dims[0]!;
    if (n > this.batch) throw new Error(`${n} images in a batch of ${this.batch}`);
    const g = this.graph;
    const out = await this.session.run({ [g.image]: padBatch(tensor, this.batch) });
    const read = (name: string) => out[name]!.data as Float32Array;
    const rows = (name: string) => Array.from(read(name).subarray(0, n), Number);
    const size = this.batch;
    const grams = g.points.map((p) => read(p.gram));
    const norms = grams.map((gram) => Array.from({ length: n }, (_, i) => Math.sqrt(Math.max(0, gram[i * size + i]!))));
    const cosWith = (k: number, dotName: string | null, other: number | null) => {
      if (dotName === null || other === null) return null;
      const d = rows(dotName);
      return d.map((v, i) => v / (norms[k]![i]! * norms[other]![i]!));
    };
    const cosInputs = grams.map((gram, k) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++) out.push(gram[i * size + j]! / (norms[k]![i]! * norms[k]![j]!));
      return out;
    });
    const branchNorm = g.blocks.map((b) => rows(b.branchSq).map((v) => Math.sqrt(Math.max(0, v))));
    const shortcutNorm = g.blocks.map((b) => rows(b.shortcutSq).map((v) => Math.sqrt(Math.max(0, v))));
    return {
      norms,
      cosReference: g.points.map((p, k) => cosWith(k, p.referenceDot, p.reference)),
      cosPrevious: g.points.map((p, k) => cosWith(k, p.previousDot, p.previous)),
      cosInputs,
      branchNorm,
      shortcutNorm,
      ratio: branchNorm.map((f, l) => f.map((v, i) => v / shortcutNorm[l]![i]!)),
      cosBranchShortcut: g.blocks.map((b, l) =>
        rows(b.dot).map((v, i) => v / (branchNorm[l]![i]! * shortcutNorm[l]![i]!)),
      ),
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** How the weights came about, stated beside every chart. */
export interface SignalSetting {
  weights: 'built' | 'file';
  /** One line: "built by Skipscope at initialisation …" or "as stored in the file". */
  text: string;
}

/** The setting of a model: built-at-initialisation nets carry the builder's metadata (core/build). */
export function signalSetting(model: Model): SignalSetting {
  const meta = new Map(model.metadata);
  if (meta.get('skipscope.build'))
    return {
      weights: 'built',
      text: `built by Skipscope at initialisation (${meta.get('variant') ?? '?'}-${meta.get('depth') ?? '?'}, He-normal, seed ${meta.get('seed') ?? '?'}); BatchNorm is the identity (γ=1, β=0, μ=0, σ²=1), so the activations are not normalised`,
    };
  return { weights: 'file', text: 'weights as stored in the file (trained if the file holds a trained model)' };
}

export interface SignalPointResult {
  /** "stem", "block 3", "input of layer 7", "pooled features". */
  label: string;
  kind: SignalPoint['kind'];
  block: number | null;
  /** 0-based stage of the block, else null. */
  stage: number | null;
  depth: number;
  shape: number[] | null;
  /** ‖h‖ per image, and the root mean square entry ‖h‖/√size (comparable across feature-map sizes). */
  norm: Spread | null;
  rms: Spread | null;
  /** The earliest point of the same shape (index), and cos(h, h there) per image; null where it is this point. */
  reference: number | null;
  cosReference: Spread | null;
  /** The point before when it has the same shape, and cos(h, h there) per image. */
  previous: number | null;
  cosPrevious: Spread | null;
  /** cos(hᵢ, hⱼ) between different images i ≠ j of a batch; null with one image per batch. */
  cosInputs: Spread | null;
}

export interface SignalBlockResult {
  /** 0-based block and stage. */
  block: number;
  stage: number;
  shortcut: ShortcutKind;
  /** ‖F(x)‖ / ‖x‖ (identity) or ‖F(x)‖ / ‖shortcut(x)‖ per image, and its value for each image. */
  ratio: Spread | null;
  perImage: number[];
  branchNorm: Spread | null;
  shortcutNorm: Spread | null;
  cosBranchShortcut: Spread | null;
}

export interface SignalResult {
  model: string;
  kind: Topology['kind'];
  pointsAt: SignalGraph['pointsAt'];
  setting: SignalSetting;
  images: { set: string; count: number; names: string[]; skipped: number };
  /** Images per run; cosines between inputs are taken over the pairs within each run. */
  batch: number;
  pairs: number;
  points: SignalPointResult[];
  blocks: SignalBlockResult[];
  provider: string;
  ms: number;
}

export interface SignalOptions {
  /** The first `count` images of the set (fewer when the set is smaller). */
  count: number;
  preprocessing: Preprocessing;
}

/** Images per run: the runtime's batch, at most the count, and the model's own batch when it fixes one. */
export function signalBatch(runtime: Runtime, input: ModelInput, count: number): number {
  return sessionBatch(input, Math.max(1, Math.min(count, runtime.batchSize)));
}

/**
 * The forward-signal study of a model on the first `count` images of a set: ‖F(x)‖/‖x‖ per block, activation
 * norms by depth, cosines between early and late features and between different inputs, with per-image spread.
 * Progress per batch; cancellation between batches.
 */
export async function signalStudy(
  runtime: Runtime,
  analysis: { model: Model; topology: Topology },
  input: ModelInput,
  set: ImageSet,
  options: SignalOptions,
  job: JobContext,
): Promise<SignalResult> {
  const started = performance.now();
  const { model, topology } = analysis;
  const count = Math.min(options.count, set.count);
  if (!(count >= 1)) throw new UnsupportedInput(`${set.title} has no images to measure`);
  const engine = await SignalEngine.create(runtime, model, topology, input, signalBatch(runtime, input, count));
  try {
    const g = engine.graph;
    const all: SignalMeasurements = {
      norms: g.points.map(() => []),
      cosReference: g.points.map((p) => (p.referenceDot ? [] : null)),
      cosPrevious: g.points.map((p) => (p.previousDot ? [] : null)),
      cosInputs: g.points.map(() => []),
      branchNorm: g.blocks.map(() => []),
      shortcutNorm: g.blocks.map(() => []),
      ratio: g.blocks.map(() => []),
      cosBranchShortcut: g.blocks.map(() => []),
    };
    const names: string[] = [];
    let skipped = 0;
    job.progress(0, count, undefined, 'building the measuring graph');
    for (const indices of batches(count, engine.batch)) {
      await between(job); // paused (K, or the panel's Pause): held between two batches
      const batch = await loadBatch(set, indices, input, options.preprocessing);
      skipped += batch.skipped.length;
      if (batch.tensor) {
        const m = await engine.measure(batch.tensor);
        names.push(...batch.indices.map((i) => set.name(i)));
        for (const key of Object.keys(all) as (keyof SignalMeasurements)[])
          (all[key] as (number[] | null)[]).forEach((rows, k) => {
            rows?.push(...(m[key][k] ?? []));
          });
      }
      job.progress(indices[indices.length - 1]! + 1, count, undefined, `${names.length} images measured`);
    }
    if (names.length === 0) throw new UnsupportedInput(`none of the ${count} images of ${set.title} could be read`);
    const stageOf = (block: number | null) => (block === null ? null : (topology.blocks[block]?.stage ?? null));
    const points: SignalPointResult[] = g.points.map((p, k) => {
      const size = p.shape ? p.shape.reduce((a, d) => a * d, 1) : null;
      return {
        label:
          p.kind === 'stem'
            ? 'stem'
            : p.kind === 'block'
              ? `block ${p.block! + 1}`
              : p.kind === 'pooled'
                ? 'pooled features'
                : `input of layer ${p.depth + 1}`,
        kind: p.kind,
        block: p.block,
        stage: stageOf(p.block),
        depth: p.depth,
        shape: p.shape,
        norm: spread(all.norms[k]!),
        rms: size ? spread(all.norms[k]!.map((v) => v / Math.sqrt(size))) : null,
        reference: p.referenceDot ? p.reference : null,
        cosReference: all.cosReference[k] ? spread(all.cosReference[k]) : null,
        previous: p.previous,
        cosPrevious: all.cosPrevious[k] ? spread(all.cosPrevious[k]) : null,
        cosInputs: spread(all.cosInputs[k]!),
      };
    });
    const blocks: SignalBlockResult[] = g.blocks.map((b, l) => {
      const block = topology.blocks[b.block]!;
      return {
        block: b.block,
        stage: block.stage,
        shortcut: block.shortcut,
        ratio: spread(all.ratio[l]!),
        perImage: all.ratio[l]!,
        branchNorm: spread(all.branchNorm[l]!),
        shortcutNorm: spread(all.shortcutNorm[l]!),
        cosBranchShortcut: spread(all.cosBranchShortcut[l]!),
      };
    });
    job.progress(count, count, undefined, 'done');
    return {
      model: model.name,
      kind: topology.kind,
      pointsAt: g.pointsAt,
      setting: signalSetting(model),
      images: { set: set.title, count: names.length, names, skipped },
      batch: engine.batch,
      pairs: all.cosInputs[0]?.length ?? 0,
      points,
      blocks,
      provider: engine.provider,
      ms: performance.now() - started,
    };
  } finally {
    await engine.release();
  }
}

/** The forward-signal study as CSV: a row per measured point, then a row per residual block. */
export function signalCsv(meta: ResultMeta, r: SignalResult): string {
  const num = (x: number | null | undefined) => (x === null || x === undefined ? '' : x.toExponential(8));
  const s = (x: Spread | null) => [num(x?.mean), num(x?.sd), num(x?.min), num(x?.max)].join(',');
  const lines = [
    `# skipscope forward signal: ${r.model}, ${r.images.count} images of ${r.images.set} (batches of ${r.batch}, ${r.pairs} image pairs)`,
    ...metaComments(meta),
    `# setting: ${r.setting.text}`,
    "# norms are L2 over one image's tensor; rms = norm / sqrt(size); cos_reference: vs the earliest point of the same shape;",
    '# cos_previous: vs the point before (same shape); cos_inputs: between different images of a batch; mean,sd,min,max over images',
    'point,label,depth,shape,norm_mean,norm_sd,norm_min,norm_max,rms_mean,rms_sd,rms_min,rms_max,reference,cos_reference_mean,cos_reference_sd,cos_reference_min,cos_reference_max,cos_previous_mean,cos_previous_sd,cos_previous_min,cos_previous_max,cos_inputs_mean,cos_inputs_sd,cos_inputs_min,cos_inputs_max',
    ...r.points.map((p, k) =>
      [
        k,
        p.label,
        p.depth,
        p.shape?.join('x') ?? '',
        s(p.norm),
        s(p.rms),
        p.reference ?? '',
        s(p.cosReference),
        s(p.cosPrevious),
        s(p.cosInputs),
      ].join(','),
    ),
  ];
  if (r.blocks.length)
    lines.push(
      '',
      '# per residual block: ratio = ||F(x)|| / ||shortcut(x)|| (shortcut(x) = x for identity shortcuts); cos_branch_shortcut = cos(F(x), shortcut(x))',
      'block,stage,shortcut,ratio_mean,ratio_sd,ratio_min,ratio_max,branch_norm_mean,branch_norm_sd,branch_norm_min,branch_norm_max,shortcut_norm_mean,shortcut_norm_sd,shortcut_norm_min,shortcut_norm_max,cos_branch_shortcut_mean,cos_branch_shortcut_sd,cos_branch_shortcut_min,cos_branch_shortcut_max',
      ...r.blocks.map((b) =>
        [
          b.block + 1,
          b.stage + 1,
          b.shortcut,
          s(b.ratio),
          s(b.branchNorm),
          s(b.shortcutNorm),
          s(b.cosBranchShortcut),
        ].join(','),
      ),
    );
  return `${lines.join('\n')}\n`;
}
