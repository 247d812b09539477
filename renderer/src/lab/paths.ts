import { exactPathGraph, type PathGraph, type SampledPathGraph, sampledPathGraph } from '../core/autodiff/paths';
import { encodeModel } from '../core/onnx/encode';
import { type Model, ModelError } from '../core/onnx/model';
import { errorLine } from '../core/text';
import type { Topology } from '../core/topology/types';
import { finiteLoss, lossFeeds } from './gradients';
import { between, type JobContext } from './job';
import { float32, type HostTensor, type Runtime, type Session } from './runtime';
import { seededRandom } from './stats';

/**
 * log C(n, k) for k = 0…n by the recurrence C(n, k) = C(n, k − 1) · (n − k + 1)/k in log space: no factorial
 * overflows, and the rounding error grows only with the number of terms (≈ 1e-12 at n = 10,000).
 */
export function logBinomials(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`path lengths need a whole number of blocks, not ${n}`);
  const out = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) out[k] = out[k - 1]! + Math.log(n - k + 1) - Math.log(k);
  return out;
}

/** P(length = k) of a path picked uniformly among the 2ⁿ: Binomial(n, ½). */
export function pathLengthDistribution(n: number): Float64Array {
  const log = logBinomials(n);
  const ln2n = n * Math.LN2;
  return log.map((l) => Math.exp(l - ln2n));
}

/** The shortest range of lengths holding at least `share` of `weights` (the "effective paths"). */
export function effectiveRange(weights: ArrayLike<number>, share = 0.9): { from: number; to: number; share: number } {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  let best = { from: 0, to: weights.length - 1, share: 1 };
  let lo = 0;
  let sum = 0;
  for (let hi = 0; hi < weights.length; hi++) {
    sum += weights[hi]!;
    while (lo < hi && sum - weights[lo]! >= share * total) sum -= weights[lo++]!;
    if (sum >= share * total && hi - lo < best.to - best.from) best = { from: lo, to: hi, share: sum / total };
  }
  return best;
}

export interface PathStudy {
  blocks: number;
  /** Binomial(n, ½): the share of all 2ⁿ paths at each length. */
  distribution: number[];
  /** ‖Σ of the gradients of all paths of length k‖ at the first block's input (exact, one pass). */
  exactNorms: number[] | null;
  /**
   * Sampled: mean and 95 % interval of one path's gradient norm at each length, and the samples taken. A length
   * with no more paths than samples has them all enumerated (`all`): its mean is exact, its interval that point.
   */
  sampled: { mean: number; low: number; high: number; samples: number; all: boolean }[] | null;
  /** Sampled mean × number of paths of that length: the total gradient magnitude per length (Veit et al., fig. 6). */
  contribution: number[] | null;
  /** Lengths carrying 90 % of that total. */
  effective: { from: number; to: number; share: number } | null;
  loss: number | null;
}

/** Sessions for the path graphs of one model, built on first use. */
export class PathEngine {
  // Promises, so two studies that start together share one session instead of leaking one.
  private exact: Promise<{ graph: PathGraph; session: Session }> | null = null;
  private sampled: Promise<{ graph: SampledPathGraph; session: Session }> | null = null;

  constructor(
    private readonly runtime: Runtime,
    private readonly model: Model,
    private readonly topology: Topology,
  ) {}

  /**
   * The image and its target, once (broadcast feeding), or once per backward row (replicated feeding): `rows`
   * copies, the loss weighted 1 on the first row only (`seedAll` false: the exact graph seeds length 0) or on
   * every row (the sampled graph: one path per row).
   */
  private feeds(
    graph: PathGraph,
    image: HostTensor,
    target: number,
    rows: number,
    seedAll: boolean,
  ): Record<string, HostTensor> {
    if (graph.feeding === 'broadcast') return { [graph.image]: image, ...lossFeeds(graph.feeds, [target]) };
    const data = image.data as Float32Array;
    const tiled = new Float32Array(data.length * rows);
    for (let r = 0; r < rows; r++) tiled.set(data, r * data.length);
    return {
      [graph.image]: float32(tiled, [rows, ...image.dims.slice(1)]),
      ...lossFeeds(
        graph.feeds,
        new Array<number>(rows).fill(target),
        Array.from({ length: rows }, (_, r) => (seedAll || r === 0 ? 1 : 0)),
      ),
    };
  }

  /** Exact per-length sums for one image [1, …]: norms, and the sums themselves (rows = lengths 0…n). */
  exactSums(image: HostTensor, target: number): Promise<{ norms: Float32Array; sums: HostTensor; loss: number }> {
    return this.guard(() => this.exactSumsOnce(image, target));
  }

  private async exactSumsOnce(
    image: HostTensor,
    target: number,
  ): Promise<{ norms: Float32Array; sums: HostTensor; loss: number }> {
    this.exact ??= (async () => {
      const graph = exactPathGraph(this.model, this.topology);
      return { graph, session: await this.runtime.createSession(encodeModel(graph.model)) };
    })();
    const { graph, session } = await this.exact;
    const out = await session.run(this.feeds(graph, image, target, graph.blocks + 1, false));
    return {
      norms: out[graph.norms]!.data as Float32Array,
      sums: out[graph.grads]!,
      loss: finiteLoss(Number((out[graph.loss]!.data as Float32Array)[0])),
    };
  }

  /** Gradient norms of the given paths (each a boolean per block: true = takes the branch). */
  pathNorms(image: HostTensor, target: number, paths: readonly boolean[][]): Promise<Float32Array> {
    return this.guard(() => this.pathNormsOnce(image, target, paths));
  }

  private async pathNormsOnce(image: HostTensor, target: number, paths: readonly boolean[][]): Promise<Float32Array> {
    this.sampled ??= (async () => {
      const graph = sampledPathGraph(this.model, this.topology);
      return { graph, session: await this.runtime.createSession(encodeModel(graph.model)) };
    })();
    const { graph, session } = await this.sampled;
    const s = paths.length;
    const feeds = this.feeds(graph, image, target, s, true);
    graph.gates.forEach((g, l) => {
      const branch = new Float32Array(s);
      const skip = new Float32Array(s);
      paths.forEach((p, i) => {
        branch[i] = p[l] ? 1 : 0;
        skip[i] = p[l] ? 0 : 1;
      });
      const dims = [
        s,
        ...graph.model.graph.inputs
          .find((x) => x.name === g.branch)!
          .shape!.slice(1)
          .map(() => 1),
      ];
      feeds[g.branch] = float32(branch, dims);
      feeds[g.skip] = float32(skip, dims);
    });
    const out = await session.run(feeds, [graph.norms, graph.loss]);
    finiteLoss(Number((out[graph.loss]!.data as Float32Array)[0]));
    return out[graph.norms]!.data as Float32Array;
  }

  /**
   * Paths travel along the batch axis, so a model exported with a fixed batch whose blocks reshape across it
   * (Swin's windows) cannot carry them: onnxruntime refuses the path graph, and that is the file's limit, said in
   * one line.
   */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const batch = this.model.graph.inputs.find((i) => i.name === this.topology.input.name)?.shape?.[0];
      if (typeof batch !== 'number' || error instanceof ModelError) throw error;
      if (error instanceof Error && error.name === 'CancelledError') throw error;
      throw new ModelError(
        `${this.model.name}: its batch axis is fixed at ${batch}, and the path study carries paths along the batch; export it with a dynamic batch axis (dynamic_axes in torch.onnx.export) to study its paths (onnxruntime: ${errorLine(error, 160)})`,
      );
    }
  }

  async release(): Promise<void> {
    await this.exact?.then((e) => e.session.release()).catch(() => {});
    await this.sampled?.then((s) => s.session.release()).catch(() => {});
  }
}

/** A random path of length k through n blocks (k distinct branches, uniformly). */
export function randomPath(n: number, k: number, random: () => number): boolean[] {
  const path = new Array<boolean>(n).fill(false);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
    path[order[i]!] = true;
  }
  return path;
}

/** Every path of length k through n blocks (use only where C(n, k) is small). */
export function combinations(n: number, k: number): boolean[][] {
  const out: boolean[][] = [];
  const pick = (from: number, left: number, path: boolean[]) => {
    if (left === 0) {
      out.push([...path]);
      return;
    }
    for (let i = from; i <= n - left; i++) {
      path[i] = true;
      pick(i + 1, left - 1, path);
      path[i] = false;
    }
  };
  pick(0, k, new Array<boolean>(n).fill(false));
  return out;
}

/**
 * The path-length study for one image: the binomial distribution, the exact per-length sums, and per length
 * `samples` random paths' gradient norms (batched `batch` paths per run), with progress and cancellation.
 */
export async function pathStudy(
  engine: PathEngine,
  blocks: number,
  image: HostTensor,
  target: number,
  options: { samples: number; exact: boolean; seed?: number; batch?: number },
  job: JobContext<PathStudy>,
): Promise<PathStudy> {
  const distribution = Array.from(pathLengthDistribution(blocks));
  const study: PathStudy = {
    blocks,
    distribution,
    exactNorms: null,
    sampled: null,
    contribution: null,
    effective: null,
    loss: null,
  };
  // Progress counts path rows, each a row of a batched backward pass: the exact sums carry n + 1 rows, a length
  // its enumerated or sampled paths. Counting lengths instead (1, 27, then 64 paths each for ResNet-56) made the
  // first ones look as costly as the rest: the time left read 2–4× low at 10–17 % done.
  const log = logBinomials(blocks);
  const pathsAt = (k: number) => {
    const all = Math.exp(log[k]!);
    return all <= options.samples + 0.5 ? Math.round(all) : options.samples;
  };
  const exactRows = options.exact ? blocks + 1 : 0;
  let total = exactRows;
  if (options.samples > 0) for (let k = 0; k <= blocks; k++) total += pathsAt(k);
  let done = 0;
  job.progress(done, total, study, 'starting');
  if (options.exact) {
    const r = await engine.exactSums(image, target);
    study.exactNorms = Array.from(r.norms);
    study.loss = r.loss;
    done += exactRows;
    job.progress(done, total, study, 'exact per-length sums');
  }
  if (options.samples > 0) {
    const random = seededRandom(options.seed ?? 1);
    const sampled: NonNullable<PathStudy['sampled']> = [];
    const batch = options.batch ?? 64;
    for (let k = 0; k <= blocks; k++) {
      await between(job); // paused: held between two lengths
      // Lengths with no more paths than samples are enumerated; the others sampled uniformly.
      const enumerated = Math.exp(log[k]!) <= options.samples + 0.5;
      const paths = enumerated
        ? combinations(blocks, k)
        : Array.from({ length: options.samples }, () => randomPath(blocks, k, random));
      const norms: number[] = [];
      for (let start = 0; start < paths.length; start += batch)
        norms.push(...(await engine.pathNorms(image, target, paths.slice(start, start + batch))));
      const mean = norms.reduce((a, b) => a + b, 0) / norms.length;
      const sd = Math.sqrt(norms.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, norms.length - 1));
      const half = !enumerated && norms.length > 1 ? (1.96 * sd) / Math.sqrt(norms.length) : 0;
      sampled.push({ mean, low: Math.max(0, mean - half), high: mean + half, samples: norms.length, all: enumerated });
      study.sampled = [...sampled];
      done += paths.length;
      job.progress(done, total, study, `length ${k}: ${norms.length} paths`);
    }
    study.contribution = sampled.map((s, k) => s.mean * Math.exp(log[k]!));
    study.effective = effectiveRange(study.contribution);
  }
  job.progress(total, total, study, 'done');
  return study;
}
