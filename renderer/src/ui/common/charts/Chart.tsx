import { forwardRef } from 'react';

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
}

export interface ChartProps {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  colors: { text: string; grid: string; reference: string };
  /** y range; default from the data. */
  yRange?: [number, number];
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
}

const PAD = { left: 58, right: 16, top: 30, bottom: 46 };

/**
 * A self-contained SVG chart: every colour and font is an attribute (no CSS), so the exported file looks the same
 * as the screen in any viewer.
 */
export const Chart = forwardRef<SVGSVGElement, ChartProps>(function Chart(props, ref) {
  const { colors, width = 560, height = 300 } = props;
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
  const noteHeight = props.note ? 18 : 0;
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
      : [Math.min(0, ...ys), Math.max(...ys, 1e-9)];
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom - noteHeight;
  // Bars sit in slots centred on their x; lines and points span the width with a small margin.
  const slots = xMax - xMin + 1;
  const X = (x: number) =>
    bars
      ? PAD.left + ((x - xMin + 0.5) / slots) * plotW
      : PAD.left + 8 + (xMax === xMin ? (plotW - 16) / 2 : ((x - xMin) / (xMax - xMin)) * (plotW - 16));
  const Y = (y: number) => PAD.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;
  const yFormat = log
    ? (y: number) => (props.yFormat ?? ((v: number) => `1e${Math.round(Math.log10(v))}`))(10 ** y)
    : (props.yFormat ?? ((y: number) => y.toFixed(2)));
  const decades = Math.max(1, yMax - yMin);
  const yTicks = log
    ? Array.from(
        { length: Math.floor(decades / Math.ceil(decades / 8)) + 1 },
        (_, i) => yMin + i * Math.ceil(decades / 8),
      )
    : Array.from({ length: 6 }, (_, i) => yMin + ((yMax - yMin) * i) / 5);
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
    >
      <text x={PAD.left} y={18} fontSize={13} fontWeight={600} {...font}>
        {props.title}
      </text>
      {yTicks.map((y) => (
        <g key={`y${y}`}>
          <line x1={PAD.left} x2={PAD.left + plotW} y1={Y(y)} y2={Y(y)} stroke={colors.grid} strokeWidth={1} />
          <text x={PAD.left - 6} y={Y(y) + 4} fontSize={11} textAnchor="end" {...font}>
            {yFormat(y)}
          </text>
        </g>
      ))}
      {xTicks.map((t) => (
        <text key={`x${t.x}`} x={X(t.x)} y={PAD.top + plotH + 16} fontSize={11} textAnchor="middle" {...font}>
          {t.label}
        </text>
      ))}
      <line x1={PAD.left} x2={PAD.left + plotW} y1={PAD.top + plotH} y2={PAD.top + plotH} stroke={colors.text} />
      <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={PAD.top + plotH} stroke={colors.text} />
      <text x={PAD.left + plotW / 2} y={PAD.top + plotH + 34} fontSize={12} textAnchor="middle" {...font}>
        {props.xLabel}
      </text>
      <text
        x={14}
        y={PAD.top + plotH / 2}
        fontSize={12}
        textAnchor="middle"
        transform={`rotate(-90 14 ${PAD.top + plotH / 2})`}
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
          <text x={X(b.from)} y={PAD.top + plotH - 6} fontSize={10} {...font}>
            {b.label}
          </text>
        </g>
      ))}
      {references.map((r) => (
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
          <text x={PAD.left + plotW - 4} y={Y(r.y) - 5} fontSize={11} textAnchor="end" {...font}>
            {r.label}
          </text>
        </g>
      ))}
      {series.map((s, si) => {
        const barOffset = (si - (series.length - 1) / 2) * barWidth;
        return (
          <g key={s.name} data-series={s.name}>
            {s.kind === 'line' && (
              <polyline
                fill="none"
                stroke={s.color}
                strokeWidth={2}
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
      {series.length > 1 &&
        !props.hideLegend &&
        series.map((s, i) => (
          <g key={`legend${s.name}`} transform={`translate(${PAD.left + 8}, ${PAD.top + 4 + i * 14})`}>
            <rect width={10} height={10} fill={s.color} />
            <text x={14} y={9} fontSize={11} {...font}>
              {s.name}
            </text>
          </g>
        ))}
      {props.note && (
        <text x={PAD.left} y={height - 6} fontSize={10} {...font}>
          {props.note}
        </text>
      )}
    </svg>
  );
});

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
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}`;
}

/** The chart rendered to PNG at `scale` × its size, on the given background colour. */
export async function svgToPng(svg: SVGSVGElement, scale: number, background: string): Promise<Uint8Array> {
  const width = Number(svg.getAttribute('width'));
  const height = Number(svg.getAttribute('height'));
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: 'image/svg+xml' }));
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
