import { describe, expect, it } from 'vitest';
import { formatDuration, formatFigure } from '../../renderer/src/ui/common/format';

describe('formatDuration', () => {
  it('reads naturally at every scale, never "60 s"', () => {
    expect(formatDuration(420)).toBe('420 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(119_600)).toBe('2 min 0 s');
    expect(formatDuration(307_718)).toBe('5 min 8 s');
  });
});

describe('formatFigure', () => {
  it('says when a count is unknown or only a lower bound', () => {
    expect(formatFigure(1_460_000)).toBe('1.46 M');
    expect(formatFigure(1_460_000, false)).toBe('≥ 1.46 M');
    expect(formatFigure(null)).toBe('unknown');
  });
});
