import type { Progress } from '../renderer/src/lab/job';

/** Progress on stderr: a redrawn bar on a terminal, a line every 10 % otherwise (logs stay short). */
export function stderrProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): {
  report(p: Progress): void;
  finish(): void;
} {
  let lastTenth = -1;
  let drawn = false;
  return {
    report(p) {
      // Set-up reports (nothing counted yet) carry no fraction to draw.
      if (p.total === 0) return;
      const fraction = p.total ? p.done / p.total : 0;
      const eta = p.etaMs != null && p.done < p.total ? `, ${Math.ceil(p.etaMs / 1000)} s left` : '';
      if (stream.isTTY) {
        const width = 28;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total}${eta}   `);
        drawn = true;
      } else {
        const tenth = Math.floor(fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          stream.write(`${label}: ${p.done}/${p.total}${eta}\n`);
        }
      }
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
