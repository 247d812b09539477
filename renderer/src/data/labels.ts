/** Parses a label file: one name per line, or a TSV whose last column is the name (header line skipped). */
export function parseLabels(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines[0]?.includes('\t')) {
    const rows = lines.map((l) => l.split('\t'));
    const body = /^\d+$/.test(rows[0]![0]!) ? rows : rows.slice(1);
    return body.map((r) => r[r.length - 1]!.trim());
  }
  return lines.map((l) => l.trim());
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** Softmax over logits, then the k most probable classes. */
export function topK(logits: ArrayLike<number>, labels: readonly string[], k = 5): Prediction[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps
    .map((e, index) => ({ index, label: labels[index] ?? `class ${index}`, probability: e / sum }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

/** Index of the largest logit of row `row` in a [rows, classes] array. */
export function argmaxRow(logits: ArrayLike<number>, classes: number, row: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[row * classes + c]! > logits[row * classes + best]!) best = c;
  return best;
}
