import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Times the bundles that build.mjs wrote (out/bench-*.js) in headless Chromium; Playwright comes from Skipscope.
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.env.SKIPSCOPE_ROOT ?? resolve(here, '../..'));
process.chdir(here);
const require = createRequire(`${root}/node_modules/`);
const { chromium } = require('@playwright/test');
const opts = process.argv.slice(2).length ? process.argv.slice(2) : ['skipscope', 'uplot', 'plot', 'visx'];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const results = {};
for (const o of opts) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.setContent(
    '<!doctype html><html><body style="margin:0;background:#11141a"><div id="host"></div></body></html>',
  );
  await page.addScriptTag({ path: `out/bench-${o}.js` });
  results[o] = await page.evaluate(async () => {
    const b = window.bench;
    const host = document.getElementById('host');
    const settle = async () => {
      for (let i = 0; i < 3; i++) await Promise.resolve();
      host.getBoundingClientRect();
      document.body.offsetHeight;
    };
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const med = (a) => {
      const s = [...a].sort((p, q) => p - q);
      return +s[2].toFixed(1);
    };
    const datas = Array.from({ length: 7 }, (_, i) => b.makeData(10_000, i));
    // warm-up (JIT), not counted
    b.mount(host, datas[0].xs, datas[0].ys);
    await settle();
    b.unmount();
    await frame();
    const mount = [],
      mountFrame = [],
      update = [],
      updateFrame = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      b.mount(host, datas[i].xs, datas[i].ys);
      await settle();
      mount.push(performance.now() - t);
      await frame();
      mountFrame.push(performance.now() - t);
      b.unmount();
      await frame();
    }
    b.mount(host, datas[0].xs, datas[0].ys);
    await settle();
    await frame();
    for (let i = 0; i < 5; i++) {
      const d = datas[(i % 6) + 1];
      const t = performance.now();
      b.update(d.xs, d.ys);
      await settle();
      update.push(performance.now() - t);
      await frame();
      updateFrame.push(performance.now() - t);
    }
    // what an SVG export of the 10,000-point chart weighs (serialized <svg>; none for canvas)
    const svg = host.querySelector('svg');
    const exportBytes = svg ? new XMLSerializer().serializeToString(svg).length : null;
    // hover: one pointer move over the plot, timed until the hover readout has changed (rule/box, legend value or tip)
    const probe = () => {
      const g = host.querySelector('g[data-hover]');
      if (g) return g.getAttribute('data-hover');
      const leg = host.querySelector('.u-legend');
      if (leg) return leg.textContent + (host.querySelector('.u-cursor-x')?.style.transform ?? '');
      const tip = host.querySelector('[aria-label="tip"]');
      if (tip) return tip.textContent;
      return null;
    };
    const yieldTask = () =>
      new Promise((r) => {
        const c = new MessageChannel();
        c.port1.onmessage = () => r();
        c.port2.postMessage(0);
      });
    const hover = [];
    const target =
      host.querySelector('rect[fill="transparent"]') || host.querySelector('.u-over') || host.querySelector('svg');
    const r = target.getBoundingClientRect();
    let hoverShown = probe() !== null;
    for (let i = 0; i < 5 && hoverShown; i++) {
      const before = probe();
      const x = r.left + r.width * (0.3 + 0.1 * i),
        y = r.top + r.height / 2;
      const t = performance.now();
      target.dispatchEvent(
        new PointerEvent('pointermove', {
          bubbles: true,
          clientX: x,
          clientY: y,
          pointerType: 'mouse',
          isPrimary: true,
        }),
      );
      target.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: x, clientY: y }));
      let k = 0;
      while (probe() === before && k++ < 2000) await yieldTask();
      host.getBoundingClientRect();
      document.body.offsetHeight;
      if (probe() === before) {
        hoverShown = false;
        break;
      }
      hover.push(performance.now() - t);
      await frame();
    }
    const svgs = host.querySelectorAll('svg').length,
      canvases = host.querySelectorAll('canvas').length;
    b.unmount();
    return {
      mount: med(mount),
      mountToFrame: med(mountFrame),
      update: med(update),
      updateToFrame: med(updateFrame),
      hover: hover.length === 5 ? med(hover) : null,
      hoverShown,
      exportBytes,
      svgs,
      canvases,
      raw: { mount: mount.map((v) => +v.toFixed(1)), update: update.map((v) => +v.toFixed(1)) },
    };
  });
  console.error(o, JSON.stringify(results[o]));
  await page.close();
}
await browser.close();
console.log(JSON.stringify(results));
