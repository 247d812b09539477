import type { Preprocessing } from '../renderer/src/core/catalog';
import { oneLine } from '../renderer/src/core/text';
import { ambiguousClass, topK, unrankedOutputs } from '../renderer/src/data/labels';
import { evaluate } from '../renderer/src/lab/evaluate';
import { type AccuracyJson as Accuracy, accuracyJson } from '../renderer/src/lab/export';
import { UnsupportedInput } from '../renderer/src/lab/job';
import { predictOne } from '../renderer/src/lab/predict';
import { modelSessions } from '../renderer/src/lab/sessions';
import { openWork, type Work, type WorkOptions, withProgress } from './work';

export interface PredictOptions extends WorkOptions {
  json: boolean;
}

/** The stable JSON of `skipscope predict --json` (schema "skipscope.predict/1", documented in docs/cli.md). */
export interface PredictJson {
  schema: 'skipscope.predict/1';
  model: { file: string; sha256: string };
  data: Work['header']['data'];
  preprocessing: Preprocessing;
  runtime: { name: string; provider: string };
  /** --image: the top-5 classes. */
  image?: { name: string; top5: { index: number; label: string; probability: number }[] };
  /** --data / --cifar-bin: accuracy with 95 % Wilson intervals, per class, and what was skipped. */
  top1?: Accuracy;
  top5?: Accuracy;
  perClass?: { index: number; label: string; count: number; correct: number }[];
  predictions?: number[];
  skipped?: { name: string; reason: string }[];
  unlabelled?: number;
  /** Images whose outputs held a NaN: no class (prediction −1), scored as wrong. */
  nanOutputs?: number;
  unknownFolders?: string[];
  ignoredFiles?: number;
  /** Every file of a --data folder not in the set, by name with the reason (links out of it, loops, not images…). */
  skippedFiles?: { name: string; reason: string }[];
  ms: number;
}

/** `skipscope predict`: one image's top-5, or accuracy on a labelled set, on onnxruntime-node. */
export async function predict(options: PredictOptions, out: (s: string) => void): Promise<void> {
  const work = await openWork(options, 'predict');
  const { input, source, preprocessing, runtime, labels } = work;
  const sessions = modelSessions(runtime, work.runBytes, input);
  const session = await sessions.forBatch(1);
  const base = {
    schema: 'skipscope.predict/1' as const,
    ...work.header,
    runtime: { name: runtime.name, provider: session.provider },
  };
  try {
    if (source.kind === 'image') {
      const p = await predictOne(sessions, input, source.set, 0, preprocessing);
      const unranked = unrankedOutputs(p.logits, p.name);
      if (unranked) throw new UnsupportedInput(unranked);
      const report: PredictJson = {
        ...base,
        image: { name: p.name, top5: topK(p.logits, labels?.classes ?? [], 5, input.scores) },
        ms: p.ms,
      };
      out(options.json ? JSON.stringify(report, null, 2) : formatImage(report));
      return;
    }
    const result = await withProgress(`evaluating ${source.set.title}`, (job) =>
      evaluate(sessions, input, source.set, { preprocessing, batchSize: runtime.batchSize }, job),
    );
    const report: PredictJson = {
      ...base,
      top1: accuracyJson(result.top1),
      top5: accuracyJson(result.top5),
      perClass: result.perClass.map((c, index) => ({ index, label: labels?.classes[index] ?? `class ${index}`, ...c })),
      predictions: result.predictions,
      skipped: result.skipped.map(({ name, reason }) => ({ name, reason })),
      unlabelled: result.unlabelled,
      nanOutputs: result.nanOutputs,
      unknownFolders: source.unknownFolders,
      ignoredFiles: source.ignored,
      skippedFiles: source.skippedFiles,
      ms: result.ms,
    };
    // A folder named by a class name two classes share ("crane"): said why, with the ids that tell them apart.
    const ambiguous = labels ? source.unknownFolders.flatMap((f) => ambiguousClass(f, labels) ?? []) : [];
    out(options.json ? JSON.stringify(report, null, 2) : formatSet(report, ambiguous));
  } finally {
    await sessions.release();
  }
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)} %`);

function formatImage(r: PredictJson): string {
  return [
    `${r.image!.name} → ${r.model.file} (${r.runtime.provider}, ${r.ms.toFixed(1)} ms)`,
    ...r.image!.top5.map((p, i) => `  ${i + 1}. ${p.label.padEnd(28)} ${pct(p.probability).padStart(8)}`),
  ].join('\n');
}

function formatSet(r: PredictJson, ambiguous: string[] = []): string {
  const acc = (a: Accuracy) => `${pct(a.rate)} (${a.correct}/${a.n}; 95 % Wilson ${pct(a.low)}–${pct(a.high)})`;
  const lines = [
    `${r.model.file} on ${r.data.title}: ${r.data.count} image${r.data.count === 1 ? '' : 's'}${r.skipped?.length ? ` (${r.data.count - r.skipped.length} read, ${r.skipped.length} unreadable)` : ''}, ${r.runtime.provider}, ${(r.ms / 1000).toFixed(1)} s`,
    `  top-1 ${acc(r.top1!)}`,
    `  top-5 ${acc(r.top5!)}`,
  ];
  if (r.unlabelled)
    lines.push(
      `  ${r.unlabelled} image${r.unlabelled === 1 ? '' : 's'} without a label of the model's classes (predicted, not scored)`,
    );
  if (r.nanOutputs)
    lines.push(`  ${r.nanOutputs} images with NaN outputs: no class, scored as wrong (a broken or diverged model?)`);
  if (r.unknownFolders?.length) lines.push(`  folders that name no class: ${r.unknownFolders.join(', ')}`);
  for (const note of ambiguous) lines.push(`    ${oneLine(note, 300)}`);
  if (r.skipped?.length) {
    lines.push(`  ${r.skipped.length} unreadable image${r.skipped.length === 1 ? '' : 's'} skipped:`);
    for (const s of r.skipped.slice(0, 10)) lines.push(`    ${oneLine(s.reason, 300)}`);
    if (r.skipped.length > 10) lines.push(`    … and ${r.skipped.length - 10} more (--json lists them all)`);
  }
  const classes = r.perClass!.filter((c) => c.count > 0);
  if (classes.length && classes.length <= 20) {
    lines.push('  per class:');
    for (const c of classes)
      lines.push(
        `    ${c.label.padEnd(24)} ${String(c.correct).padStart(5)}/${String(c.count).padEnd(5)} ${pct(c.correct / c.count)}`,
      );
  }
  return lines.join('\n');
}
