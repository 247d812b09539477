import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../cli/files';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import type { Graph, Model, Tensor } from '../../renderer/src/core/onnx/model';
import { ROOT } from '../helpers/files';
import { decodeFile, validModels } from '../helpers/models';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const { present, absent } = validModels();
const work = mkdtempSync(join(tmpdir(), 'skipscope-encode-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A model as plain data for deep equality: tensors by their values, not by where the bytes live. */
function plain(model: Model): unknown {
  const tensor = (t: Tensor) => ({
    name: t.name,
    dataType: t.dataType,
    dims: t.dims,
    raw: t.raw ? Buffer.from(t.raw).toString('base64') : null,
    floatData: t.floatData,
    intData: t.intData,
  });
  const graph = (g: Graph): unknown => ({
    name: g.name,
    inputs: g.inputs,
    outputs: g.outputs,
    valueInfo: [...g.valueInfo],
    initializers: g.initializers,
    constants: [...g.constants].map(([k, t]) => [k, tensor(t)]),
    nodes: g.nodes.map((n) => ({
      ...n,
      attrs: [...n.attrs].map(([k, a]) => [
        k,
        a.type === 'tensor' ? tensor(a.value) : a.type === 'graph' ? graph(a.value) : a,
      ]),
    })),
  });
  const { byteLength: _bytes, graph: g, opsets, ...rest } = model;
  return { ...rest, opsets: [...opsets], graph: graph(g) };
}

describe('ONNX writer: decode → encode → decode is the identity on every test model', () => {
  for (const file of absent) it.skip(`${file} (not generated: npm run fixtures -- --large)`, () => {});
  for (const file of present) {
    it(file, () => {
      const model = decodeFile(file);
      const bytes = encodeModel(model);
      const again = decodeModel(bytes, { name: model.name });
      expect(plain(again)).toEqual(plain(model));
      // Written models are self-contained (external data is inlined).
      expect(again.graph.initializers.every((n) => again.graph.constants.get(n)!.external === null)).toBe(true);
    });
  }
});

describe('written models run in onnxruntime-node with identical logits', () => {
  // The large models take long to run twice; the small ones cover every exporter form.
  const small = present.filter((f) => !f.startsWith('.cache/'));
  for (const file of small) {
    it(file, async () => {
      const { bytes, resolveExternal } = readModelFile(join(ROOT, file));
      const original = decodeModel(bytes, { name: file, resolveExternal });
      const rewritten = encodeModel(original);
      // The original may keep its weights in an external file: load it from its own folder.
      const a = await ortNode.InferenceSession.create(join(ROOT, file));
      const b = await ortNode.InferenceSession.create(rewritten);
      const input = original.graph.inputs[0]!;
      const dims = input.shape!.map((d) => (typeof d === 'number' ? d : 2));
      const x = Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i * 12.9898) * 2);
      const feed = { [input.name]: new ortNode.Tensor('float32', x, dims) };
      const [ra, rb] = [await a.run(feed), await b.run(feed)];
      for (const name of a.outputNames)
        expect(Array.from(rb[name]!.data as Float32Array)).toEqual(Array.from(ra[name]!.data as Float32Array));
      await a.release();
      await b.release();
    });
  }
});

describe.skipIf(!hasTorch())('the ONNX checker (python3-onnx, full_check) accepts every written model', () => {
  it(`accepts what it accepts of the originals, in every opset the installed onnx knows${hasTorch() ? '' : ` — skipped: ${NO_TORCH}`}`, () => {
    mkdirSync(work, { recursive: true });
    const known = Number(runPython('import onnx.defs; print(onnx.defs.onnx_opset_version())'));
    const checked = present.filter((file) => decodeFile(file).opset <= known);
    // Newer opsets (18–21 with Debian's onnx 1.12) are refereed by onnxruntime in opsets.test.ts.
    expect(present.length - checked.length).toBe(present.filter((f) => /_op(1[89]|2\d)\.onnx$/.test(f)).length);
    const pairs = checked.map((file, i) => {
      const out = join(work, `m${i}.onnx`);
      writeFileSync(out, encodeModel(decodeFile(file)));
      return [join(ROOT, file), out];
    });
    const verdicts = JSON.parse(
      runPython(
        `
import json, sys, onnx
def check(path):
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        return 'ok'
    except Exception as e:
        return str(e).splitlines()[0][:200]
pairs = json.loads(sys.argv[1])
print(json.dumps([[check(a), check(b)] for a, b in pairs]))
`,
        [JSON.stringify(pairs)],
      ),
    ) as [string, string][];
    const problems = verdicts
      .map(([original, written], i) => ({ file: checked[i], original, written }))
      .filter((v) => v.original === 'ok' && v.written !== 'ok');
    expect(problems).toEqual([]);
    // The originals themselves must pass, or the comparison says nothing.
    expect(checked.filter((_, i) => verdicts[i]![0] !== 'ok')).toEqual([]);
    // One Python run checks every model, the generated large ones too (hundreds of MB): on a heavily loaded machine it
    // ran past the default 120 s.
  }, 480_000);
});
