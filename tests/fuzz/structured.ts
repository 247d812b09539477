/**
 * The structured fuzzer: real models decoded with the project's generated protobuf codec, one or two of their FIELDS
 * mutated (dims, element types, data lengths, attributes, inputs, ops, opsets, external data, outputs), encoded
 * again, and run through the CLI's own entry (`main` of cli/main.ts: `inspect --json`, then `predict --cifar-bin`
 * on a few CIFAR images, which creates a real onnxruntime session). Every outcome must be exit 0 with sane figures
 * or exit 2 with exactly one line. Seeded and count-based: the same seed gives the same mutants, whatever the machine.
 * Runs as its own process (tests/fuzz/cliRun.ts) so that the test can kill it on a hang and name the case.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../cli/main';
import type { PredictJson } from '../../cli/predict';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import type { InspectJson } from '../../renderer/src/core/report';
import { seededRandom } from '../../renderer/src/lab/stats';

const ROOT = resolve(import.meta.dirname, '../..');

export const STRUCTURED_SOURCES = [
  ['resnet8-a', 'tests/fixtures/models/cifar_resnet8_a_op13.onnx'],
  ['resnet8-b', 'tests/fixtures/models/cifar_resnet8_b_op11_bn.onnx'],
  ['preact8', 'tests/fixtures/models/cifar_preact_resnet8_stem8_op13_bn.onnx'],
  ['plain8', 'tests/fixtures/models/cifar_plain8_op13.onnx'],
  ['resnet20', 'models/cifar10/resnet20.onnx'],
] as const;

/** Images predict runs on: the first few of the bundled CIFAR test batch. */
export const FUZZ_IMAGES = 6;

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Dims, values and counts a hostile file would use: zero, negative, off by one, 2^31, 2^40, 10^12. */
const NASTY = [0, -1, -7, 1, 2, 3, 2 ** 31, 2 ** 40, 1e12];
const DTYPES = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 14, 16, 21, 99];
const WINDOW_ATTRS = ['strides', 'pads', 'kernel_shape', 'dilations', 'group', 'auto_pad', 'ceil_mode'];
const OPS = ['Relu', 'Sigmoid', 'Frobnicate', 'Add', 'Conv', 'MatMul', 'Identity', 'Softmax', 'Flatten', '', 'Loop'];

/** One field-level mutation of `m` (in place); returns what it did, for the report. */
function mutateOnce(m: onnx.ModelProto, random: Random): string {
  // Decoded messages carry every repeated field as an array (empty when absent).
  const g = m.graph as Required<onnx.IGraphProto> & {
    input: Required<onnx.IValueInfoProto>[];
    output: onnx.IValueInfoProto[];
  };
  const inits = g.initializer as (onnx.ITensorProto & { dims: number[]; name: string })[];
  const nodes = g.node as (onnx.INodeProto & {
    input: string[];
    output: string[];
    attribute: onnx.IAttributeProto[];
  })[];
  const kind = Math.floor(random() * 13);
  switch (kind) {
    case 11:
    case 12: {
      // Mutations a valid model survives: another activation, names and strings full of control characters,
      // metadata. They keep a share of the mutants running to the end, where their figures are checked.
      const r = random();
      if (r < 0.4) {
        const acts = nodes.filter((n) => n.opType === 'Relu');
        const n = pick(random, acts.length ? acts : nodes);
        n.opType = pick(random, ['Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'Softplus', 'Identity']);
        return `an activation → ${n.opType}`;
      }
      const junk = Array.from({ length: 1 + Math.floor(random() * 40) }, () =>
        String.fromCharCode(pick(random, [0x1b, 0x0d, 0x07, 0x9b, 0x202e, 0x41, 0x5b, 0x32, 0x4a])),
      ).join('');
      if (r < 0.6) m.producerName = junk;
      else if (r < 0.8) pick(random, nodes).name = junk;
      else m.metadataProps = [{ key: junk, value: junk }];
      return 'control characters in a name';
    }
    case 0: {
      // A dim of an initializer: nasty, off by one, or one more or fewer dims.
      const t = pick(random, inits);
      const dims = t.dims.map(Number);
      const r = random();
      if (r < 0.15) dims.push(pick(random, [1, 2, 3]));
      else if (r < 0.3) dims.pop();
      else {
        const i = Math.floor(random() * Math.max(1, dims.length));
        dims[i] = random() < 0.5 ? pick(random, NASTY) : (dims[i] ?? 1) + pick(random, [-1, 1, 2]);
      }
      t.dims = dims;
      return `dims of ${t.name} → [${dims.join(', ')}]`;
    }
    case 1: {
      const t = pick(random, inits);
      t.dataType = pick(random, DTYPES);
      return `data type of ${t.name} → ${t.dataType}`;
    }
    case 2: {
      // The stored data: cut, extended, emptied, or moved into a typed field of another length.
      const t = pick(random, inits);
      const raw = t.rawData ?? new Uint8Array(0);
      const r = random();
      if (r < 0.3) t.rawData = raw.subarray(0, Math.floor(random() * raw.length));
      else if (r < 0.5) t.rawData = new Uint8Array(raw.length + pick(random, [1, 3, 4, 16, 4096]));
      else if (r < 0.7) t.rawData = new Uint8Array(0);
      else {
        t.rawData = new Uint8Array(0);
        t.floatData = Array.from({ length: Math.floor(random() * 64) }, () => random());
      }
      return `data of ${t.name} → ${t.rawData.length} raw bytes, ${t.floatData?.length ?? 0} floats`;
    }
    case 3: {
      // A window op's attribute: out of range, wrong length, wrong type, or gone.
      const windowed = nodes.filter((n) => ['Conv', 'MaxPool', 'AveragePool'].includes(n.opType ?? ''));
      const n = pick(random, windowed.length ? windowed : nodes);
      const name = pick(random, WINDOW_ATTRS);
      n.attribute = n.attribute.filter((a) => a.name !== name);
      const r = random();
      const AT = onnx.AttributeProto.AttributeType;
      if (r < 0.2) return `${n.opType} ${name} removed`;
      if (name === 'group' || name === 'ceil_mode' || r < 0.3) {
        const value = random() < 0.5 ? pick(random, NASTY) : pick(random, [2, 3, 4, 16]);
        n.attribute.push({ name, type: AT.INT, i: value });
        return `${n.opType} ${name} → int ${value}`;
      }
      if (name === 'auto_pad') {
        const value = pick(random, ['SAME_UPPER', 'VALID', 'NOTSET', 'BOGUS']);
        n.attribute.push({ name, type: AT.STRING, s: new TextEncoder().encode(value) });
        return `${n.opType} auto_pad → ${value}`;
      }
      const length = pick(random, [1, 2, 2, 2, 3, 4, 4]);
      const ints = Array.from({ length }, () => (random() < 0.4 ? pick(random, NASTY) : pick(random, [1, 2, 3])));
      n.attribute.push({ name, type: AT.INTS, ints });
      return `${n.opType} ${name} → [${ints.join(', ')}]`;
    }
    case 4: {
      // The graph's inputs: a second one, another element type, other dims, none.
      const input = g.input[0];
      const r = random();
      if (!input?.type?.tensorType?.shape?.dim?.length) return 'nothing (no image input left)';
      if (r < 0.25) {
        g.input.push({
          name: 'extra',
          type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 10 }] } } },
        });
        if (random() < 0.5 && g.output[0]?.name) {
          const out = g.output[0].name;
          for (const n of nodes) n.output = n.output.map((o) => (o === out ? `${out}_pre` : o));
          nodes.push({ opType: 'Add', input: [`${out}_pre`, 'extra'], output: [out], attribute: [] });
        }
        return 'a second input';
      }
      if (r < 0.45) {
        input.type!.tensorType!.elemType = pick(random, [7, 8, 10, 11, 0]);
        return `input type → ${input.type!.tensorType!.elemType}`;
      }
      if (r < 0.85) {
        const dims = input.type!.tensorType!.shape!.dim!;
        const i = Math.floor(random() * dims.length);
        const value = pick(random, [...NASTY, 16, 64, 4096, 16384, 100000]);
        dims[i] = { dimValue: value };
        if (random() < 0.5 && i >= 2) dims[5 - i] = { dimValue: value };
        return `input dim ${i} → ${value}`;
      }
      g.input = [];
      return 'no inputs';
    }
    case 5: {
      // An op: renamed, moved to a custom domain, removed, doubled, or rewired.
      const i = Math.floor(random() * nodes.length);
      const n = nodes[i]!;
      const r = random();
      if (r < 0.35) {
        n.opType = pick(random, OPS);
        return `node ${i} → op ${n.opType}`;
      }
      if (r < 0.5) {
        n.domain = pick(random, ['com.evil', 'ai.onnx.ml', 'com.microsoft']);
        return `node ${i} → domain ${n.domain}`;
      }
      if (r < 0.65) {
        nodes.splice(i, 1);
        return `node ${i} removed`;
      }
      if (r < 0.75) {
        nodes.splice(i, 0, { ...n, name: `${n.name}_twin` });
        return `node ${i} doubled`;
      }
      const tensors = [...nodes.flatMap((x) => x.output), ...inits.map((t) => t.name!), 'ghost', ''];
      const k = Math.floor(random() * Math.max(1, n.input.length + 1));
      const inputs = [...n.input];
      inputs[k] = pick(random, tensors);
      n.input = inputs;
      return `node ${i} input ${k} → ${inputs[k]}`;
    }
    case 6: {
      const set = pick(random, m.opsetImport);
      set.version = pick(random, [0, 1, 5, 7, 9, 99, 1000]);
      return `opset ${set.domain || 'ai.onnx'} → ${set.version}`;
    }
    case 7: {
      // An initializer moved to external data that is refused: out of the folder, absolute, missing, empty.
      const t = pick(random, inits);
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      const location = pick(random, ['../escape.bin', '/etc/passwd', 'missing.bin', '', 'sub/../../x.bin']);
      t.externalData = [
        { key: 'location', value: location },
        { key: 'offset', value: String(pick(random, [0, -1, 2 ** 40])) },
      ];
      t.rawData = new Uint8Array(0);
      return `${t.name} → external "${location}"`;
    }
    case 8: {
      const r = random();
      if (r < 0.4) g.output = [];
      else if (g.output[0]) g.output[0].name = pick(random, ['ghost', g.input[0]?.name ?? 'x', '']);
      return 'outputs changed';
    }
    case 9: {
      // A node's inputs cut or padded: Conv without a weight, extra operands.
      const n = pick(random, nodes);
      if (random() < 0.5) n.input = n.input.slice(0, Math.floor(random() * n.input.length));
      else n.input = [...n.input, pick(random, [...inits.map((t) => t.name!), 'ghost'])];
      return `${n.opType} inputs → ${n.input.length}`;
    }
    default: {
      // A Conv's weight traded for a string tensor or another initializer of another shape.
      const conv = nodes.filter((n) => n.opType === 'Conv');
      const n = pick(random, conv.length ? conv : nodes);
      if (random() < 0.5) {
        inits.push({
          name: 'strings',
          dataType: 8,
          dims: [2],
          stringData: [new TextEncoder().encode('cat'), new TextEncoder().encode('dog')],
        });
        n.input = [...n.input.slice(0, 1), 'strings', ...n.input.slice(2)];
        return `${n.opType} weight → string tensor`;
      }
      n.input = [...n.input.slice(0, 1), pick(random, inits).name!, ...n.input.slice(2)];
      return `${n.opType} weight → ${n.input[1]}`;
    }
  }
}

/** A mutant: the source decoded, one or two fields changed, encoded again. */
export function mutant(source: Uint8Array, random: Random): { bytes: Uint8Array; what: string[] } {
  const m = onnx.ModelProto.decode(source);
  const what: string[] = [];
  const count = random() < 0.7 ? 1 : 2;
  for (let i = 0; i < count; i++) what.push(mutateOnce(m, random));
  return { bytes: onnx.ModelProto.encode(m).finish(), what };
}

/** The CLI's `main` with its output captured; progress (which the CLI writes to stderr directly) is not. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    args,
    (s) => {
      out += `${s}\n`;
    },
    (s) => {
      err += `${s}\n`;
    },
  );
  return { code, out, err };
}

/** What makes an outcome wrong: exit 1, any other code, or exit 2 with other than one line. */
function judgeExit(what: string, r: { code: number; err: string }): string | null {
  if (r.code === 0) return null;
  const lines = r.err.trimEnd().split('\n');
  if (r.code !== 2) return `${what}: exit ${r.code}: ${r.err.trim()}`;
  if (lines.length !== 1 || !lines[0]!.startsWith('skipscope: ') || lines[0]!.length < 15)
    return `${what}: exit 2 without one clear line: ${JSON.stringify(r.err)}`;
  return null;
}

/** Figures a report must have to be believed: finite, in range, no more parameters than the file has bytes. */
function judgeInspect(j: InspectJson, bytes: number): string | null {
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  // Unknown (null) is an honest answer; a number must be believable, and so must the lower bound beside it.
  if (j.parameters !== null && (!finite(j.parameters) || j.parameters > 2 * bytes))
    return `parameters ${j.parameters} for ${bytes} bytes`;
  if (!finite(j.parametersAtLeast) || j.parametersAtLeast > 2 * bytes)
    return `at least ${j.parametersAtLeast} parameters for ${bytes} bytes`;
  if (j.macs !== null && (!finite(j.macs) || j.macs > 2 ** 53)) return `MACs ${j.macs}`;
  if (!finite(j.macsAtLeast) || j.macsAtLeast > 2 ** 53) return `at least ${j.macsAtLeast} MACs`;
  if (!finite(j.depth) || j.depth > 10_000) return `depth ${j.depth}`;
  for (const l of j.layers) {
    if (!finite(l.params) || (l.macs !== null && !finite(l.macs)))
      return `a layer with params ${l.params}, MACs ${l.macs}`;
    if (l.outShape?.some((d) => !Number.isSafeInteger(d) || d < 0)) return `a layer of shape ${l.outShape}`;
  }
  return null;
}

function judgePredict(j: PredictJson): string | null {
  if (j.top1 && !(j.top1.n <= FUZZ_IMAGES && (j.top1.rate === null || (j.top1.rate >= 0 && j.top1.rate <= 1))))
    return `top-1 ${JSON.stringify(j.top1)}`;
  if (!j.predictions || j.predictions.length !== FUZZ_IMAGES) return `${j.predictions?.length} predictions`;
  if (j.predictions.some((p) => !Number.isInteger(p) || p < -1)) return `predictions ${j.predictions}`;
  return null;
}

export interface StructuredResult {
  seed: number;
  cases: number;
  /** Cases both commands refused (exit 2); the rest ran. */
  refused: number;
  /** Cases predict ran to the end (exit 0). */
  predicted: number;
  problems: string[];
}

/** Runs `cases` mutants from `seed` through inspect and predict; `onCase` hears each case number before it runs. */
export async function fuzzCli(
  seed: number,
  cases: number,
  onCase: (c: number) => void = () => {},
): Promise<StructuredResult> {
  const random = seededRandom(seed);
  const sources = STRUCTURED_SOURCES.map(([name, path]) => [name, readFileSync(resolve(ROOT, path))] as const);
  const dir = mkdtempSync(join(tmpdir(), 'skipscope-structured-'));
  const cifar = join(dir, 'images.bin');
  writeFileSync(
    cifar,
    readFileSync(resolve(ROOT, 'assets/data/cifar10/test_first932.bin')).subarray(0, FUZZ_IMAGES * 3073),
  );
  const problems: string[] = [];
  let refused = 0;
  let predicted = 0;
  try {
    for (let c = 0; c < cases; c++) {
      onCase(c);
      const [name, source] = sources[c % sources.length]!;
      const { bytes, what } = mutant(source, random);
      const file = join(dir, `${name}.onnx`);
      writeFileSync(file, bytes);
      const label = `seed ${seed} case ${c} (${name}: ${what.join('; ')})`;
      const inspect = await run(['inspect', file, '--json']);
      const bad = judgeExit(`${label}: inspect`, inspect);
      if (bad) problems.push(bad);
      else if (inspect.code === 0) {
        const why = judgeInspect(JSON.parse(inspect.out) as InspectJson, bytes.byteLength);
        if (why) problems.push(`${label}: inspect exit 0 with ${why}`);
      }
      const predict = await run(['predict', file, '--cifar-bin', cifar, '--json']);
      const badPredict = judgeExit(`${label}: predict`, predict);
      if (badPredict) problems.push(badPredict);
      else if (predict.code === 0) {
        predicted++;
        const why = judgePredict(JSON.parse(predict.out) as PredictJson);
        if (why) problems.push(`${label}: predict exit 0 with ${why}`);
      }
      if (inspect.code === 2 && predict.code === 2) refused++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed, cases, refused, predicted, problems };
}
