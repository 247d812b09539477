import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ChartSvg, fittedRange, wrapWords } from '../../renderer/src/ui/common/charts/Chart';

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

describe("a chart's axis labels stay on the chart", () => {
  const render = (width: number) =>
    renderToString(
      createElement(ChartSvg, {
        title: 'Activation norm by depth',
        xLabel: 'depth (weighted layers from the input)',
        yLabel: 'norm',
        series: [{ name: 'a', color: '#888', kind: 'line', points: [0, 1, 2].map((x) => ({ x, y: x })) }],
        colors: { text: '#000', grid: '#ccc', reference: '#000' },
        width,
        height: 220,
      }),
    );
  it('a label wider than its room is squeezed to fit (SVG textLength), one that fits is left alone', () => {
    const narrow = render(240);
    const m = /<text[^>]*textLength="(\d+)"[^>]*>depth \(weighted layers from the input\)/.exec(narrow);
    expect(m, 'the x label has a textLength').not.toBeNull();
    expect(Number(m![1])).toBeLessThan(240);
    expect(render(900)).not.toMatch(/textLength="\d+"[^>]*>depth/);
  });

  it('a plot too short for two y ticks shows one, never two printed over each other', () => {
    const short = renderToString(
      createElement(ChartSvg, {
        title: 'Cosine similarity by depth',
        xLabel: 'depth',
        yLabel: 'cos',
        series: [{ name: 'a', color: '#888', kind: 'line', points: [0, 1, 2].map((x) => ({ x, y: x / 2 })) }],
        colors: { text: '#000', grid: '#ccc', reference: '#000' },
        width: 300,
        height: 90,
        note: 'a note of several words that wraps onto more than one line in a narrow chart like this one',
      }),
    );
    const ticks = [...short.matchAll(/text-anchor="end"[^>]*>([\d.]+)</g)].map((m) => m[1]);
    expect(ticks.length).toBeLessThanOrEqual(1);
  });
});

describe('a chart of fixed size keeps a plot that reads', () => {
  const note =
    'ResNet-20 (CIFAR-10), 8 images of CIFAR-10 test set (first 932); weights from the file; bars: range over images';
  const props = {
    title: 'Cosine similarity by depth, a title long enough to wrap',
    xLabel: 'depth',
    yLabel: 'cos',
    series: ['vs the first map of the stage of this depth and shape', 'b', 'c'].map((name) => ({
      name,
      color: '#888',
      kind: 'line' as const,
      points: [0, 1, 2].map((x) => ({ x, y: x / 2 })),
    })),
    colors: { text: '#000', grid: '#ccc', reference: '#000' },
    note,
    width: 300,
    height: 260,
    scale: 4 / 3,
  };
  it('cuts the note, then the title, to give the plot 40 % of the height; the whole texts stay on hover', () => {
    const docked = renderToString(createElement(ChartSvg, props));
    const plot = Number(/data-plot-height="(\d+)"/.exec(docked)![1]);
    expect(plot).toBeGreaterThanOrEqual(0.4 * 260);
    // Left out of the drawing, the note is the chart's hover title.
    expect(docked).not.toMatch(/<text[^>]*>[^<]*range over images/);
    expect(docked).toMatch(/^<svg[^>]*><title>ResNet-20 \(CIFAR-10\), 8 images [^<]*range over images<\/title>/);
    // With room for a line of it, the note is cut to that line, ending in "…", its whole text on hover.
    const taller = renderToString(createElement(ChartSvg, { ...props, height: 340 }));
    expect(Number(/data-plot-height="(\d+)"/.exec(taller)![1])).toBeGreaterThanOrEqual(0.4 * 340);
    const shown = [...taller.matchAll(/<text[^>]*data-note-cut="true"[^>]*><title>([^<]*)<\/title>([^<]*)</g)];
    expect(shown.length).toBeGreaterThanOrEqual(1);
    expect(shown[0]![1]).toBe(note);
    expect(shown.at(-1)![2]).toMatch(/…$/);
    // A legend name longer than its row is cut too, the whole name on hover.
    expect(docked).toContain('<title>vs the first map of the stage of this depth and shape</title>');
    // Drawn in place (grow), nothing is cut: the chart grows instead.
    const grown = renderToString(createElement(ChartSvg, { ...props, grow: true }));
    expect(grown).not.toContain('data-note-cut');
    expect(grown).toContain('range over images');
    expect(grown).toContain('a title long enough');
  });
});

describe("a reference line's label is put where no data crosses it", () => {
  const render = (ys: number[]) =>
    renderToString(
      createElement(ChartSvg, {
        title: '‖F(x)‖ / ‖x‖ per residual block',
        xLabel: 'block',
        yLabel: 'ratio',
        series: [{ name: 'r', color: '#888', kind: 'line', points: ys.map((y, i) => ({ x: i + 1, y })) }],
        colors: { text: '#000', grid: '#ccc', reference: '#000' },
        references: [{ y: 1, label: '‖F(x)‖ = ‖x‖' }],
        width: 320,
        height: 240,
      }),
    );
  const anchor = (svg: string) => /<text[^>]*text-anchor="(start|end)"[^>]*>‖F\(x\)‖ = ‖x‖/.exec(svg)?.[1];
  it('at the right end above the line while the data stay clear of it', () => {
    expect(anchor(render([0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]))).toBe('end');
  });
  it('at the left end when a curve rises through the right end (ResNet-20: the last blocks sit above 1)', () => {
    expect(anchor(render([0.6, 0.65, 0.6, 0.9, 0.6, 0.6, 1.7, 1.2, 2]))).toBe('start');
  });
});

describe("a log chart's decades", () => {
  const render = (ys: number[]) =>
    renderToString(
      createElement(ChartSvg, {
        title: 'Gradient norm by depth',
        xLabel: 'block',
        yLabel: 'norm',
        yLog: true,
        series: [{ name: 'a', color: '#888', kind: 'line', points: ys.map((y, x) => ({ x, y })) }],
        colors: { text: '#000', grid: '#ccc', reference: '#000' },
        width: 480,
        height: 300,
      }),
    );
  const ticks = (svg: string) => [...svg.matchAll(/text-anchor="end"[^>]*>([^<]+)</g)].map((m) => m[1]);
  it('reads as numbers near 1 and as powers of ten far from it, never as "1e-2"', () => {
    const near = ticks(render([0.004, 0.05, 0.3]));
    expect(near).toEqual(['0.001', '0.01', '0.1', '1']);
    const far = ticks(render([2e-7, 3e-4, 0.5]));
    expect(far[0]).toBe('10⁻⁷');
    expect(far.at(-1)).toBe('10⁰');
    expect(render([2e-7, 0.5])).not.toMatch(/>1e-?\d/);
  });
});

describe("a fitted y axis (the race's loss and error)", () => {
  it('spans the data with room, ends on round ticks, and keeps within its bounds', () => {
    // Losses of 2.12–2.41 were drawn from 0, the four curves in the top 30 px of the plot.
    const [lo, hi] = fittedRange([2.31, 2.12, 2.41, 2.2], [0, Number.POSITIVE_INFINITY]);
    expect(lo).toBeGreaterThan(1.9);
    expect(lo).toBeLessThan(2.12);
    expect(hi).toBeGreaterThan(2.41);
    expect(hi).toBeLessThan(2.6);
    for (const end of [lo, hi]) expect(Math.abs(end * 20 - Math.round(end * 20))).toBeLessThan(1e-9);
    // An error near 100 % stays within 0–100 %; one near 0 does not dip below 0.
    expect(fittedRange([0.97, 0.99, 0.8], [0, 1])[1]).toBe(1);
    expect(fittedRange([0.01, 0.02, 0.05], [0, 1])[0]).toBe(0);
    // A flat series gets a band around its value; no data, the bounds.
    const [a, b] = fittedRange([0.5, 0.5], [0, 1]);
    expect(a).toBeLessThan(0.5);
    expect(b).toBeGreaterThan(0.5);
    expect(fittedRange([], [0, 1])).toEqual([0, 1]);
    // A flat 0 % error, or errors of 99.9–100 %: ticks that differ (every tick read "0 %", or "99.9 %").
    const [z0, z1] = fittedRange([0, 0, 0], [0, 1]);
    expect(z0).toBe(0);
    expect(z1).toBeGreaterThanOrEqual(0.01);
    const [n0, n1] = fittedRange([0.999, 1], [0, 1]);
    expect(n1).toBe(1);
    expect(n1 - n0).toBeGreaterThanOrEqual(0.01);
    expect(fittedRange([Number.NaN], [0, Number.POSITIVE_INFINITY])).toEqual([0, 1]);
  });
});
