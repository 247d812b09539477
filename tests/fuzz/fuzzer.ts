/**
 * The decode + topology fuzzer: mutated copies of real models, each analysed; every failure must be a one-line
 * ModelError naming the file. Runs as its own process (tests/fuzz/run.ts) so that the test can kill it on a hang.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { analyzeModel } from '../../renderer/src/core/summary';
import { seededRandom } from '../../renderer/src/lab/stats';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => {
  const b = readFileSync(resolve(ROOT, path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

export const SOURCES = [
  ['resnet20', 'models/cifar10/resnet20.onnx'],
  ['resnet8-projection', 'tests/fixtures/models/cifar_resnet8_b_op11_bn.onnx'],
  ['preact14', 'tests/fixtures/models/cifar_preact_resnet14_op9_bn.onnx'],
  ['zoo-v2-opset7', 'tests/fixtures/models/zoo_resnet18v2_w8_op7_ir3.onnx'],
] as const;

/** Offsets of protobuf length prefixes: corrupting them is the nastiest mutation for a decoder. */
function lengthFieldOffsets(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  for (let i = 0; i + 1 < bytes.length && offsets.length < 4000; i++) {
    // Wire type 2 (length-delimited) tags with small field numbers: the structure of ModelProto/GraphProto/NodeProto.
    if ((bytes[i]! & 7) === 2 && bytes[i]! >> 3 >= 1 && bytes[i]! >> 3 <= 16) offsets.push(i + 1);
  }
  return offsets;
}

function mutate(source: Uint8Array, random: () => number, lengths: number[]): Uint8Array {
  const kind = Math.floor(random() * 4);
  const bytes = new Uint8Array(source);
  const pick = () => Math.floor(random() * bytes.length);
  switch (kind) {
    case 0: // bit flips
      for (let i = 0, n = 1 + Math.floor(random() * 8); i < n; i++) {
        const at = pick();
        bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
      }
      return bytes;
    case 1: // truncation
      return bytes.subarray(0, pick());
    case 2: {
      // length-field corruption: a huge, zero, or off-by-some varint
      const at = lengths[Math.floor(random() * lengths.length)]!;
      const choices = [0x00, 0x7f, 0xff, bytes[at]! + 1, bytes[at]! - 1];
      bytes[at] = choices[Math.floor(random() * choices.length)]! & 0xff;
      return bytes;
    }
    default: {
      // random chunk overwritten
      const at = pick();
      for (let i = at; i < Math.min(bytes.length, at + 1 + Math.floor(random() * 64)); i++)
        bytes[i] = Math.floor(random() * 256);
      return bytes;
    }
  }
}

export interface FuzzResult {
  seed: number;
  cases: number;
  refused: number;
  problems: string[];
}

/**
 * Runs `cases` mutants from `seed`; `onCase` hears each case number before it runs (the watchdog's clue). Cases
 * before `from` are made (the sequence depends on them) but not analysed: one case found by a long run replays alone.
 */
export function fuzz(seed: number, cases: number, onCase: (c: number) => void = () => {}, from = 0): FuzzResult {
  const random = seededRandom(seed);
  const sources = SOURCES.map(([name, path]) => [name, read(path)] as const);
  const lengths = sources.map(([, b]) => lengthFieldOffsets(b));
  const problems: string[] = [];
  let refused = 0;
  for (let c = 0; c < cases; c++) {
    onCase(c);
    const s = c % sources.length;
    const [name, source] = sources[s]!;
    const mutant = mutate(source, random, lengths[s]!);
    if (c < from) continue;
    try {
      analyzeModel(mutant, `${name}.onnx`);
    } catch (error) {
      refused++;
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof ModelError)) problems.push(`seed ${seed} case ${c} (${name}): ${String(error)}`);
      else if (message.includes('\n') || !message.startsWith(`${name}.onnx`) || message.length > 300)
        problems.push(`seed ${seed} case ${c} (${name}): unreadable message: ${message}`);
    }
  }
  return { seed, cases: cases - from, refused, problems };
}
