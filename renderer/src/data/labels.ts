import type { LabelSetName, NamedLabelSet } from './imageSets';

/** A label set: class names by index and, for ImageNet, the WordNet ids. */
export interface LabelSet {
  name: LabelSetName;
  classes: string[];
  /** WordNet id per class (ImageNet), else empty. */
  wnids: string[];
}

/** Parses a label file: one name per line, or a TSV (index, wnid, name; a header line is skipped). */
export function parseLabelSet(name: LabelSetName, text: string): LabelSet {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines[0]?.includes('\t')) {
    const rows = lines.map((l) => l.split('\t'));
    const body = /^\d+$/.test(rows[0]![0]!) ? rows : rows.slice(1);
    return {
      name,
      classes: body.map((r) => r[r.length - 1]!.trim()),
      wnids: body.map((r) => (r.length >= 3 ? r[1]!.trim() : '')),
    };
  }
  return { name, classes: lines.map((l) => l.trim()), wnids: [] };
}

/** The label set a model with `classes` outputs presumably predicts: 10 → CIFAR-10, 1000 → ImageNet. */
export function guessLabelSet(classes: number | null | undefined, channels: 1 | 3 = 3): NamedLabelSet | null {
  // CIFAR-10 and ImageNet are colour: a grey model with 10 outputs is MNIST's kind, its classes unnamed.
  if (channels !== 3) return null;
  if (classes === 10) return 'cifar10';
  if (classes === 1000) return 'imagenet';
  return null;
}

/** The label set a model's outputs are read in: guessLabelSet's, else its classes by index; null when unknown. */
export function labelSetNameOf(classes: number | null | undefined, channels: 1 | 3 = 3): LabelSetName | null {
  return guessLabelSet(classes, channels) ?? indexLabelSet(classes)?.name ?? null;
}

/**
 * The classes of a model whose classes Skipscope cannot name (not CIFAR-10's or ImageNet's count, or a grey model):
 * "class 0" … "class K−1". Images in folders named by the index are labelled with it, so Evaluate and the lesion
 * figures score them.
 */
export function indexLabelSet(classes: number | null | undefined): LabelSet | null {
  if (!(typeof classes === 'number' && Number.isSafeInteger(classes) && classes >= 1 && classes <= 1_000_000))
    return null;
  return {
    name: `classes-${classes}`,
    classes: Array.from({ length: classes }, (_, i) => `class ${i}`),
    wnids: [],
  };
}

const normalise = (s: string) =>
  s
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .trim();

/**
 * The class a folder (or a file-name prefix) names: an ImageNet WordNet id ("n01440764"), or a class name
 * compared without case, spaces, underscores or hyphens ("golden_retriever", "Golden Retriever"). Names that
 * two classes share (ImageNet has a few) are ambiguous: null, like an unknown name.
 */
export function classIndexOf(label: string, set: LabelSet): number | null {
  // Classes known by index only: a folder named by the index ("0" … "9", as MNIST's PNG dumps are laid out).
  if (set.name.startsWith('classes-')) {
    const n = /^\d+$/.test(label) ? Number(label) : -1;
    return n >= 0 && n < set.classes.length ? n : null;
  }
  // WordNet ids in either case ("N02099601" from a system that upper-cases names), as class names are read.
  const wnid = /^([nN]\d{8})(?!\d)/.exec(label)?.[1]?.toLowerCase();
  if (wnid) {
    const i = set.wnids.indexOf(wnid);
    if (i >= 0) return i;
  }
  const named = classesNamed(label, set);
  return named.length === 1 ? named[0]! : null;
}

/** Every class whose name is `label`, compared without case, spaces, underscores or hyphens. */
function classesNamed(label: string, set: LabelSet): number[] {
  const key = normalise(label);
  return set.classes.flatMap((c, i) => (normalise(c) === key ? [i] : []));
}

/**
 * Why a folder name that matches no class matches none, where it names several: ImageNet has two "crane"s (the bird
 * and the machine) and two "maillot"s; "crane: 2 classes have that name (n02012849, n03126707): name the folder by
 * its WordNet id". Null for a name that matches no class at all.
 */
export function ambiguousClass(label: string, set: LabelSet): string | null {
  const matches = classesNamed(label, set);
  if (matches.length < 2) return null;
  const ids = set.wnids.length ? matches.map((i) => set.wnids[i]) : matches.map(String);
  return `${label}: ${matches.length} classes have that name (${ids.join(', ')}): name the folder by ${set.wnids.length ? 'its WordNet id' : 'its class index'}`;
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/**
 * Why one image's outputs rank no classes, or null when they do: a NaN or an infinity among them (softmax then
 * gives NaN probabilities). The one test of the CLI's predict and the app's Run panel, which show probabilities.
 * Scoring a set needs only the order of the outputs (argmaxRow, inTopK): ±∞ keeps an order and is ranked there;
 * NaN has none and is not.
 */
export function unrankedOutputs(logits: ArrayLike<number>, name: string): string | null {
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (!Number.isFinite(v))
      return `the model's output for ${name} is ${Number.isNaN(v) ? 'NaN' : 'infinite'} (a broken or diverged model?): it has no top classes`;
  }
  return null;
}

/**
 * The k most probable classes (finite outputs: see unrankedOutputs): a softmax over logits (which gives
 * log-probabilities back as probabilities); probabilities (a model ending in Softmax) as they are, normalised.
 */
export function topK(
  logits: ArrayLike<number>,
  labels: readonly string[],
  k = 5,
  scores: 'logits' | 'probabilities' | 'log-probabilities' = 'logits',
): Prediction[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) =>
    scores === 'probabilities' ? Math.max(0, logits[i]!) : Math.exp(logits[i]! - max),
  );
  const sum = exps.reduce((a, b) => a + b, 0) || 1;
  return exps
    .map((e, index) => ({ index, label: labels[index] ?? `class ${index}`, probability: e / sum }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}

/** Index of the largest logit of row `row` in a [rows, classes] array; NO_CLASS (−1) when the row holds a NaN. */
export function argmaxRow(logits: ArrayLike<number>, classes: number, row: number): number {
  let best = 0;
  for (let c = 0; c < classes; c++) {
    const v = logits[row * classes + c]!;
    // A NaN output has no class (a diverged or broken model): no prediction, never correct. Comparisons with NaN are
    // all false, so before this check such a row was "class 0" and scored right on every class-0 image.
    if (Number.isNaN(v)) return NO_CLASS;
    if (v > logits[row * classes + best]!) best = c;
  }
  return best;
}

/** argmaxRow's answer for a row of outputs with a NaN in it. */
export const NO_CLASS = -1;

/**
 * Whether `label` is among the `k` largest logits of row `row` (ties counted against it); never for a row with a
 * NaN in it (NaN compares false with everything, so the label would always have counted as in the top k).
 */
export function inTopK(logits: ArrayLike<number>, classes: number, row: number, label: number, k: number): boolean {
  const target = logits[row * classes + label]!;
  let above = 0;
  for (let c = 0; c < classes; c++) {
    const v = logits[row * classes + c]!;
    if (Number.isNaN(v)) return false;
    if (c !== label && v >= target) above++;
  }
  return above < k;
}
