import * as Plot from '@observablehq/plot';

let host: HTMLElement | null = null;
function make(xs: Float64Array, ys: Float64Array) {
  return Plot.plot({
    width: 800,
    height: 400,
    title: '10,000 points',
    style: { color: '#dde', background: 'transparent' },
    x: { label: 'step' },
    y: { type: 'log', label: 'loss', grid: true },
    marks: [
      Plot.line({ length: xs.length }, { x: xs, y: ys, stroke: '#4aa3ff', strokeWidth: 2 }),
      Plot.tip({ length: xs.length }, Plot.pointerX({ x: xs, y: ys })),
    ],
  });
}
export function mount(h: HTMLElement, xs: Float64Array, ys: Float64Array) {
  host = h;
  host.append(make(xs, ys));
}
export function update(xs: Float64Array, ys: Float64Array) {
  host!.replaceChildren(make(xs, ys));
}
export function unmount() {
  host?.replaceChildren();
  host = null;
}
