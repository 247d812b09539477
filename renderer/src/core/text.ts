/** Text from a file or an error made safe to show: control characters become spaces, long text is cut with an ellipsis. */
export function oneLine(text: string, max = 80): string {
  // \p{Cc}: the Unicode control characters (C0, DEL, C1), which include newlines and tabs.
  const flat = text.replace(/\p{Cc}+/gu, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The first line of an error's message (or of any text), made safe to show: what a user reads. */
export function errorLine(error: unknown, max = 300): string {
  const text = error instanceof Error ? error.message : String(error);
  return oneLine(text.split(/\r?\n/, 1)[0]!.trim(), max);
}
