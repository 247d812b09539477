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

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};

/** An integer as a superscript: 27 → "²⁷", -5 → "⁻⁵". */
export function superscript(n: number): string {
  return String(n)
    .split('')
    .map((c) => SUPERSCRIPT[c] ?? c)
    .join('');
}

/** 10 to an integer power as it is written, not typed: -5 → "10⁻⁵". */
export function powerOfTen(exponent: number): string {
  return `10${superscript(exponent)}`;
}

/**
 * Scientific notation for people, not programs: 4.26e-3 → "4.26 × 10⁻³" (`digits` decimals of the mantissa), and no
 * "× 10⁰". A projected "4.26e-3" reads as code from the back of a hall; exports and the CLI keep the e-form.
 */
export function formatScientific(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  const [mantissa, exponent] = x.toExponential(digits).split('e') as [string, string];
  const k = Number(exponent);
  return k === 0 ? mantissa : `${mantissa} × ${powerOfTen(k)}`;
}

/**
 * A measured value in three significant figures, in scientific notation when very small or large: "0.331", "1.82",
 * "4.26 × 10⁻³" ("4.3 × 10⁻³" with `digits` 1), "2.53 × 10⁴". Panels, colour scales, legends and the tour's figures
 * use it.
 */
export function formatValue(x: number, digits = 2): string {
  return x !== 0 && (Math.abs(x) < 1e-2 || Math.abs(x) >= 1e4) ? formatScientific(x, digits) : x.toPrecision(3);
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
