import { errorLine, ZERO_GRADIENT_NOTE } from '../renderer/src/core/text';
import { noJoinsReason } from '../renderer/src/core/topology/family';
import { GradientEngine, type GradientResult } from '../renderer/src/lab/gradients';
import { firstImage, loadImage, oneImageBatch } from '../renderer/src/lab/inputs';
import { PathEngine, type PathStudy, pathStudy } from '../renderer/src/lab/paths';
import type { HostTensor } from '../renderer/src/lab/runtime';
import { modelSessions } from '../renderer/src/lab/sessions';
import { chooseTarget, type TargetChoice, topOneTarget } from '../renderer/src/lab/target';
import { InputError, openWork, type Work, type WorkOptions, withProgress } from './work';

export interface GradOptions extends WorkOptions {
  /** Which image of the set (default 0). */
  index: number;
  target: number | null;
  json: boolean;
}

async function oneImage(work: Work, index: number) {
  const { set } = work.source;
  if (index >= set.count) throw new InputError(`--index ${index}: ${set.title} has ${set.count} image(s)`);
  const { tensor } = await loadImage(set, index, work.input, work.preprocessing).catch((error: unknown) => {
    throw new InputError(errorLine(error));
  });
  return { tensor, name: set.name(index), label: set.label(index) };
}

/**
 * The class of the loss (renderer/src/lab/target.ts, the app's rule): `--target`, else the image's label when the
 * set's labels are the model's classes, else the model's top-1 (index null). A class outside the model: one line.
 */
function targetFor(work: Work, image: { label: number | null }, chosen: number | null, classes: number): TargetChoice {
  const useLabel = work.labels !== null && work.source.set.labelSet === work.labels.name;
  try {
    return chooseTarget(chosen, image.label, useLabel, classes);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new InputError(chosen !== null ? `--target: ${error.message}` : `${work.source.set.title}: ${error.message}`);
  }
}

/** The model's logits for one image (a plain forward pass). */
async function forward(work: Work, tensor: HostTensor): Promise<Float32Array> {
  const sessions = modelSessions(work.runtime, work.runBytes, work.input);
  try {
    const one = oneImageBatch(work.input, tensor);
    const out = await (await sessions.forBatch(1)).run({ [work.input.name]: one.tensor }, [work.input.output]);
    return firstImage(out[work.input.output]!.data as Float32Array, one.rows);
  } finally {
    await sessions.release();
  }
}

/** The stable JSON of `skipscope grad --json` (schema "skipscope.grad/1", docs/cli.md). */
export interface GradJson {
  schema: 'skipscope.grad/1';
  model: { file: string; sha256: string };
  image: { name: string; label: number | null };
  target: { index: number; source: GradientResult['targetSource'] };
  runtime: { name: string; provider: string };
  loss: number;
  norms: {
    input: number;
    stem: number | null;
    blocks: { block: number; stage: number; output: number; skip: number | null; branch: number | null }[];
  };
  weights: { layer: number; name: string; norm: number }[];
  ms: number;
}

/** `skipscope grad`: layer-wise gradient norms of one image's cross-entropy, with the skip / branch split. */
export async function grad(options: GradOptions, out: (s: string) => void): Promise<void> {
  const work = await openWork(options, 'grad');
  const image = await oneImage(work, options.index);
  const { model, topology } = work.analysis;
  const engine = await GradientEngine.create(work.runtime, model, topology);
  try {
    const target = targetFor(work, image, options.target, engine.classes);
    // Index null: the engine finds the model's top-1 itself (one forward pass first).
    const r = await engine.run(image.tensor, target.index, target.source === 'chosen' ? 'chosen' : 'label');
    const report: GradJson = {
      schema: 'skipscope.grad/1',
      model: work.header.model,
      image: { name: image.name, label: image.label },
      target: { index: r.target, source: r.targetSource },
      runtime: { name: work.runtime.name, provider: r.provider },
      loss: r.loss,
      norms: {
        input: r.input,
        stem: r.stem,
        blocks: r.blocks.map((b, i) => ({ block: i + 1, stage: topology.blocks[i]!.stage + 1, ...b })),
      },
      weights: r.weights.map((w) => ({ layer: w.layer, name: model.graph.nodes[w.layer]!.name, norm: w.norm })),
      ms: r.ms,
    };
    out(options.json ? JSON.stringify(report, null, 2) : formatGrad(report));
  } finally {
    await engine.release();
  }
}

const e3 = (x: number | null) => (x === null ? '—' : x.toExponential(3));

function formatGrad(r: GradJson): string {
  const head = `${r.model.file}, ${r.image.name}: cross-entropy ${r.loss.toFixed(4)} against class ${r.target.index} (${r.target.source})`;
  if (r.norms.blocks.length === 0) {
    // A plain net has no blocks to split: its layers' weight gradients are the figure (they fade toward the input
    // in a deep plain net; the block table printed an empty header and "‖∂L/∂stem‖ —").
    const plain = [
      head,
      `  ‖∂L/∂image‖ ${e3(r.norms.input)}; no residual blocks: each weighted layer's ‖∂L/∂W‖, input → output`,
      '  layer  ‖∂L/∂W‖     node',
      ...r.weights.map((w, i) => `  ${String(i + 1).padStart(5)}  ${e3(w.norm).padEnd(10)}  ${w.name}`),
    ];
    if (r.norms.input === 0 && r.weights.every((w) => !w.norm)) plain.push(`  note: ${ZERO_GRADIENT_NOTE}`);
    return plain.join('\n');
  }
  const lines = [
    head,
    `  ‖∂L/∂image‖ ${e3(r.norms.input)}   ‖∂L/∂stem‖ ${e3(r.norms.stem)}`,
    '  block  stage  ‖∂L/∂output‖  into its input: via skip   via branch F',
  ];
  for (const b of r.norms.blocks)
    lines.push(
      `  ${String(b.block).padStart(5)}  ${String(b.stage).padStart(5)}  ${e3(b.output).padStart(12)}  ${e3(b.skip).padStart(23)}  ${e3(b.branch).padStart(11)}`,
    );
  if (r.norms.input === 0 && r.norms.blocks.every((b) => !b.output)) lines.push(`  note: ${ZERO_GRADIENT_NOTE}`);
  return lines.join('\n');
}

export interface PathsOptions extends GradOptions {
  samples: number;
  exact: boolean;
  seed: number;
}

/** The stable JSON of `skipscope paths --json` (schema "skipscope.paths/1"). */
export interface PathsJson extends PathStudy {
  schema: 'skipscope.paths/1';
  model: { file: string; sha256: string };
  image: { name: string; label: number | null };
  target: number;
  measuredAt: 'first block input';
  ms: number;
}

/** `skipscope paths`: the 2ⁿ-path view: binomial lengths, exact per-length sums, sampled path gradients. */
export async function paths(options: PathsOptions, out: (s: string) => void): Promise<void> {
  const work = await openWork(options, 'paths');
  const { model, topology } = work.analysis;
  if (topology.blocks.length === 0) throw new InputError(`${work.file} ${noJoinsReason(model)}`);
  const image = await oneImage(work, options.index);
  const engine = new PathEngine(work.runtime, model, topology);
  const started = performance.now();
  try {
    // The model's classes come from its output; a model that does not declare them is asked (one forward pass).
    let logits = work.input.classes === null ? await forward(work, image.tensor) : null;
    const choice = targetFor(work, image, options.target, work.input.classes ?? logits!.length);
    if (choice.index === null) logits ??= await forward(work, image.tensor);
    const target = choice.index ?? topOneTarget(logits!);
    const study = await withProgress('path study', (job) =>
      pathStudy(
        engine,
        topology.blocks.length,
        image.tensor,
        target,
        { samples: options.samples, exact: options.exact, seed: options.seed },
        job,
      ),
    );
    const report: PathsJson = {
      schema: 'skipscope.paths/1',
      model: work.header.model,
      image: { name: image.name, label: image.label },
      target,
      measuredAt: 'first block input',
      ...study,
      ms: performance.now() - started,
    };
    out(options.json ? JSON.stringify(report, null, 2) : formatPaths(report));
  } finally {
    await engine.release();
  }
}

function formatPaths(r: PathsJson): string {
  const lines = [
    `${r.model.file}: ${r.blocks} blocks, 2^${r.blocks} paths; gradients at the first block's input, ${r.image.name}, class ${r.target}`,
    '  length  share of paths   ‖exact sum‖   mean path ‖g‖ (95 % interval, n)        total = mean × count',
  ];
  for (let k = 0; k <= r.blocks; k++) {
    const s = r.sampled?.[k];
    lines.push(
      `  ${String(k).padStart(6)}  ${r.distribution[k]!.toExponential(3).padStart(14)}  ${(r.exactNorms ? r.exactNorms[k]!.toExponential(3) : '—').padStart(12)}  ${
        s ? `${s.mean.toExponential(3)} (${s.low.toExponential(2)}–${s.high.toExponential(2)}, ${s.samples})` : '—'
      }`.padEnd(90) + (r.contribution ? r.contribution[k]!.toExponential(3) : '—'),
    );
  }
  if (r.effective)
    lines.push(
      `  effective paths: lengths ${r.effective.from}–${r.effective.to} carry ${(100 * r.effective.share).toFixed(1)} % of the total gradient`,
    );
  return lines.join('\n');
}
