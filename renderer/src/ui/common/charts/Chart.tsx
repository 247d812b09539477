import { createContext, forwardRef, useContext, useRef, useState } from 'react';
import { createPortal, flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { formatScientific } from '../../../core/text';
import { themes } from '../../../scene/theme';
import { useApp, useServices } from '../../../store/store';
import { saveBytes } from '../exportReport';
import { decadeLabels } from '../format';
import { useBoxSize } from '../stageInsets';

/** One data point; `low`/`high` draw an interval, `marked` a ring (e.g. a downsampling block). */
export interface ChartPoint {
  x: number;
  y: number;
  low?: number;
  high?: number;
  marked?: boolean;
  /** Shown on hover (SVG title). */
  label?: string;
}

export interface ChartSeries {
  name: string;
  color: string;
  kind: 'line' | 'points' | 'bars';
  points: ChartPoint[];
  /** A line's stroke width (default 2) and dash pattern (SVG stroke-dasharray); its legend chip is then a line. */
  strokeWidth?: number;
  dash?: string;
  /** Left out of the legend (e.g. a test curve drawn dashed in its training curve's colour, which the note explains). */
  unlisted?: boolean;
}

export interface ChartProps {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  colors: { text: string; grid: string; reference: string };
  /** y range; default from the data. */
  yRange?: [number, number];
  /**
   * Fit the linear y axis to the data, within these bounds, instead of from zero: a race's losses of 2.1–2.4 drawn
   * from 0 left four tangled curves in the top 30 px of the plot. Ends on round ticks.
   */
  yFit?: [number, number];
  /** Horizontal reference lines (e.g. the intact accuracy). */
  references?: { y: number; label: string }[];
  /** Tick labels for the x axis; default numeric ticks. */
  xTicks?: { x: number; label: string }[];
  /** Formats y tick labels. */
  yFormat?: (y: number) => string;
  /** Log-scale y axis (values ≤ 0 are left out); ticks at powers of ten. */
  yLog?: boolean;
  /** Shaded x ranges (e.g. the lengths of the effective paths). */
  bands?: { from: number; to: number; label: string; color: string }[];
  /** A note under the chart (settings, sample sizes): exported with it. */
  note?: string;
  /** Draw a dot at every point of a line (default); off for long curves. */
  lineDots?: boolean;
  /** Leave the series legend out (e.g. one line per block, explained in the note). */
  hideLegend?: boolean;
  width?: number;
  height?: number;
  testId?: string;
  /** Called with the x under the pointer (null when it leaves): links the chart to the 3D blocks. */
  onHoverX?: (x: number | null) => void;
  /** An x to show as hovered when the pointer is elsewhere (e.g. the block hovered in 3D). */
  highlightX?: number | null;
}

/** Font sizes at scale 1 (px): tick labels stay ≥ 12 px; presentation scales them to ≥ 16 px. */
const FONT = { title: 14, axis: 13, tick: 12, legend: 12, note: 12 };
/** The font scale in presentation mode: the smallest text (ticks, 12 px) becomes 16 px. */
export const PRESENTATION_SCALE = 16 / 12;

/**
 * Where charts go: the stage's chart dock while a lab with charts is shown (its element), or null (the chart draws
 * in place, as in the race and landscape workspaces, which are the stage themselves).
 */
export const StageDock = createContext<HTMLElement | null>(null);

/**
 * A chart. On the stage (a StageDock is provided), it is drawn in a card in the dock at the dock's size, with a
 * header to enlarge it to the whole stage and to export it (SVG, PNG, CSV); elsewhere it is drawn in place.
 */
export const Chart = forwardRef<SVGSVGElement, ChartProps>(function Chart(props, ref) {
  const dock = useContext(StageDock);
  const presentation = useApp((s) => s.presentation);
  if (!dock) {
    // In place (the race and landscape workspaces): presentation draws the chart larger as a whole.
    const k = presentation ? PRESENTATION_SCALE : 1;
    return (
      <ChartSvg
        ref={ref}
        {...props}
        width={(props.width ?? 560) * k}
        height={(props.height ?? 300) * k}
        scale={k}
        grow
      />
    );
  }
  return createPortal(<ChartCard {...props} svgRef={ref} scale={presentation ? PRESENTATION_SCALE : 1} />, dock);
});

/** A chart on the stage: header (title, enlarge, exports) and the chart at the card's measured size. */
function ChartCard(
  props: ChartProps & { svgRef: React.ForwardedRef<SVGSVGElement>; scale: number },
): React.ReactElement {
  const { svgRef, scale, ...chart } = props;
  const id = chart.testId ?? chart.title;
  const enlarged = useApp((s) => s.stageChart === id);
  const setStageChart = useApp((s) => s.setStageChart);
  const { host } = useServices();
  const box = useRef<HTMLDivElement>(null);
  const own = useRef<SVGSVGElement | null>(null);
  const size = useBoxSize(box);
  // What the exports save (this card's buttons and the panel's, through svgText and svgToPng): the chart drawn
  // when asked, at a slide's proportions with its whole title and note, whatever the card's size on screen.
  const latest = useRef(chart);
  latest.current = chart;
  const setRefs = (el: SVGSVGElement | null) => {
    own.current = el;
    if (el) exportDrawings.set(el, () => drawExport(latest.current));
    if (typeof svgRef === 'function') svgRef(el);
    else if (svgRef) svgRef.current = el;
  };
  const base = (chart.testId ?? 'chart').replace(/[^a-z0-9-]+/gi, '-');
  const background = useApp((s) => s.theme);
  return (
    <figure
      className={`stage-chart${enlarged ? ' enlarged' : ''}`}
      data-testid={chart.testId ? `${chart.testId}-card` : undefined}
      data-chart={id}
    >
      <figcaption className="stage-chart-bar">
        <button
          type="button"
          aria-pressed={enlarged}
          onClick={() => setStageChart(enlarged ? null : id)}
          title={enlarged ? 'Back to the network and every chart (Esc)' : 'Fill the stage with this chart'}
          data-testid={chart.testId ? `${chart.testId}-enlarge` : undefined}
        >
          {enlarged ? 'Restore' : 'Enlarge'}
        </button>
        <button
          type="button"
          onClick={() =>
            own.current &&
            void saveBytes(host, `${base}.svg`, new TextEncoder().encode(svgText(own.current)), 'image/svg+xml')
          }
        >
          SVG
        </button>
        <button
          type="button"
          onClick={() =>
            own.current &&
            void svgToPng(own.current, slideScale(EXPORT_SIZE.width), themes[background].background).then((png) =>
              saveBytes(host, `${base}.png`, png, 'image/png'),
            )
          }
        >
          PNG
        </button>
        <button
          type="button"
          onClick={() =>
            void saveBytes(host, `${base}.csv`, new TextEncoder().encode(chartCsv(chart.series)), 'text/csv')
          }
          data-testid={chart.testId ? `${chart.testId}-card-csv` : undefined}
        >
          CSV
        </button>
      </figcaption>
      <div className="stage-chart-body" ref={box}>
        {size && <ChartSvg ref={setRefs} {...chart} width={size.width} height={size.height} scale={scale} />}
      </div>
    </figure>
  );
}

/** A docked chart's exports are drawn at this size (16:9), taller when its note needs the room. */
export const EXPORT_SIZE = { width: 960, height: 540 } as const;

/** How each docked chart on screen draws its export (only while it is on screen: the map holds it weakly). */
const exportDrawings = new WeakMap<SVGSVGElement, () => SVGSVGElement>();

/** The chart at EXPORT_SIZE with every word, drawn off screen when asked (no second copy is kept in the page). */
function drawExport(props: ChartProps): SVGSVGElement {
  const holder = document.createElement('div');
  const root = createRoot(holder);
  flushSync(() =>
    root.render(<ChartSvg {...props} testId={undefined} width={EXPORT_SIZE.width} height={EXPORT_SIZE.height} grow />),
  );
  const svg = holder.firstElementChild!.cloneNode(true) as SVGSVGElement;
  root.unmount();
  return svg;
}

/** What an export of `svg` saves: a docked chart's full drawing, else the chart as shown. */
function exportable(svg: SVGSVGElement): SVGSVGElement {
  return exportDrawings.get(svg)?.() ?? svg;
}

/** PNG exports are slide-sized: at least 1920 px wide. */
function slideScale(width: number): number {
  return Math.max(2, 1920 / Math.max(1, width));
}

/** Every point of every series as CSV rows: series, x, y, low, high, label. */
export function chartCsv(series: readonly ChartSeries[]): string {
  const q = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = ['series,x,y,low,high,label'];
  for (const s of series)
    for (const p of s.points) rows.push([q(s.name), p.x, p.y, p.low ?? '', p.high ?? '', q(p.label ?? '')].join(','));
  return `${rows.join('\n')}\n`;
}

/** The chart's props as drawn: its scale, and whether a long legend or note may make it taller (drawn in place). */
type SvgProps = ChartProps & { scale?: number; grow?: boolean };

/**
 * A self-contained SVG chart: every colour and font is an attribute (no CSS), so the exported file looks the same
 * as the screen in any viewer. Hovering the plot shows the values at the nearest x.
 */
export const ChartSvg = forwardRef<SVGSVGElement, SvgProps>(function ChartSvg(props, ref) {
  const { colors, width = 560, scale: k = 1 } = props;
  const fs = {
    title: FONT.title * k,
    axis: FONT.axis * k,
    tick: FONT.tick * k,
    legend: FONT.legend * k,
    note: FONT.note * k,
  };
  const log = !!props.yLog;
  // On a log axis everything is drawn in log10 units; points with no logarithm are left out.
  const ty = (y: number) => (log ? Math.log10(y) : y);
  const series = log
    ? props.series.map((s) => ({
        ...s,
        points: s.points
          .filter((p) => p.y > 0)
          .map((p) => ({
            ...p,
            y: ty(p.y),
            // An interval reaching 0 has no lower end on a log axis: it is drawn from the point up.
            ...(p.low !== undefined ? { low: p.low > 0 ? ty(p.low) : ty(p.y) } : {}),
            ...(p.high !== undefined ? { high: ty(p.high) } : {}),
          })),
      }))
    : props.series;
  const references = (props.references ?? []).filter((r) => !log || r.y > 0).map((r) => ({ ...r, y: ty(r.y) }));
  // The note wraps at spaces to the chart's width (the same glyph-width estimate as the legend's), never clipped.
  const noteChars = (width - 46 * k - fs.tick * 2.2 - 8 * k) / (fs.note * 0.58);
  const fullNote = props.note ? wrapWords(props.note, noteChars) : [];
  // The title wraps the same way (two charts side by side on the stage each get half its width).
  const titleChars = (width - 62 * k - fs.tick * 2.2) / (fs.title * 0.6);
  const fullTitle = wrapWords(props.title, titleChars);
  // The legend sits above the plot, never on the data: its items flow in rows under the title.
  const legendItems = series.length > 1 && !props.hideLegend ? series.filter((s) => !s.unlisted) : [];
  const legendRows: {
    name: string;
    full: string;
    color: string;
    x: number;
    row: number;
    /** A styled line's chip: a stroke of its width and dash (a square cannot say thin, bold or dashed). */
    line?: { width: number; dash?: string };
  }[] = [];
  {
    let x = 0;
    let row = 0;
    // Items start at the plot's left edge and end before its right one; a name too long for a row of its own is
    // cut with "…" (the whole name on hover).
    const room = width - (46 * k + fs.tick * 2.2) - 16 * k;
    const glyph = fs.legend * 0.6;
    for (const s of legendItems) {
      const fits = Math.floor((room - 34 * k) / glyph);
      const name = s.name.length > fits ? `${s.name.slice(0, Math.max(1, fits - 1)).trimEnd()}…` : s.name;
      const w = 18 * k + name.length * glyph + 16 * k;
      if (x > 0 && x + w > room) {
        row++;
        x = 0;
      }
      const styled = s.kind === 'line' && (s.strokeWidth !== undefined || s.dash !== undefined);
      legendRows.push({
        name,
        full: s.name,
        color: s.color,
        x,
        row,
        ...(styled ? { line: { width: s.strokeWidth ?? 2, ...(s.dash ? { dash: s.dash } : {}) } } : {}),
      });
      x += w;
    }
  }
  const legendHeight = legendItems.length ? (legendRows[legendRows.length - 1]!.row + 1) * (fs.legend + 6) + 4 : 0;
  // Shaded bands are named in a row of their own just above the plot (inside it they covered the bars or hid
  // under them).
  const bandRow = props.bands?.length ? fs.note + 8 : 0;
  const bottomPad = fs.tick + fs.axis + 22 * k;
  const linesHeight = (n: number, size: number) => (n ? n * (size + 4) + 4 : 0);
  const titleHeightOf = (n: number) => fs.title + Math.max(0, n - 1) * (fs.title + 4);
  // A chart of fixed size (a card in the stage's dock) keeps a plot that reads: when the note, the wrapped title and
  // the legend would leave it less than 40 % of the chart, the note is cut to fewer lines, then the title to one,
  // each ending in "…" with the whole text on hover (and in the card's exports, drawn at full size), and as a last
  // resort the note is left out. A docked chart in presentation at 1280×720 once kept a plot 15 px tall under five
  // lines of note.
  let noteLines = fullNote;
  let titleLines = fullTitle;
  if (!props.grow) {
    const total = props.height ?? 300;
    const minPlot = Math.max(60 * k, 0.4 * total);
    const plotOf = () =>
      total -
      (titleHeightOf(titleLines.length) + 14 * k + legendHeight + bandRow) -
      bottomPad -
      linesHeight(noteLines.length, fs.note);
    for (let n = fullNote.length - 1; n >= 1 && plotOf() < minPlot; n--) noteLines = cut(fullNote, n, noteChars);
    if (plotOf() < minPlot && fullTitle.length > 1) titleLines = cut(fullTitle, 1, titleChars);
    // Still short (a legend of several rows): the note goes; Enlarge and the exports show it.
    if (plotOf() < minPlot) noteLines = [];
  }
  const noteCut = noteLines !== fullNote;
  const noteHeight = linesHeight(noteLines.length, fs.note);
  const titleHeight = titleHeightOf(titleLines.length);
  // Two wrapped lines may read the same: each keeps its position as its key. A trailing space keeps the words apart
  // in the text content, as the note's rows do.
  const titleRows = titleLines.map((line, at) => ({
    text: at < titleLines.length - 1 ? `${line} ` : line,
    dy: at === 0 ? 0 : fs.title + 4,
    id: `line${at}`,
  }));
  const PAD = {
    left: 46 * k + fs.tick * 2.2,
    right: 16 * k,
    top: titleHeight + 14 * k + legendHeight + bandRow,
    bottom: bottomPad,
  };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const bars = series.some((s) => s.kind === 'bars');
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const ys = [...all.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]), ...references.map((r) => r.y)];
  const [yMin, yMax] = props.yRange
    ? [ty(props.yRange[0]), ty(props.yRange[1])]
    : log
      ? logRange(ys)
      : props.yFit
        ? fittedRange(ys, props.yFit)
        : [Math.min(0, ...ys), Math.max(...ys, 1e-9)];
  const plotW = width - PAD.left - PAD.right;
  // Drawn in place (not in a stage card of fixed size), a long legend or note makes the chart taller rather than
  // squeezing the plot below 160 px.
  const height = Math.max(props.height ?? 300, props.grow ? PAD.top + PAD.bottom + noteHeight + 160 * k : 0);
  const plotH = height - PAD.top - PAD.bottom - noteHeight;
  // A trailing space keeps the words apart in the SVG's text content (copy, search, tests).
  const noteRows = noteLines.map((line, i) => ({
    text: i < noteLines.length - 1 ? `${line} ` : line,
    y: height - 6 - (noteLines.length - 1 - i) * (fs.note + 4),
  }));
  // Bars sit in slots centred on their x; lines and points span the width with a small margin.
  const slots = xMax - xMin + 1;
  const X = (x: number) => round1(xRaw(x));
  const xRaw = (x: number) =>
    bars
      ? PAD.left + ((x - xMin + 0.5) / slots) * plotW
      : PAD.left + 8 + (xMax === xMin ? (plotW - 16) / 2 : ((x - xMin) / (xMax - xMin)) * (plotW - 16));
  const Y = (y: number) => round1(PAD.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH);
  const decades = Math.max(1, yMax - yMin);
  // As many y ticks as the plot's height holds apart (a docked chart's short plot once printed four decades on top
  // of each other): at most 8 decades or 5 steps, fewer when the plot is short.
  const fit = Math.max(1, Math.floor(plotH / (fs.tick + 8)));
  const decadeStep = Math.ceil(decades / Math.min(8, fit));
  const allTicks = log
    ? Array.from({ length: Math.floor(decades / decadeStep) + 1 }, (_, i) => yMin + i * decadeStep)
    : linearTicks(yMin, yMax, Math.min(5, fit));
  // A plot too short for two ticks apart shows its top one only (two printed over each other, "1.00" on "0.00").
  const yTicks = plotH < 2 * (fs.tick + 4) ? allTicks.slice(-1) : allTicks;
  const decadeNames = log ? decadeLabels(yTicks.map((y) => Math.round(y))) : [];
  const yFormat = (y: number, i: number) =>
    log
      ? props.yFormat
        ? props.yFormat(10 ** y)
        : decadeNames[i]!
      : (props.yFormat ?? ((v: number) => v.toFixed(2)))(y);
  const xTicks =
    props.xTicks ??
    (bars ? niceTicks(xMin, xMax, true) : niceTicks(xMin, xMax, false)).map((x) => ({ x, label: String(x) }));
  const font = { fontFamily: 'system-ui, sans-serif', fill: colors.text };
  const barWidth = Math.max(2, ((plotW / slots) * 0.7) / Math.max(1, series.filter((s) => s.kind === 'bars').length));
  return (
    <svg
      ref={ref}
      xmlns="http://www.w3.org/2000/svg"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.title}
      data-testid={props.testId}
      data-plot-height={Math.round(plotH)}
    >
      {/* A note left out for room is still there on hover. */}
      {noteCut && noteLines.length === 0 && <title>{props.note}</title>}
      <text x={PAD.left} y={fs.title + 3} fontSize={fs.title} fontWeight={600} {...font}>
        {titleLines !== fullTitle && <title>{props.title}</title>}
        {titleRows.map((row) => (
          <tspan key={row.id} x={PAD.left} dy={row.dy}>
            {row.text}
          </tspan>
        ))}
      </text>
      {yTicks.map((y, i) => (
        <g key={`y${y}`}>
          <line x1={PAD.left} x2={PAD.left + plotW} y1={Y(y)} y2={Y(y)} stroke={colors.grid} strokeWidth={1} />
          <text x={PAD.left - 6} y={Y(y) + fs.tick / 3} fontSize={fs.tick} textAnchor="end" {...font}>
            {yFormat(y, i)}
          </text>
        </g>
      ))}
      {xTicks.map((t) => (
        <text
          key={`x${t.x}`}
          x={X(t.x)}
          y={PAD.top + plotH + fs.tick + 4}
          fontSize={fs.tick}
          textAnchor="middle"
          {...font}
        >
          {t.label}
        </text>
      ))}
      <line x1={PAD.left} x2={PAD.left + plotW} y1={PAD.top + plotH} y2={PAD.top + plotH} stroke={colors.text} />
      <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={PAD.top + plotH} stroke={colors.text} />
      <text
        x={PAD.left + plotW / 2}
        y={PAD.top + plotH + fs.tick + fs.axis + 10 * k}
        fontSize={fs.axis}
        textAnchor="middle"
        {...fitted(props.xLabel, fs.axis, plotW + 2 * PAD.right)}
        {...font}
      >
        {props.xLabel}
      </text>
      <text
        x={fs.axis}
        y={PAD.top + plotH / 2}
        fontSize={fs.axis}
        textAnchor="middle"
        transform={`rotate(-90 ${fs.axis} ${PAD.top + plotH / 2})`}
        {...fitted(props.yLabel, fs.axis, plotH + 2 * Math.min(PAD.top, PAD.bottom))}
        {...font}
      >
        {props.yLabel}
      </text>
      {(props.bands ?? []).map((b) => (
        <g key={`band${b.label}`}>
          <rect
            x={X(b.from) - (bars ? plotW / slots / 2 : 0)}
            y={PAD.top}
            width={Math.max(2, X(b.to) - X(b.from) + (bars ? plotW / slots : 0))}
            height={plotH}
            fill={b.color}
            opacity={0.18}
          />
        </g>
      ))}
      {references.map((r) => {
        const at = referenceLabelPlace(r.label, Y(r.y), fs.tick, PAD.left, PAD.left + plotW, series, X, Y, barWidth);
        return (
          <g key={`r${r.label}`}>
            <line
              x1={PAD.left}
              x2={PAD.left + plotW}
              y1={Y(r.y)}
              y2={Y(r.y)}
              stroke={colors.reference}
              strokeDasharray="6 4"
              strokeWidth={1.5}
            />
            <text x={at.x} y={at.y} fontSize={fs.tick} textAnchor={at.anchor} {...font}>
              {r.label}
            </text>
          </g>
        );
      })}
      {series.map((s, si) => {
        const barOffset = (si - (series.length - 1) / 2) * barWidth;
        return (
          <g key={s.name} data-series={s.name}>
            {s.kind === 'line' && (
              <polyline
                fill="none"
                stroke={s.color}
                strokeWidth={s.strokeWidth ?? 2}
                strokeDasharray={s.dash}
                points={s.points.map((p) => `${X(p.x)},${Y(p.y)}`).join(' ')}
              />
            )}
            {(s.kind !== 'line' || props.lineDots !== false) &&
              s.points.map((p) => (
                <g key={p.x}>
                  {s.kind === 'bars' ? (
                    <rect
                      x={X(p.x) + barOffset - barWidth / 2}
                      y={Math.min(Y(p.y), Y(log ? yMin : Math.max(yMin, 0)))}
                      width={barWidth}
                      height={Math.abs(Y(log ? yMin : Math.max(yMin, 0)) - Y(p.y))}
                      fill={s.color}
                      stroke={p.marked ? colors.text : 'none'}
                      strokeWidth={p.marked ? 2 : 0}
                    >
                      {p.label && <title>{p.label}</title>}
                    </rect>
                  ) : (
                    <circle
                      cx={X(p.x)}
                      cy={Y(p.y)}
                      r={p.marked ? 5 : 3}
                      fill={s.color}
                      stroke={p.marked ? colors.text : 'none'}
                      strokeWidth={2}
                    >
                      {p.label && <title>{p.label}</title>}
                    </circle>
                  )}
                  {p.low !== undefined && p.high !== undefined && (
                    <line
                      x1={X(p.x) + (s.kind === 'bars' ? barOffset : 0)}
                      x2={X(p.x) + (s.kind === 'bars' ? barOffset : 0)}
                      y1={Y(p.low)}
                      y2={Y(p.high)}
                      stroke={s.kind === 'bars' ? colors.text : s.color}
                      strokeWidth={1.5}
                    />
                  )}
                </g>
              ))}
          </g>
        );
      })}
      {legendRows.map((l) => (
        <g
          key={`legend${l.full}`}
          transform={`translate(${PAD.left + l.x}, ${titleHeight + 12 * k + l.row * (fs.legend + 6)})`}
        >
          {l.line ? (
            <line
              x1={0}
              x2={12 * k}
              y1={1 + fs.legend * 0.4}
              y2={1 + fs.legend * 0.4}
              stroke={l.color}
              strokeWidth={l.line.width}
              strokeDasharray={l.line.dash}
            />
          ) : (
            <rect width={12 * k} height={fs.legend * 0.8} y={1} fill={l.color} />
          )}
          <text x={16 * k} y={fs.legend * 0.8} fontSize={fs.legend} {...font}>
            {l.name !== l.full && <title>{l.full}</title>}
            {l.name}
          </text>
        </g>
      ))}
      {(props.bands ?? []).map((b) => {
        // In the row above the plot, over the band, kept within the plot's width: from the band's start, or ending
        // at the plot's right edge when it would run past it (an estimate of its width: no text measuring in an SVG
        // export). A bar under it spans the band.
        const w = b.label.length * fs.note * 0.56;
        const half = bars ? plotW / slots / 2 : 0;
        const from = X(b.from) - half;
        const to = X(b.to) + half;
        const x = Math.max(PAD.left, Math.min(from, PAD.left + plotW - w));
        const y = PAD.top - 4;
        return (
          <g key={`bandLabel${b.label}`} data-testid="band-label">
            <line x1={from} x2={to} y1={y} y2={y} stroke={b.color} strokeWidth={3} />
            <text x={x} y={y - 4} fontSize={fs.note} {...font}>
              {b.label}
            </text>
          </g>
        );
      })}
      <HoverLayer
        series={series}
        X={X}
        Y={Y}
        plot={{ x: PAD.left, y: PAD.top, w: plotW, h: plotH }}
        highlight={props.highlightX ?? null}
        onHover={props.onHoverX}
        fontSize={fs.tick}
        colors={colors}
        format={(y) => (log ? formatValue(10 ** y) : (props.yFormat ?? formatValue)(y))}
      />
      {noteRows.map((row) => (
        <text key={row.y} x={PAD.left} y={row.y} fontSize={fs.note} {...font} data-note-cut={noteCut || undefined}>
          {noteCut && <title>{props.note}</title>}
          {row.text}
        </text>
      ))}
    </svg>
  );
});

/** Splits `text` at spaces into lines of at most `chars` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The first `n` of `lines`, the last one ending in "…" within `chars` characters (a text cut to fit its room). */
function cut(lines: readonly string[], n: number, chars: number): string[] {
  const kept = lines.slice(0, n);
  const last = kept[n - 1] ?? '';
  kept[n - 1] = `${last.length + 1 > chars ? last.slice(0, Math.max(1, Math.floor(chars) - 1)).trimEnd() : last}…`;
  return kept;
}

/** A round step that cuts `span` into about `steps` parts: 1, 2, 2.5 or 5 times a power of ten. */
function roundStep(span: number, steps: number): number {
  const raw = span / Math.max(1, steps);
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
}

/**
 * The data's y extent with a little room, widened to round ticks and kept within `bounds` (a loss ≥ 0, an error
 * within 0–100 %). A flat series gets a band around its value.
 */
export function fittedRange(ys: readonly number[], bounds: readonly [number, number]): [number, number] {
  const finite = ys.filter((y) => Number.isFinite(y));
  if (finite.length === 0) return [bounds[0], Number.isFinite(bounds[1]) ? bounds[1] : bounds[0] + 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  // At least 2 % of the bounds (or of the value) in view: a flat error of 0 got [0, 10⁻⁶], every tick "0 %", and
  // errors of 99.9–100 % ticks that all read "99.9 %".
  const scale = Number.isFinite(bounds[1] - bounds[0]) ? bounds[1] - bounds[0] : Math.max(Math.abs(hi), 1e-9);
  const room = Math.max(0.08 * (hi - lo), (0.02 * scale - (hi - lo)) / 2, 0);
  const step = roundStep(hi - lo + 2 * room, 4);
  const a = Math.max(bounds[0], Math.floor((lo - room) / step) * step);
  const b = Math.min(bounds[1], Math.ceil((hi + room) / step) * step);
  return [Number(a.toPrecision(12)), Number(b.toPrecision(12))];
}

/** Round tick values inside [min, max] (about 5), e.g. 0, 5, 10, 15, 20, 25 %: never 4.9 or 9.8. */
function linearTicks(min: number, max: number, steps = 5): number[] {
  const span = max - min;
  if (!(span > 0) || !Number.isFinite(span)) return [min];
  const step = roundStep(span, steps);
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * An axis label wider than the room it has (an estimate: no text measuring in an SVG export) is drawn squeezed to
 * fit (SVG textLength) instead of running off the chart: a docked chart cut "depth (weighted layers from the input)".
 */
/**
 * Where a reference line's label goes: at the plot's right or left end, above or below the line, the first of those
 * places no data crosses (lines between their points, dots, intervals and bars, in pixels); else the one fewest data
 * cross. At the right end above the line, where it always went, it was crossed by a rising curve (Signal's
 * ‖F(x)‖ = ‖x‖ on ResNet-20, whose last blocks sit above 1).
 */
export function referenceLabelPlace(
  label: string,
  lineY: number,
  fontSize: number,
  left: number,
  right: number,
  series: readonly ChartSeries[],
  X: (x: number) => number,
  Y: (y: number) => number,
  barWidth: number,
): { x: number; y: number; anchor: 'start' | 'end' } {
  const width = label.length * fontSize * 0.6;
  const places = [
    { x: right - 4, y: lineY - 5, anchor: 'end' as const },
    { x: left + 4, y: lineY - 5, anchor: 'start' as const },
    { x: right - 4, y: lineY + fontSize + 3, anchor: 'end' as const },
    { x: left + 4, y: lineY + fontSize + 3, anchor: 'start' as const },
  ];
  let best = places[0]!;
  let fewest = Number.POSITIVE_INFINITY;
  for (const place of places) {
    const x0 = place.anchor === 'end' ? place.x - width : place.x;
    const box = { x0: x0 - 3, x1: x0 + width + 3, y0: place.y - fontSize - 1, y1: place.y + 3 };
    const hits = series.reduce((n, s) => n + crossings(s, box, X, Y, barWidth), 0);
    if (hits === 0) return place;
    if (hits < fewest) [best, fewest] = [place, hits];
  }
  return best;
}

/** How many of a series' marks (line segments, dots, intervals, bars) cross a box, in pixels. */
function crossings(
  s: ChartSeries,
  box: { x0: number; x1: number; y0: number; y1: number },
  X: (x: number) => number,
  Y: (y: number) => number,
  barWidth: number,
): number {
  const inX = (x: number) => x >= box.x0 && x <= box.x1;
  const spans = (a: number, b: number) => Math.min(a, b) <= box.y1 && Math.max(a, b) >= box.y0;
  let n = 0;
  const pts = s.points.map((p) => ({ x: X(p.x), y: Y(p.y), low: p.low, high: p.high }));
  for (const p of pts) {
    if (s.kind === 'bars') {
      if (p.x + barWidth / 2 >= box.x0 && p.x - barWidth / 2 <= box.x1 && spans(p.y, box.y1 + 1e6)) n++;
      continue;
    }
    if (inX(p.x) && spans(p.y - 4, p.y + 4)) n++;
    if (p.low !== undefined && p.high !== undefined && inX(p.x) && spans(Y(p.low), Y(p.high))) n++;
  }
  if (s.kind === 'line')
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      // The segment's part between the box's x edges, as a y range.
      const lo = Math.max(Math.min(a.x, b.x), box.x0);
      const hi = Math.min(Math.max(a.x, b.x), box.x1);
      if (lo > hi) continue;
      const at = (x: number) => (b.x === a.x ? a.y : a.y + ((x - a.x) / (b.x - a.x)) * (b.y - a.y));
      if (spans(at(lo), at(hi))) n++;
    }
  return n;
}

function fitted(label: string, fontSize: number, room: number): { textLength?: number; lengthAdjust?: string } {
  const estimate = label.length * fontSize * 0.56;
  return estimate > room ? { textLength: Math.floor(room - 4), lengthAdjust: 'spacingAndGlyphs' } : {};
}

/** Whole decades around log10 values: at least one decade, [0, 1] when there is nothing to show. */
function logRange(ys: number[]): [number, number] {
  if (ys.length === 0) return [0, 1];
  const lo = Math.floor(Math.min(...ys) + 1e-9);
  return [lo, Math.max(lo + 1, Math.ceil(Math.max(...ys) - 1e-9))];
}

/** Up to ~10 round tick values across [min, max] (whole numbers only, for bars). */
function niceTicks(min: number, max: number, whole: boolean): number[] {
  const span = max - min || 1;
  const steps = whole
    ? [1, 2, 5, 10, 20, 50, 100, 200, 500]
    : [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100];
  const step = steps.find((s) => span / s <= 10) ?? Math.ceil(span / 10);
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

/** The chart as a standalone SVG file. */
export function svgText(svg: SVGSVGElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(exportable(svg))}`;
}

/** The chart rendered to PNG at `scale` × its size, on the given background colour. */
export async function svgToPng(svg: SVGSVGElement, scale: number, background: string): Promise<Uint8Array> {
  const drawn = exportable(svg);
  const width = Number(drawn.getAttribute('width'));
  const height = Number(drawn.getAttribute('height'));
  const url = URL.createObjectURL(new Blob([svgText(drawn)], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = width * scale;
    canvas.height = height * scale;
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be made'))), 'image/png'),
    );
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Coordinates to 0.1 px: exact enough on screen and in print, and SVG exports half the size. */
const round1 = (v: number) => Math.round(v * 10) / 10;

/** A number for a hover box: 4 significant digits, exponent form for very small or large values. */
function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? formatScientific(v) : Number(v.toPrecision(4)).toString();
}

/**
 * Hover: a vertical rule at the nearest x, a ring on each series' point there, and a box with their values. The
 * layer is a transparent rect over the plot; it draws nothing until the pointer is over it.
 */
function HoverLayer(props: {
  series: ChartSeries[];
  X: (x: number) => number;
  Y: (y: number) => number;
  plot: { x: number; y: number; w: number; h: number };
  /** An x shown as hovered while the pointer is elsewhere. */
  highlight: number | null;
  onHover?: (x: number | null) => void;
  fontSize: number;
  colors: ChartProps['colors'];
  format: (y: number) => string;
}) {
  const { series, X, Y, plot, highlight, onHover, fontSize, colors, format } = props;
  // The hover lives here, so a pointer move redraws this layer only, not the chart's data.
  const [own, setOwn] = useState<number | null>(null);
  const hover = own ?? highlight;
  const setHover = (x: number | null) => {
    setOwn(x);
    onHover?.(x);
  };
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const rows =
    hover === null
      ? []
      : series.flatMap((s) => {
          const p = s.points.find((q) => q.x === hover);
          return p ? [{ name: s.name, color: s.color, p }] : [];
        });
  const hx = hover === null ? 0 : X(hover);
  const lineH = fontSize + 4;
  const boxW = Math.max(
    ...rows.map((r) => (r.p.label ?? `${r.name}: ${format(r.p.y)}`).length * fontSize * 0.56 + 16),
    80,
  );
  const boxX = hx + boxW + 12 > plot.x + plot.w ? hx - boxW - 8 : hx + 8;
  return (
    <g data-hover={hover ?? ''}>
      {hover !== null && rows.length > 0 && (
        <g pointerEvents="none">
          <line x1={hx} x2={hx} y1={plot.y} y2={plot.y + plot.h} stroke={colors.text} strokeOpacity={0.5} />
          {rows.map((r) => (
            <circle key={`h${r.name}`} cx={hx} cy={Y(r.p.y)} r={6} fill="none" stroke={r.color} strokeWidth={2} />
          ))}
          <rect
            x={boxX}
            y={plot.y + 4}
            width={boxW}
            height={rows.length * lineH + lineH + 6}
            rx={4}
            fill={colors.grid}
            fillOpacity={0.92}
          />
          <text x={boxX + 8} y={plot.y + 4 + lineH} fontSize={fontSize} fontWeight={600} fill={colors.text}>
            x = {hover}
          </text>
          {rows.map((r, i) => (
            <text key={`t${r.name}`} x={boxX + 8} y={plot.y + 4 + lineH * (i + 2)} fontSize={fontSize} fill={r.color}>
              {r.p.label ?? `${r.name}: ${format(r.p.y)}`}
            </text>
          ))}
        </g>
      )}
      <rect
        x={plot.x}
        y={plot.y}
        width={Math.max(0, plot.w)}
        height={Math.max(0, plot.h)}
        fill="transparent"
        onPointerMove={(e) => {
          if (xs.length === 0) return;
          const r = (e.currentTarget as SVGRectElement).getBoundingClientRect();
          const px = plot.x + ((e.clientX - r.left) / Math.max(1, r.width)) * plot.w;
          let best = xs[0]!;
          for (const x of xs) if (Math.abs(X(x) - px) < Math.abs(X(best) - px)) best = x;
          if (best !== own) setHover(best);
        }}
        onPointerLeave={() => setHover(null)}
      />
    </g>
  );
}
