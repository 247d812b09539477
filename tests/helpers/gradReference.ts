import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './files';
import { runPython } from './python';

/** What tests/fixtures/grad_reference.py (PyTorch autograd, float64) computed for one spec. */
export interface GradReference {
  loss: number;
  /** By tensor name: the graph input, requested tensors, initializers. */
  grads: Map<string, Float64Array>;
  /** With joins and paths "exact": per-length sums at the input [n + 1, …] and mean single-path norms. */
  paths: { byLength: Float64Array; meanPathNormByLength: number[] } | null;
}

export interface GradSpec {
  shape: number[];
  targets: number[];
  tensors?: string[];
  weights?: boolean;
  joins?: { output: string; branch: number }[];
  paths?: 'exact';
}

const SCRIPT = join(ROOT, 'tests/fixtures/grad_reference.py');

function f64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Runs the reference on `model` with input `x` (float32, `spec.shape`); its files are removed once read. */
export function gradReference(model: string, x: Float32Array, spec: GradSpec): GradReference {
  const dir = mkdtempSync(join(tmpdir(), 'skipscope-gradref-'));
  try {
    return run(dir, model, x, spec);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(dir: string, model: string, x: Float32Array, spec: GradSpec): GradReference {
  writeFileSync(join(dir, 'x.f32'), x);
  writeFileSync(
    join(dir, 'spec.json'),
    JSON.stringify({ tensors: [], weights: false, ...spec, input: join(dir, 'x.f32') }),
  );
  runPython(readFileSync(SCRIPT, 'utf8'), [model, join(dir, 'spec.json'), join(dir, 'out')]);
  const m = JSON.parse(readFileSync(join(dir, 'out/manifest.json'), 'utf8')) as {
    loss: number;
    grads: Record<string, { file: string }>;
    paths?: { byLength: { file: string }; meanPathNormByLength: number[] };
  };
  return {
    loss: m.loss,
    grads: new Map(Object.entries(m.grads).map(([name, { file }]) => [name, f64(join(dir, 'out', file))])),
    paths: m.paths
      ? { byLength: f64(join(dir, 'out', m.paths.byLength.file)), meanPathNormByLength: m.paths.meanPathNormByLength }
      : null,
  };
}

/** ‖a − b‖∞ / ‖b‖∞ (the absolute difference when b is all zero). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let max = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    max = Math.max(max, Math.abs(b[i]!));
  }
  return max === 0 ? diff : diff / max;
}
