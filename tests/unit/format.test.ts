import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { formatScientific, formatValue } from '../../renderer/src/core/text';
import { decadeLabels, formatDuration, formatFigure, formatLoss } from '../../renderer/src/ui/common/format';
import { JobProgress } from '../../renderer/src/ui/common/JobStatus';

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

describe('formatLoss', () => {
  it('never shows a small loss as zero', () => {
    expect(formatLoss(1.2345678)).toBe('1.2346');
    expect(formatLoss(0.00123)).toBe('0.0012');
    expect(formatLoss(1.234e-7)).toBe('1.23 × 10⁻⁷');
    expect(formatLoss(0)).toBe('0.0000');
    expect(formatLoss(Number.NaN)).toBe('NaN');
  });
});

describe('formatScientific and formatValue', () => {
  it('write powers of ten as people do, never the e-form', () => {
    expect(formatScientific(4.2637e-3)).toBe('4.26 × 10⁻³');
    expect(formatScientific(-2.5e12, 1)).toBe('-2.5 × 10¹²');
    expect(formatScientific(1.23456)).toBe('1.23');
    expect(formatScientific(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(formatValue(0.547123)).toBe('0.547');
    expect(formatValue(5.47123e-5)).toBe('5.47 × 10⁻⁵');
    expect(formatValue(25_300)).toBe('2.53 × 10⁴');
    expect(formatValue(0)).toBe('0.00');
    for (const x of [1e-30, 7.7e-9, 0.0099, 12_345, 9.9e20]) expect(formatValue(x)).not.toMatch(/e[-+]?\d/);
  });
});

describe('JobProgress', () => {
  const text = (progress: { done: number; total: number; etaMs?: number | null }, unit?: string) =>
    renderToString(
      createElement(JobProgress, {
        progress: { elapsedMs: 0, etaMs: null, ...progress },
        unit,
      }),
    ).replace(/<[^>]+>/g, '');
  it('counts in its unit, else as a share; says "preparing…" before any count, not "0 / 0"', () => {
    expect(text({ done: 120, total: 932 }, 'images')).toContain('120 / 932 images');
    expect(text({ done: 486, total: 1053 })).toContain('46 %');
    expect(text({ done: 486, total: 1053 })).not.toContain('1053');
    expect(text({ done: 0, total: 0 }, 'steps')).toContain('preparing…');
    expect(text({ done: 0, total: 0 })).not.toContain('0 / 0');
    expect(text({ done: 10, total: 100, etaMs: 90_000 }, 'points')).toContain('1 min 30 s left');
  });
});

describe('decadeLabels', () => {
  it('writes decades near 1 as plain numbers', () => {
    expect(decadeLabels([-3, -2, -1, 0, 1, 2, 3])).toEqual(['0.001', '0.01', '0.1', '1', '10', '100', '1000']);
  });
  it('writes every decade as a power of ten once one lies far from 1', () => {
    expect(decadeLabels([-6, -4, -2, 0])).toEqual(['10⁻⁶', '10⁻⁴', '10⁻²', '10⁰']);
    expect(decadeLabels([2, 4, 12])).toEqual(['10²', '10⁴', '10¹²']);
  });
});
