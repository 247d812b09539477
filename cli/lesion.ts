import { takesLesions } from '../renderer/src/core/rewrite/plain';
import { noLesionReason } from '../renderer/src/core/topology/family';
import { blockName } from '../renderer/src/core/topology/types';
import { lesionReport } from '../renderer/src/lab/export';
import { LesionEngine } from '../renderer/src/lab/lesion';
import { runSweep, type SweepRequest, type SweepResult } from '../renderer/src/lab/lesionLab';
import { InputError, openWork, requireLabelled, type Work, type WorkOptions, withProgress } from './work';

export interface LesionOptions extends WorkOptions {
  sweep: SweepRequest;
  json: boolean;
}

/** The stable JSON of `skipscope lesion --json` (schema "skipscope.lesion/2", documented in docs/cli.md). */
export type LesionJson = ReturnType<typeof lesionReport> & Work['header'];

/** `skipscope lesion`: a lesion study of a model on a labelled set, on onnxruntime-node. */
export async function lesion(options: LesionOptions, out: (s: string) => void): Promise<void> {
  const work = await openWork(options, 'lesion');
  const { analysis, input, source, preprocessing, runtime } = work;
  if (!takesLesions(analysis.model, analysis.topology))
    throw new InputError(`${work.file} ${noLesionReason(analysis.model, analysis.topology)}`);
  requireLabelled(work, 'an accuracy');
  // --k larger than the blocks that may be removed: said once on stderr, not run silently as a smaller K.
  const sweep = options.sweep;
  if (sweep.kind === 'random') {
    const eligible = analysis.topology.blocks.filter((b) => sweep.includeDownsampling || !b.downsample).length;
    if (sweep.maxK > eligible)
      process.stderr.write(
        `skipscope: --k ${sweep.maxK}: runs k = 1…${eligible}, the blocks that may be removed${sweep.includeDownsampling ? '' : ' (downsampling blocks stay; --include-downsampling adds them)'}\n`,
      );
  }
  let engine: LesionEngine | null = null;
  const batchSize = options.batch ?? runtime.batchSize;
  const started = performance.now();
  try {
    const result = await withProgress(`lesion study on ${source.set.title}`, (job) =>
      runSweep(
        {
          runtime,
          model: analysis.model,
          topology: analysis.topology,
          input,
          set: source.set,
          preprocessing,
          batchSize,
          engine: () => {
            engine ??= LesionEngine.create(runtime, analysis.model, analysis.topology, input, source.set, {
              preprocessing,
              batchSize,
            });
            return engine;
          },
        },
        options.sweep,
        job,
      ),
    );
    // Labelled, and yet none could be read (every file broken): no figure exists to print.
    if (result.intact.n === 0)
      throw new InputError(
        `no labelled image of ${source.set.title} could be read (${result.skipped.length} skipped): nothing to score`,
      );
    const report: LesionJson = {
      ...lesionReport({ ...work.header, runtime: { name: runtime.name } }, options.sweep, result),
      data: work.header.data,
      ms: performance.now() - started,
    };
    out(options.json ? JSON.stringify(report, null, 2) : format(work, result));
  } finally {
    await (engine as LesionEngine | null)?.release();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

function format(work: Work, r: SweepResult): string {
  const lines = [
    `${work.file} on ${work.source.set.title} (${work.source.set.count} images): intact top-1 ${pct(r.intact.rate)}`,
  ];
  switch (r.kind) {
    case 'single':
      lines.push(
        r.blocks[0]?.layer !== undefined
          ? '  each removable layer taken out (a plain network: its input passed on in its place):'
          : `  each block's ${r.remove === 'branch' ? 'branch F(x) removed (skip kept)' : 'skip cut (branch kept)'}:`,
      );
      for (const b of r.blocks) {
        // A transformer's joins are named by layer and sublayer ("L2 MLP"); a CNN's by stage; a plain net's by layer.
        const t = work.analysis.topology;
        const where =
          b.layer !== undefined
            ? `layer ${b.layer + 1}`.padEnd(9)
            : t.blocks[b.index]?.sublayer
              ? blockName(t, b.index).padEnd(12)
              : `stage ${b.stage + 1}`;
        lines.push(
          `  ${String(b.index + 1).padStart(4)}  ${where}  ${pct(b.score.top1.rate).padStart(8)}  (${pct(b.score.top1.low)}–${pct(b.score.top1.high)})${b.downsample ? '  downsampling' : ''}`,
        );
      }
      break;
    case 'random':
    case 'reorder':
      lines.push(
        `  ${r.kind === 'random' ? `k ${r.ks[0]?.sets[0]?.layers ? 'layers' : 'blocks'} removed at random` : 'k random swaps'} (${r.samples} samples per k, seed ${r.seed}): error mean ± sd [min, max]`,
      );
      for (const k of r.ks)
        lines.push(
          `  k = ${String(k.k).padStart(3)}  ${pct(k.error.mean).padStart(8)} ± ${pct(k.error.sd)}  [${pct(k.error.min)}, ${pct(k.error.max)}]`,
        );
      break;
    case 'stochastic':
      lines.push(`  test-time stochastic depth, ${r.rule} survival, ${r.passes} passes, seed ${r.seed}:`);
      for (const p of r.points)
        lines.push(
          `  p = ${p.p.toFixed(2)}  ${pct(p.score.rate).padStart(8)}  (${pct(p.score.low)}–${pct(p.score.high)}), ${p.meanRemoved.toFixed(1)} blocks removed on average`,
        );
      break;
  }
  if (r.skipped.length)
    lines.push(`  ${r.skipped.length} unreadable image${r.skipped.length === 1 ? '' : 's'} skipped`);
  return lines.join('\n');
}
