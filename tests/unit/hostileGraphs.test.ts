import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { analyzeModel } from '../../renderer/src/core/summary';
import { ROOT } from '../helpers/files';

/**
 * Graphs built to break the analysis (found by a fuzzing campaign over more models than the CI fuzzer mutates):
 * tensors written twice and cycles, and small constants paired with huge or many-axis shapes that shape rules walked
 * axis by axis. Analysed in a child under a time limit: each of them once looped for minutes or killed the process.
 */
const dir = mkdtempSync(join(tmpdir(), 'skipscope-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (path: string) => onnx.ModelProto.decode(readFileSync(join(ROOT, path)));
const INT64 = 7;
const ints = (name: string, dims: number[], values: number[]): onnx.ITensorProto => ({
  name,
  dataType: INT64,
  dims,
  int64Data: values,
});

function write(name: string, model: onnx.IModelProto): string {
  const file = join(dir, `${name}.onnx`);
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}

/** hand_resnet_op18 with extra initializers and nodes appended (they feed nothing the network reads). */
function withExtra(name: string, init: onnx.ITensorProto[], nodes: onnx.INodeProto[]): string {
  const m = read('tests/fixtures/models/hand_resnet_op18.onnx');
  m.graph!.initializer!.push(...init);
  m.graph!.node!.push(...nodes);
  return write(name, m);
}

interface Analysed {
  file: string;
  blocks?: number;
  error?: string;
  message?: string;
}

function analyse(files: string[]): Record<string, Analysed> {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'tests/fuzz/analyze.ts', ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0)
    throw new Error(`the analysis ended with ${run.signal ?? run.status}: ${run.stderr.slice(-500)}`);
  return Object.fromEntries(
    run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Analysed)
      .map((r) => [r.file.replace(/\.onnx$/, ''), r]),
  );
}

describe('hostile graphs: refused in one line or analysed, never a hang', () => {
  it('tensors written twice, cycles, huge empty constants, many-axis folded tensors', () => {
    const big = 2 ** 39;
    // A Relu → Identity loop after a residual Add, the Add's readers rewired past it (the Add's output written twice).
    const twice = read('tests/fixtures/models/hand_resnet_op18.onnx');
    const nodes = twice.graph!.node!;
    const add = nodes.find((n) => n.opType === 'Add')!;
    const sum = add.output![0]!;
    for (const n of nodes) n.input = n.input!.map((t) => (t === sum ? add.input![0]! : t));
    nodes.unshift(
      { opType: 'Relu', input: [sum], output: ['loop_t'], name: 'loop1' },
      { opType: 'Identity', input: ['loop_t'], output: [sum], name: 'loop2' },
    );
    // A cycle with names written once: two nodes reading each other's outputs.
    const cycle = read('tests/fixtures/models/hand_resnet_op18.onnx');
    cycle.graph!.node!.push(
      { opType: 'Relu', input: ['cyc_b'], output: ['cyc_a'], name: 'cycA' },
      { opType: 'Relu', input: ['cyc_a'], output: ['cyc_b'], name: 'cycB' },
    );
    const shape = [64, 64, 64, 64, 64, 64, 64, 64, 64, 0];
    const files = [
      write('twice', twice),
      write('cycle', cycle),
      // Slice, ScatterND and Gather over a [2^39, 0] constant (no values, 2^39 rows).
      withExtra(
        'slice',
        [ints('Z', [big, 0], []), ints('st', [1], [0]), ints('en', [1], [big]), ints('ax', [1], [0])],
        [{ opType: 'Slice', input: ['Z', 'st', 'en', 'ax'], output: ['zs'], name: 'zslice' }],
      ),
      withExtra(
        'scatternd',
        [ints('D', [1], [5]), ints('Zi', [big, 0], []), ints('U', [1], [7])],
        [{ opType: 'ScatterND', input: ['D', 'Zi', 'U'], output: ['zsc'], name: 'zscatter' }],
      ),
      withExtra(
        'gather',
        [ints('Zg', [big, 0], []), ints('gi', [1], [0])],
        [
          {
            opType: 'Gather',
            input: ['Zg', 'gi'],
            output: ['zg'],
            name: 'zgather',
            attribute: [{ name: 'axis', type: 2, i: 1 }],
          },
        ],
      ),
      // ConstantOfShape of [64, …, 64, 0] (empty), then Gather on axis 8 (64^8 outer rows) and ScatterND.
      withExtra(
        'fold_gather',
        [ints('fs', [10], shape), ints('gi', [1], [0])],
        [
          { opType: 'ConstantOfShape', input: ['fs'], output: ['E'], name: 'cos' },
          {
            opType: 'Gather',
            input: ['E', 'gi'],
            output: ['g'],
            name: 'g',
            attribute: [{ name: 'axis', type: 2, i: 8 }],
          },
        ],
      ),
      withExtra(
        'fold_scatternd',
        [ints('fs', [10], shape), ints('D', [1], [5]), ints('U', [1], [7])],
        [
          { opType: 'ConstantOfShape', input: ['fs'], output: ['E'], name: 'cos' },
          { opType: 'ScatterND', input: ['D', 'E', 'U'], output: ['sc'], name: 'sc' },
        ],
      ),
    ];
    const r = analyse(files);
    expect(r.twice).toMatchObject({
      error: 'ModelError',
      message: `twice.onnx is not a valid ONNX graph: two nodes write the tensor "${sum}"`,
    });
    expect(r.cycle).toMatchObject({
      error: 'ModelError',
      message: expect.stringMatching(
        /^cycle\.onnx is not a valid ONNX graph: its nodes form a cycle \(through Relu "cyc[AB]"\)$/,
      ),
    });
    const blocks = analyzeModel(readFileSync(join(ROOT, 'tests/fixtures/models/hand_resnet_op18.onnx')), 'h.onnx')
      .topology.blocks.length;
    for (const name of ['slice', 'scatternd', 'gather', 'fold_gather', 'fold_scatternd'])
      expect(r[name]).toEqual({ file: `${name}.onnx`, blocks });
  });

  it('a graph listed out of order (onnxruntime loads it) is sorted and analysed as the ordered one', () => {
    const ordered = read('models/cifar10/resnet20.onnx');
    const reversed = read('models/cifar10/resnet20.onnx');
    reversed.graph!.node!.reverse();
    const a = analyzeModel(onnx.ModelProto.encode(ordered).finish(), 'a.onnx');
    const b = analyzeModel(onnx.ModelProto.encode(reversed).finish(), 'b.onnx');
    expect(b.model.graph.nodes.map((n, i) => n.index === i)).not.toContain(false);
    expect(b.topology.blocks.map((k) => [k.stage, k.shortcut, k.downsample])).toEqual(
      a.topology.blocks.map((k) => [k.stage, k.shortcut, k.downsample]),
    );
    expect(b.architecture).toEqual(a.architecture);
  });
});
