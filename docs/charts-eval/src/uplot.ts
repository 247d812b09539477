import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

let u: uPlot | null = null;
export function mount(host: HTMLElement, xs: Float64Array, ys: Float64Array) {
  u = new uPlot(
    {
      title: '10,000 points',
      width: 800,
      height: 400,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [
        { label: 'step', stroke: '#dde', grid: { stroke: '#334' } },
        { label: 'loss', stroke: '#dde', grid: { stroke: '#334' } },
      ],
      series: [{}, { label: 'loss', stroke: '#4aa3ff', width: 2 }],
    },
    [xs as unknown as number[], ys as unknown as number[]],
    host,
  );
}
export function update(xs: Float64Array, ys: Float64Array) {
  u!.setData([xs as unknown as number[], ys as unknown as number[]]);
}
export function unmount() {
  u?.destroy();
  u = null;
}
