// `npm run bench`: speed targets live here, never in timed unit tests (these machines are shared and noisy).
// Every ratio is measured within this one run. Prints a Markdown table.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { analyzeModel } from '../renderer/src/core/summary';
import { parseCifarBinary } from '../renderer/src/data/cifar';
import { normalizePlanar } from '../renderer/src/data/preprocess';
import { createWebRuntime } from '../renderer/src/runtime/ortWeb';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const root = resolve(import.meta.dirname, '..');
const rows: string[][] = [];

function bytesOf(path: string): Uint8Array {
  const b = readFileSync(resolve(root, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Cold = first call on these bytes; warm = median of `runs` after as many warm-up calls (JIT settled). */
function timeAnalysis(path: string, runs: number): { cold: number; warm: number; blocks: number } {
  const bytes = bytesOf(path);
  const name = path.split('/').pop()!;
  let t = performance.now();
  const first = analyzeModel(bytes, name);
  const cold = performance.now() - t;
  for (let i = 0; i < runs; i++) analyzeModel(bytes, name);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    analyzeModel(bytes, name);
    times.push(performance.now() - t);
  }
  return { cold, warm: median(times), blocks: first.topology.blocks.length };
}

const TARGETS: Record<string, { target: number; netron: string }> = {
  'resnet56.onnx': { target: 3, netron: '~6 ms' },
  'resnet50_op13.onnx': { target: 30, netron: '~57 ms warm / ~96 ms cold' },
  'resnet18_op13.onnx': { target: 25, netron: '~25 ms' },
};

for (const path of [
  'models/cifar10/resnet20.onnx',
  'models/cifar10/resnet32.onnx',
  'models/cifar10/resnet44.onnx',
  'models/cifar10/resnet56.onnx',
  '.cache/models/resnet18_op13.onnx',
  '.cache/models/resnet50_op13.onnx',
]) {
  const name = path.split('/').pop()!;
  if (!existsSync(resolve(root, path))) {
    rows.push([`decode + topology: ${name}`, 'not generated (npm run fixtures -- --large)', '', '', '']);
    continue;
  }
  const size = (readFileSync(resolve(root, path)).byteLength / 2 ** 20).toFixed(1);
  const { cold, warm, blocks } = timeAnalysis(path, 100);
  const goal = TARGETS[name];
  rows.push([
    `decode + topology: ${name} (${size} MiB, ${blocks} blocks)`,
    `${warm.toFixed(2)} ms warm / ${cold.toFixed(1)} ms cold`,
    goal ? `≤ ${goal.target} ms warm` : '',
    goal ? `Netron ${goal.netron}` : '',
    goal ? (warm <= goal.target ? 'met' : 'MISSED') : '',
  ]);
}

// ORT-web (WASM, in Node, 1 thread) vs onnxruntime-node (CPU) on resnet56, the same preprocessed images.
const model = bytesOf('models/cifar10/resnet56.onnx');
const set = parseCifarBinary(bytesOf('assets/data/cifar10/test_first932.bin'));
const prep = {
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406] as [number, number, number],
  std: [0.229, 0.224, 0.225] as [number, number, number],
  resize: null,
};
const web = await createWebRuntime('wasm').createSession(model);
const node = await ortNode.InferenceSession.create(model);
for (const batch of [1, 32]) {
  const x = normalizePlanar(set.pixels.subarray(0, batch * 3072), batch, 32, 32, prep);
  const dims = [batch, 3, 32, 32];
  const runs = batch === 1 ? 60 : 8;
  const throughput = async (run: () => Promise<unknown>) => {
    await run();
    const t = performance.now();
    for (let i = 0; i < runs; i++) await run();
    return (runs * batch) / ((performance.now() - t) / 1000);
  };
  const webIps = await throughput(() => web.run({ input: { type: 'float32', data: x, dims } }));
  const nodeIps = await throughput(() => node.run({ input: new ortNode.Tensor('float32', x, dims) }));
  rows.push([
    `resnet56 images/s, batch ${batch}: ORT-web WASM vs onnxruntime-node`,
    `${webIps.toFixed(0)} vs ${nodeIps.toFixed(0)}`,
    'ratio web/node',
    (webIps / nodeIps).toFixed(2),
    '',
  ]);
}
await web.release();
await node.release();

const header = ['measure', 'result', 'target', 'reference', 'status'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`Skipscope benchmark — node ${process.version}, ${new Date().toISOString()}`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
