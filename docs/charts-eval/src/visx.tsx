import { AxisBottom, AxisLeft } from '@visx/axis';
import { scaleLinear, scaleLog } from '@visx/scale';
import { LinePath } from '@visx/shape';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';

let root: Root | null = null;
const W = 800,
  H = 400,
  M = { l: 60, r: 16, t: 30, b: 40 };
function el(xs: Float64Array, ys: Float64Array) {
  let lo = Infinity,
    hi = -Infinity;
  for (const y of ys) {
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  const x = scaleLinear<number>({ domain: [xs[0]!, xs[xs.length - 1]!], range: [M.l, W - M.r] });
  const y = scaleLog<number>({ domain: [lo, hi], range: [H - M.b, M.t] });
  const idx = Array.from(xs, (_, i) => i);
  return (
    <svg width={W} height={H} xmlns="http://www.w3.org/2000/svg">
      <LinePath data={idx} x={(i) => x(xs[i]!)} y={(i) => y(ys[i]!)} stroke="#4aa3ff" strokeWidth={2} fill="none" />
      <AxisLeft scale={y} left={M.l} label="loss" stroke="#dde" tickStroke="#dde" tickLabelProps={{ fill: '#dde' }} />
      <AxisBottom
        scale={x}
        top={H - M.b}
        label="step"
        stroke="#dde"
        tickStroke="#dde"
        tickLabelProps={{ fill: '#dde' }}
      />
    </svg>
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
