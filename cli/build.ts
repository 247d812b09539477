import { totalmem } from 'node:os';
import { basename } from 'node:path';
import { type Architecture, architecture, type BuildOptions, buildResNet } from '../renderer/src/core/build/resnet';
import { sha256Hex } from '../renderer/src/core/hash';
import { encodeModel } from '../renderer/src/core/onnx/encode';
import { formatBytes, printable } from '../renderer/src/core/text';
import { SHORTCUT_NAMES, type ShortcutKind } from '../renderer/src/core/topology/types';
import { checkOutputTarget, interruptLatch, writeFileAtomic } from './files';
import { InputError } from './work';

/** The stable JSON of `skipscope build --json` (schema "skipscope.build/1", docs/cli.md). */
export interface BuildJson {
  schema: 'skipscope.build/1';
  file: string;
  sha256: string;
  bytes: number;
  variant: Architecture['variant'];
  dataset: Architecture['dataset'];
  depth: number;
  width: number;
  classes: number;
  seed: number;
  input: number[];
  params: number;
  layers: number;
  blocks: { name: string; shortcut: string; in: number[]; out: number[] }[];
  init: string;
  /** e.g. float32 overflow at initialisation for very deep residual nets; null when nothing. */
  warning: string | null;
}

/** `skipscope build`: a He-initialised ResNet / pre-activation / plain net of any depth, written as ONNX. */
export async function build(options: BuildOptions & { out: string; json: boolean }, out: (s: string) => void) {
  const target = checkOutputTarget(options.out, '-o');
  // The weights are drawn, encoded and written: about three copies of them in memory, checked before any work.
  const planned = architecture(options);
  if (12 * planned.params > 0.75 * totalmem())
    throw new InputError(
      `${planned.name} has ${planned.params.toLocaleString('en-US')} parameters: building it needs about ${formatBytes(12 * planned.params)}, and this machine has ${formatBytes(totalmem())}`,
    );
  // From here Ctrl+C is noticed, not fatal: the build stops before or during the write and leaves no file.
  const latch = interruptLatch();
  let bytes: Uint8Array;
  let arch: Architecture;
  let model: ReturnType<typeof buildResNet>['model'];
  try {
    if (planned.params >= 5_000_000)
      process.stderr.write(
        printable(
          `building ${planned.name}: ${planned.params.toLocaleString('en-US')} parameters, ${formatBytes(4 * planned.params)}…\n`,
        ),
      );
    ({ model, architecture: arch } = buildResNet(options));
    bytes = encodeModel(model);
    await writeFileAtomic(target, bytes, latch);
  } finally {
    latch.release();
  }
  const report: BuildJson = {
    schema: 'skipscope.build/1',
    file: basename(target),
    sha256: await sha256Hex(bytes),
    bytes: bytes.byteLength,
    variant: arch.variant,
    dataset: arch.dataset,
    depth: arch.depth,
    width: arch.width,
    classes: arch.classes,
    seed: arch.seed,
    input: [3, arch.inputSize, arch.inputSize],
    params: arch.params,
    layers: arch.layers,
    blocks: arch.blocks.map((b) => ({ name: b.name, shortcut: b.shortcut, in: b.inShape, out: b.outShape })),
    init: model.metadata.find(([k]) => k === 'init')?.[1] ?? '',
    warning: arch.warning,
  };
  if (options.json) {
    out(JSON.stringify(report, null, 2));
    return;
  }
  const shortcuts = new Map<string, number>();
  for (const b of arch.blocks) shortcuts.set(b.shortcut, (shortcuts.get(b.shortcut) ?? 0) + 1);
  out(
    [
      `${report.file}: ${arch.name} — ${arch.variant} ${arch.dataset} depth ${arch.depth}, width ${arch.width}, ${arch.classes} classes, seed ${arch.seed}`,
      `  input [N, 3, ${arch.inputSize}, ${arch.inputSize}], ${arch.params.toLocaleString('en-US')} parameters, ${arch.layers} weighted layers, ${arch.blocks.length} blocks (${[...shortcuts].map(([k, n]) => `${n} ${k === 'none' ? 'without skip' : SHORTCUT_NAMES[k as ShortcutKind]}`).join(', ')})`,
      `  init: ${report.init}`,
      `  ${(bytes.byteLength / 1e6).toFixed(1)} MB written, sha256 ${report.sha256.slice(0, 16)}…`,
      ...(arch.warning ? [`  note: ${arch.warning}`] : []),
    ].join('\n'),
  );
}
