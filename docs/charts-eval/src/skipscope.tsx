import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import { Chart, type ChartSeries } from 'skipscope-chart';

let root: Root | null = null;
function el(xs: Float64Array, ys: Float64Array) {
  const points = Array.from(xs, (x, i) => ({ x, y: ys[i]! }));
  const series: ChartSeries[] = [{ name: 'loss', color: '#4aa3ff', kind: 'line', points }];
  return (
    <Chart
      title="10,000 points"
      xLabel="step"
      yLabel="loss"
      yLog
      lineDots={false}
      series={series}
      colors={{ text: '#dde', grid: '#334', reference: '#f80' }}
      width={800}
      height={400}
    />
  );
}
export function mount(host: HTMLElement, xs: Float64Array, ys: Float64Array) {
  root = createRoot(host);
  flushSync(() => root!.render(el(xs, ys)));
}
export function update(xs: Float64Array, ys: Float64Array) {
  flushSync(() => root!.render(el(xs, ys)));
}
export function unmount() {
  root?.unmount();
  root = null;
}
export { el as skipscopeElement };
