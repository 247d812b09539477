import { describe, expect, it } from 'vitest';
import { wrapWords } from '../../renderer/src/ui/common/charts/Chart';

describe("a chart's note wraps instead of running past the card", () => {
  it('breaks at spaces within the width, keeps every word, and gives an over-long word its own line', () => {
    const note = 'thin: recorded runs (10,000 CIFAR-10 images, batch 128); solid: training error, dashed: test error';
    const lines = wrapWords(note, 40);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines.join(' ')).toBe(note);
    expect(wrapWords('a supercalifragilistic b', 5)).toEqual(['a', 'supercalifragilistic', 'b']);
    expect(wrapWords('short', 40)).toEqual(['short']);
    expect(wrapWords('', 40)).toEqual([]);
  });
});
