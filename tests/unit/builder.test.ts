import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { float, int } from '../../renderer/src/core/onnx/attrs';
import { GraphBuilder } from '../../renderer/src/core/onnx/builder';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { DataType } from '../../renderer/src/core/onnx/dtypes';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { bundledModel } from '../helpers/files';
import { decodeFile, validModels } from '../helpers/models';

const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');

describe('graph builder', () => {
  it('synthesises a model that onnxruntime runs: y = relu(x · 2 + b)', async () => {
    const g = GraphBuilder.create({ name: 'tiny', opset: 13 });
    const x = g.input('x', DataType.FLOAT, ['N', 4]);
    const two = g.scalar('two', 2);
    const b = g.floats('b', [4], [1, -1, 0.5, -0.5]);
    const y = g.op('Relu', [g.op('Add', [g.op('Mul', [x, two]), b])]);
    g.output(y, DataType.FLOAT, ['N', 4]);
    const model = decodeModel(encodeModel(g.build()), { name: 'tiny' });
    const session = await ortNode.InferenceSession.create(encodeModel(model));
    const out = await session.run({ [x]: new ortNode.Tensor('float32', Float32Array.of(1, 1, -1, 0), [1, 4]) });
    expect(Array.from(out[y]!.data as Float32Array)).toEqual([3, 1, 0, 0]);
  });

  it('gives unique names that never collide with the graph’s tensors or nodes', () => {
    const model = decodeModel(bundledModel('resnet20'), { name: 'resnet20' });
    const g = new GraphBuilder(model);
    const taken = new Set([
      ...model.graph.nodes.flatMap((n) => [n.name, ...n.inputs, ...n.outputs]),
      ...model.graph.constants.keys(),
    ]);
    const fresh = Array.from({ length: 50 }, () => g.unique(model.graph.nodes[3]!.outputs[0]!));
    expect(new Set(fresh).size).toBe(50);
    for (const name of fresh) expect(taken.has(name)).toBe(false);
  });

  it('prunes dead nodes and unused weights, and keeps typed attributes typed', () => {
    const model = decodeModel(bundledModel('resnet20'), { name: 'resnet20' });
    const t = detectTopology(model);
    const g = new GraphBuilder(model);
    // Cut the first block's branch: its Add now reads the shortcut twice, so the branch is dead code.
    const block = t.blocks[0]!;
    const add = g.graphNodes.find((n) => n.outputs[0] === block.sum)!;
    add.inputs[block.branchOperand] = block.shortcutOutput;
    g.op('LeakyRelu', [block.sum], { alpha: float(1) });
    const built = g.build();
    const dropped = model.graph.nodes.length - built.graph.nodes.length;
    // The branch is gone, and so is the added LeakyRelu, whose output nobody reads.
    expect(dropped).toBe(block.branch.length);
    expect(built.graph.initializers.length).toBeLessThan(model.graph.initializers.length);
    const again = decodeModel(encodeModel(g.build({ prune: false })), { name: 'x' });
    const leaky = again.graph.nodes.find((n) => n.opType === 'LeakyRelu')!;
    expect(leaky.attrs.get('alpha')).toEqual({ type: 'float', value: 1 });
    const conv = again.graph.nodes.find((n) => n.opType === 'Conv')!;
    expect(conv.attrs.get('group') ?? int(1)).toEqual({ type: 'int', value: 1 });
  });

  it('refuses a graph that reads an undefined tensor, with a one-line message', () => {
    const model = decodeModel(bundledModel('resnet20'), { name: 'resnet20' });
    const g = new GraphBuilder(model);
    g.op('Relu', ['no_such_tensor']);
    g.output(g.graphNodes.at(-1)!.outputs[0]!);
    expect(() => g.build()).toThrow(ModelError);
    expect(() => g.build()).toThrow(/reads "no_such_tensor", which nothing defines/);
  });
});

describe('blocks record which Add operand is the branch and which the shortcut', () => {
  for (const file of validModels().present.filter((f) => !f.startsWith('.cache/'))) {
    it(file, () => {
      const model = decodeFile(file);
      const t = detectTopology(model);
      const producer = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.index] as const)));
      for (const b of t.blocks) {
        const add = model.graph.nodes[b.addNode]!;
        expect(add.inputs[b.branchOperand]).toBe(b.branchOutput);
        expect(add.inputs[1 - b.branchOperand]).toBe(b.shortcutOutput);
        expect(b.branch).toContain(producer.get(b.branchOutput));
        if (b.shortcut === 'identity')
          expect(
            b.shortcutNodes.length === 0 ||
              b.shortcutNodes.every(
                (n) => model.graph.nodes[n]!.opType === 'Identity' || model.graph.nodes[n]!.opType === 'Dropout',
              ),
          ).toBe(true);
        else expect(b.shortcutNodes).toContain(producer.get(b.shortcutOutput));
      }
    });
  }
});
