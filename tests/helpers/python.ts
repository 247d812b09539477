import { spawnSync } from 'node:child_process';

/** Debian's Python with torch and onnx: the reference implementations (never our own code). */
export const PYTHON = process.env.SKIPSCOPE_PYTHON ?? '/usr/bin/python3';

let available: boolean | undefined;

/** True when PYTHON can import torch, torchvision and onnx. */
export function hasTorch(): boolean {
  available ??= spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0;
  return available;
}

export const NO_TORCH = `${PYTHON} lacks torch/torchvision/onnx (apt-get install python3-torch python3-torchvision python3-onnx)`;

/** Runs a Python snippet with arguments; returns stdout, throws with stderr on failure. */
export function runPython(code: string, args: string[] = [], timeoutMs = 600_000): string {
  const run = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`python failed (${run.status ?? run.signal}): ${run.stderr.slice(-2000)}`);
  return run.stdout;
}
