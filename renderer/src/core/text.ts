/** Text from a file or an error made safe to show: control characters become spaces, long text is cut with an ellipsis. */
export function oneLine(text: string, max = 80): string {
  // \p{Cc}: the Unicode control characters (C0, DEL, C1), which include newlines and tabs; U+2028 and U+2029 are
  // line and paragraph breaks too. The bidirectional controls go: a name with U+202E shown the rest of its message
  // reversed. The cut never splits a surrogate pair (half an emoji).
  const flat = text
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, '');
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/** The first line of an error's message (or of any text), made safe to show: what a user reads. */
export function errorLine(error: unknown, max = 300): string {
  const text = error instanceof Error ? error.message : String(error);
  return oneLine(text.split(/\r?\n/, 1)[0]!.trim(), max);
}

/**
 * A measured value in three significant figures, in scientific notation when very small or large: "0.331", "1.82",
 * "4.26e-3" ("4.3e-3" with `digits` 1), "2.53e+4". Colour scales, legends and the tour's figures use it.
 */
export function formatValue(x: number, digits = 2): string {
  return x !== 0 && (Math.abs(x) < 1e-2 || Math.abs(x) >= 1e4) ? x.toExponential(digits) : x.toPrecision(3);
}

/** Byte counts in binary units, as every message and view shows them: "932 bytes", "1.0 MiB", "44.6 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Characters a terminal acts on rather than shows: C0 controls but the newline, DEL, C1 controls (ESC and CSI start
 * escape sequences; CR rewrites a line) and the bidirectional overrides that reorder what is shown.
 */
const UNSAFE = /(?!\n)[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const UNSAFE_RUNS = /(?:(?!\n)[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069])+/gu;

/**
 * Output made safe for a terminal, whatever a file put into the names and strings it holds (producer, node and
 * image file names): the one filter every printer of the CLI writes through. Text: each run of such characters
 * becomes one space (newlines kept). JSON: each is written as its \uXXXX escape, so the document stays valid and
 * means the same (JSON.stringify escapes C0 controls itself, but not DEL, C1 or the bidirectional overrides).
 */
export function printable(text: string, json = false): string {
  if (json) return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.replace(UNSAFE_RUNS, ' ');
}

/**
 * Said when every gradient is exactly zero: the loss does not depend on the input or the blocks. A classifier head
 * of zeros does this (a freshly initialised torchvision ViT has one), as does a network whose output is constant.
 */
export const ZERO_GRADIENT_NOTE =
  'every gradient is exactly zero: the loss does not depend on the image (a classifier head of zeros, as in a freshly initialised torchvision ViT, does this)';
