/**
 * One open model in the lab and every engine built for it, made on first use and released together: plain
 * sessions by batch size, the gated model (lesioned predictions), the lesion engine of one image set, the gradient
 * and path graphs. The lab worker keeps one per open model; the one-image experiments live here.
 */
import { sha256Hex } from '../core/hash';
import { encodeModel } from '../core/onnx/encode';
import { type Model, ModelError } from '../core/onnx/model';
import { type GatedModel, gateBlocks, gateFeeds, type Lesion } from '../core/rewrite/gates';
import { lesionTarget, takesLesions } from '../core/rewrite/plain';
import { readModel } from '../core/summary';
import { errorLine } from '../core/text';
import { detectTopology } from '../core/topology/detect';
import { noJoinsReason } from '../core/topology/family';
import type { Topology } from '../core/topology/types';
import type { ImageSet } from '../data/imageSets';
import type { Preprocessing } from '../data/preprocess';
import { GradientEngine, type GradientView, saliencyMap } from './gradients';
import { describeInput, firstImage, loadImage, type ModelInput, oneImageBatch } from './inputs';
import { type JobContext, UnsupportedInput } from './job';
import { LesionEngine } from './lesion';
import { PathEngine, type PathStudy, pathStudy } from './paths';
import { type Prediction, predictOne } from './predict';
import { float32, type HostTensor, type Runtime, type Session } from './runtime';
import { type ModelSessions, modelSessions } from './sessions';
import { chooseTarget, topOneTarget } from './target';

/** The class a one-image experiment differentiates against (see target.ts) and the image it is on. */
export interface ImageTarget {
  index: number;
  preprocessing: Preprocessing;
  /** The class the user chose, or null: the label (when `useLabel`), else the model's top-1. */
  target: number | null;
  /** The set's labels are the model's classes. */
  useLabel: boolean;
}

export interface PathRequest extends ImageTarget {
  samples: number;
  exact: boolean;
  seed: number;
}

export class ModelLab {
  private gated: { model: GatedModel; sessions: ModelSessions } | null = null;
  private lesion: { key: string; engine: LesionEngine } | null = null;
  private gradient: Promise<GradientEngine> | null = null;
  private paths: PathEngine | null = null;

  private constructor(
    private readonly runtime: Runtime,
    readonly analysis: { model: Model; topology: Topology },
    readonly sessions: ModelSessions,
    /** The batch-1 session, opened at once: it says which provider runs the model. */
    readonly session: Session,
    readonly sha256: string,
    private readonly inputInfo: ModelInput | null,
    /** Why the model takes no images Skipscope can feed, or null. */
    readonly inputError: string | null,
  ) {}

  /** Decodes the model, finds its structure and input, and opens its batch-1 session. */
  static async open(runtime: Runtime, bytes: Uint8Array, name: string, side: number | null = null): Promise<ModelLab> {
    const sha256 = await sha256Hex(bytes);
    // As the analysis reads it (core/summary.ts): weights stored quantized or in float16 are float32 constants, and
    // an image side the file leaves open is fixed (the file's bytes run at that side as they are).
    const { model, folded } = readModel(bytes, name, { side });
    const topology = detectTopology(model);
    let input: ModelInput | null = null;
    let inputError: string | null = null;
    try {
      input = describeInput(model, topology);
    } catch (error) {
      inputError = errorLine(error);
    }
    // Weights made float32 (dequantized, cast up): inference runs that graph too, so that every figure comes from it.
    const sessions = modelSessions(runtime, folded ? encodeModel(model) : bytes, input);
    const session = await sessions.forBatch(1);
    return new ModelLab(runtime, { model, topology }, sessions, session, sha256, input, inputError);
  }

  /** The image input, or a one-line error saying why the model takes none. */
  get input(): ModelInput {
    if (!this.inputInfo) throw new Error(this.inputError ?? 'this model takes no square RGB image input');
    return this.inputInfo;
  }

  get inputOrNull(): ModelInput | null {
    return this.inputInfo;
  }

  /** One image through the model, or through the lesioned model when `lesion` removes anything. */
  async predict(images: ImageSet, index: number, preprocessing: Preprocessing, lesion?: Lesion): Promise<Prediction> {
    const input = this.input;
    if (!lesion || (lesion.dropped.length === 0 && !lesion.cutSkips?.length))
      return predictOne(this.sessions, input, images, index, preprocessing);
    // A plain network's removable layers are gated as joins with closed skips (core/rewrite/plain.ts).
    const target = lesionTarget(this.analysis.model, this.analysis.topology);
    if (!this.gated) {
      const gated = gateBlocks(target.model, target.topology, [], target.plain !== null);
      this.gated = { model: gated, sessions: modelSessions(this.runtime, encodeModel(gated.model), input) };
    }
    const gates = gateFeeds(this.gated.model, lesion, 1);
    const rankOf = new Map(
      this.gated.model.gates.flatMap((g) => [[g.branch, g.rank] as const, [g.skip, g.rank] as const]),
    );
    const extra: Record<string, HostTensor> = Object.fromEntries(
      Object.entries(gates).map(([name, data]) => [
        name,
        float32(data, [1, ...new Array<number>(rankOf.get(name)! - 1).fill(1)]),
      ]),
    );
    return predictOne(this.gated.sessions, input, images, index, preprocessing, extra);
  }

  /** The lesion engine for this set and preprocessing: one per model, its cache of block inputs that set's. */
  lesionEngine(images: ImageSet, preprocessing: Preprocessing, batchSize: number): LesionEngine {
    const key = JSON.stringify([images.id, preprocessing, batchSize]);
    if (this.lesion?.key !== key) {
      void this.lesion?.engine.release();
      const { model, topology } = this.analysis;
      const engine = LesionEngine.create(this.runtime, model, topology, this.input, images, {
        preprocessing,
        batchSize,
        // A study cancelled and continued after the model was closed and opened again goes on (lab/lesion.ts):
        // the same bytes (at the same side: it is in the preprocessing), images and provider give the same batches.
        identity: JSON.stringify([this.sha256, images.id, preprocessing, this.session.provider]),
        // The float16 cache narrows and widens block inputs with Casts inside the graphs. onnxruntime-web's WebGPU
        // Cast to or from float16 needs the adapter's shader-f16 feature: without it (SwiftShader, some GPUs) the
        // pipeline is invalid and the lesioned accuracy came out wrong without an error (ResNet-20, block 4
        // removed: 50.2 % on WebGPU against 36.9 %). WebGPU keeps float32 block inputs.
        float16: this.session.provider !== 'webgpu',
      });
      this.lesion = { key, engine };
    }
    return this.lesion.engine;
  }

  /**
   * The lesion engine for an evaluation to run through (it leaves the block-input cache warm for the lesions
   * after it), or null where the network takes no lesions or the set is too large for the cache's budget.
   */
  evaluationEngine(images: ImageSet, preprocessing: Preprocessing, batchSize: number): LesionEngine | null {
    const { model, topology } = this.analysis;
    if (!this.inputInfo || !takesLesions(model, topology)) return null;
    try {
      const engine = this.lesionEngine(images, preprocessing, batchSize);
      return engine.cacheFits ? engine : null;
    } catch (error) {
      // Not one the lesion engine can rewrite (a model that computes in float16): Evaluate runs it as it is.
      if (error instanceof UnsupportedInput || error instanceof ModelError) return null;
      throw error;
    }
  }

  private gradientEngine(): Promise<GradientEngine> {
    if (!this.gradient) {
      const { model, topology } = this.analysis;
      const created = GradientEngine.create(this.runtime, model, topology);
      this.gradient = created;
      created.catch(() => {
        if (this.gradient === created) this.gradient = null;
      });
    }
    return this.gradient;
  }

  /**
   * Layer-wise cross-entropy gradients of one image: norms at the input, stem and every block, the skip / branch
   * split, weight-gradient norms and a saliency map, against the target rule of target.ts.
   */
  async gradients(images: ImageSet, request: ImageTarget): Promise<GradientView> {
    const input = this.input;
    const image = await loadImage(images, request.index, input, request.preprocessing);
    const engine = await this.gradientEngine();
    const choice = chooseTarget(request.target, images.label(request.index), request.useLabel, engine.classes);
    const {
      saliency,
      saliencyDims: _,
      ...result
    } = await engine.run(image.tensor, choice.index, choice.source === 'chosen' ? 'chosen' : 'label');
    return {
      ...result,
      saliency: saliencyMap(saliency, input.side, input.layout, input.channels),
      side: input.side,
      pixels: image.pixels,
      name: images.name(request.index),
      label: images.label(request.index),
    };
  }

  /** The path-length study of one image: Binomial(n, ½), exact per-length sums and sampled paths. */
  async pathStudy(
    images: ImageSet,
    request: PathRequest,
    job: JobContext<PathStudy>,
  ): Promise<PathStudy & { target: number; name: string }> {
    const input = this.input;
    const { model, topology } = this.analysis;
    if (topology.blocks.length === 0) throw new UnsupportedInput(`this network ${noJoinsReason(model)}`);
    const image = await loadImage(images, request.index, input, request.preprocessing);
    const classes = topology.output.shape?.at(-1);
    const choice = chooseTarget(
      request.target,
      images.label(request.index),
      request.useLabel,
      typeof classes === 'number' ? classes : Number.POSITIVE_INFINITY,
    );
    let target = choice.index;
    if (target === null) {
      const { tensor, rows } = oneImageBatch(input, image.tensor);
      const out = await this.session.run({ [input.name]: tensor }, [input.output]);
      const logits = firstImage(out[input.output]!.data as Float32Array, rows);
      target = topOneTarget(logits);
    }
    this.paths ??= new PathEngine(this.runtime, model, topology);
    const { samples, exact, seed } = request;
    const study = await pathStudy(
      this.paths,
      topology.blocks.length,
      image.tensor,
      target,
      { samples, exact, seed },
      job,
    );
    return { ...study, target, name: images.name(request.index) };
  }

  async release(): Promise<void> {
    await this.sessions.release();
    await this.gated?.sessions.release();
    await this.lesion?.engine.release();
    await this.paths?.release();
    await this.gradient?.then((g) => g.release()).catch(() => {});
  }
}
