import { describe, expect, it } from 'vitest';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { analyzeModel } from '../../renderer/src/core/summary';
import { bundledModel, readBytes } from '../helpers/files';

/** Small seeded PRNG (mulberry32) so a failure can be replayed from its case number. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

describe('fuzzing decode + topology with mutated copies of real models', () => {
  const sources = [
    ['resnet20', bundledModel('resnet20')],
    ['resnet8-projection', readBytes('tests/fixtures/models/cifar_resnet8_b_op11_bn.onnx')],
    ['preact14', readBytes('tests/fixtures/models/cifar_preact_resnet14_op9_bn.onnx')],
    ['zoo-v2-opset7', readBytes('tests/fixtures/models/zoo_resnet18v2_w8_op7_ir3.onnx')],
  ] as const;
  const CASES = 10_000;

  it(`${CASES} mutants: no crash, no hang over 1 s, every failure a one-line ModelError`, () => {
    const random = rng(20261122);
    const lengths = sources.map(([, b]) => lengthFieldOffsets(b));
    const problems: string[] = [];
    let refused = 0;
    let slowest = 0;
    for (let c = 0; c < CASES; c++) {
      const s = c % sources.length;
      const [name, source] = sources[s]!;
      const mutant = mutate(source, random, lengths[s]!);
      const started = performance.now();
      try {
        analyzeModel(mutant, `${name}.onnx`);
      } catch (error) {
        refused++;
        const message = error instanceof Error ? error.message : String(error);
        if (!(error instanceof ModelError)) problems.push(`case ${c} (${name}): ${String(error)}`);
        else if (message.includes('\n') || !message.startsWith(`${name}.onnx`) || message.length > 300) {
          problems.push(`case ${c} (${name}): unreadable message: ${message}`);
        }
      }
      const ms = performance.now() - started;
      slowest = Math.max(slowest, ms);
      if (ms > 1000) problems.push(`case ${c} (${name}): took ${ms.toFixed(0)} ms`);
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // The mutations must actually hurt: most mutants are refused (bit flips inside weights legitimately pass).
    expect(refused).toBeGreaterThan(CASES / 4);
    expect(slowest).toBeLessThan(1000);
  });
});
