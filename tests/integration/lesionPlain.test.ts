import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { buildResNet } from '../../renderer/src/core/build/resnet';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { lesionTarget, takesLesions, targetLesion } from '../../renderer/src/core/rewrite/plain';
import { removeBlocks } from '../../renderer/src/core/rewrite/remove';
import { analyzeModel } from '../../renderer/src/core/summary';
import { detectTopology } from '../../renderer/src/core/topology/detect';
import { plainUnits } from '../../renderer/src/core/topology/plainUnits';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { ResultCache } from '../../renderer/src/lab/cache';
import { describeInput } from '../../renderer/src/lab/inputs';
import { quietJob } from '../../renderer/src/lab/job';
import { LesionEngine } from '../../renderer/src/lab/lesion';
import { runSweep } from '../../renderer/src/lab/lesionLab';
import { themes } from '../../renderer/src/scene/theme';
import { colorBlocks } from '../../renderer/src/ui/network/colorModes';
import type { LabResults } from '../../renderer/src/worker/protocol';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';
import { hasTorch, NO_TORCH, PYTHON } from '../helpers/python';
import { CIFAR } from '../helpers/reference';
import { argmax, cifarLogits, MEAN, RECORD, STD, tied, worstRelative as worst } from '../helpers/torchLogits';

/**
 * Layers taken out of plain networks (Veit et al.'s VGG experiment) against PyTorch:
 * tests/fixtures/plain_lesion_reference.py decides from the modules which layers keep their input's shape and skips
 * them in the forward pass, in float64. Skipscope finds them in the ONNX graph (plainUnits), removes them there, and
 * its lesion engine runs them as joins with closed skips; all must agree.
 */

const COUNT = 40;
const work = mkdtempSync(join(tmpdir(), 'skipscope-lesion-plain-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Reference {
  removable: number[];
  intact: number[][];
  removed: number[][][];
  pair: [number, number];
  pairRemoved: number[][];
}

function reference(net: string): { ref: Reference; onnx: string } {
  const out = join(work, `${net}.json`);
  const onnx = net === 'vgg' ? join(work, 'vgg.onnx') : resolve(ROOT, `tests/fixtures/models/${net}.onnx`);
  const run = spawnSync(
    PYTHON,
    [
      resolve(ROOT, 'tests/fixtures/plain_lesion_reference.py'),
      net,
      resolve(ROOT, 'assets/data/cifar10/test_first932.bin'),
      String(COUNT),
      out,
      ...(net === 'vgg' ? [onnx] : []),
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (run.status !== 0) throw new Error(`plain_lesion_reference.py failed: ${run.stderr.slice(-2000)}`);
  return { ref: JSON.parse(readFileSync(out, 'utf8')) as Reference, onnx };
}

describe('removable layers of a plain network', () => {
  it('plain-20 (the builder): every 3×3 convolution that keeps its width, not the stem, the two widening ones or the classifier', () => {
    const { model } = buildResNet({ variant: 'plain', depth: 20, width: 16, seed: 0, dataset: 'cifar' });
    const t = detectTopology(model);
    expect(t.kind).toBe('plain');
    const units = plainUnits(model, t);
    // 19 convolutions + 1 classifier; the stem (3 → 16) and the first of stages 2 and 3 (stride 2, wider) change shape.
    const convs = t.layers.flatMap((l, i) => (l.op === 'Conv' ? [i] : []));
    expect(convs).toHaveLength(19);
    const changing = new Set([0, 7, 13]);
    expect(units.map((u) => u.layer)).toEqual(convs.filter((i) => !changing.has(i)));
    for (const u of units)
      expect(u.nodes.map((n) => model.graph.nodes[n]!.opType)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    // Its target: one join per unit, each skip the unit's input.
    const target = lesionTarget(model, t);
    expect(target.topology.blocks).toHaveLength(16);
    expect(target.plain?.layers).toEqual(units.map((u) => u.layer));
    // The app numbers a plain network's lesion by layer (the scene's units); the target by removable layer.
    expect(targetLesion(model, t, { dropped: [2, 0, 7, 19] })).toEqual({ dropped: [1], cutSkips: [] });
    expect(takesLesions(model, t)).toBe(true);
  });

  it('a residual network and a DenseNet have none', () => {
    const resnet = buildResNet({ variant: 'resnet', depth: 20, width: 8, seed: 0, dataset: 'cifar' }).model;
    expect(plainUnits(resnet, detectTopology(resnet))).toEqual([]);
    const dense = analyzeModel(
      readFileSync(resolve(ROOT, 'tests/fixtures/models/tv_densenet_g8_op13_bn.onnx')),
      'densenet.onnx',
    );
    expect(plainUnits(dense.model, dense.topology)).toEqual([]);
    expect(takesLesions(dense.model, dense.topology)).toBe(false);
  });
});

describe.skipIf(!hasTorch())(`plain lesions equal PyTorch's ${hasTorch() ? '' : NO_TORCH}`, () => {
  for (const net of ['cifar_plain8_op13', 'vgg']) {
    it(`${net}: each removable layer, and two neighbours, taken out logit for logit; the engine's predictions`, async () => {
      const { ref, onnx } = reference(net);
      const a = analyzeModel(readFileSync(onnx), `${net}.onnx`);
      const units = plainUnits(a.model, a.topology);
      expect(units.map((u) => u.layer)).toEqual(ref.removable);
      const input = a.topology.input.name;
      const fixed = typeof a.model.graph.inputs.find((i) => i.name === input)?.shape?.[0] === 'number';
      expect(worst(await cifarLogits(encodeModel(a.model), input, fixed, COUNT), ref.intact)).toBeLessThan(1e-4);
      for (const [k, u] of units.entries()) {
        const removed = removeBlocks(a.model, a.topology, { dropped: [k] });
        expect(removed.graph.nodes.length).toBe(a.model.graph.nodes.length - u.nodes.length);
        expect(
          worst(await cifarLogits(encodeModel(removed), input, fixed, COUNT), ref.removed[k]!),
          `layer ${u.layer}`,
        ).toBeLessThan(1e-4);
      }
      const pair = ref.pair.map((l) => units.findIndex((u) => u.layer === l));
      const both = removeBlocks(a.model, a.topology, { dropped: pair });
      expect(worst(await cifarLogits(encodeModel(both), input, fixed, COUNT), ref.pairRemoved)).toBeLessThan(1e-4);
      expect(() => removeBlocks(a.model, a.topology, { dropped: [], cutSkips: [0] })).toThrow(/no skips/);

      // The lesion engine: gated joins with closed skips, cached unit inputs, tails.
      const set = cifarImageSet({
        id: `cifar10-first${COUNT}`,
        title: 'CIFAR-10',
        bytes: CIFAR.slice(0, COUNT * RECORD),
      });
      const engine = LesionEngine.create(
        createNodeRuntime(),
        a.model,
        a.topology,
        describeInput(a.model, a.topology),
        set,
        {
          preprocessing: { scale: 1 / 255, mean: MEAN, std: STD, resize: null },
          batchSize: 16,
          float16: false,
        },
      );
      expect(engine.plainLayers).toEqual(ref.removable);
      const context = {
        runtime: createNodeRuntime(),
        model: a.model,
        topology: a.topology,
        input: describeInput(a.model, a.topology),
        set,
        preprocessing: { scale: 1 / 255, mean: MEAN, std: STD, resize: null },
        batchSize: 16,
        engine: () => engine,
      };
      const sweep = await runSweep(context, { kind: 'single', remove: 'branch' }, quietJob());
      if (sweep.kind !== 'single') throw new Error('not a single sweep');
      expect(sweep.blocks.map((b) => b.layer)).toEqual(ref.removable);
      const intactRight = ref.intact.filter((row, i) => argmax(row) === CIFAR[i * RECORD]).length;
      expect(sweep.intact.successes).toBe(intactRight);
      units.forEach((u, k) => {
        const got = Array.from(sweep.predictions[k]!);
        ref.removed[k]!.forEach((row, i) => {
          if (!tied(row)) expect(got[i], `layer ${u.layer}, image ${i}`).toBe(argmax(row));
        });
      });
      const evaluation = await engine.evaluate({ dropped: pair }, quietJob());
      ref.pairRemoved.forEach((row, i) => {
        if (!tied(row)) expect(evaluation.predictions[i], `pair, image ${i}`).toBe(argmax(row));
      });
      await expect(runSweep(context, { kind: 'single', remove: 'skip' }, quietJob())).rejects.toThrow(/no skips/);
      await engine.release();
    }, 300_000);
  }
});

describe("a plain network's study colours its layers", () => {
  it('Lesion impact sits at the removed layers (the scene draws every weighted layer), not at the first few', async () => {
    const a = analyzeModel(readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_plain8_op13.onnx')), 'plain8.onnx');
    const set = cifarImageSet({ id: 'first16', title: 'CIFAR-10', bytes: CIFAR.slice(0, 16 * RECORD) });
    const input = describeInput(a.model, a.topology);
    const preprocessing = { scale: 1 / 255, mean: MEAN, std: STD, resize: null };
    const engine = LesionEngine.create(createNodeRuntime(), a.model, a.topology, input, set, {
      preprocessing,
      batchSize: 8,
    });
    const sweep = await runSweep(
      { runtime: createNodeRuntime(), ...a, input, set, preprocessing, batchSize: 8, engine: () => engine },
      { kind: 'single', remove: 'branch' },
      quietJob(),
    );
    await engine.release();
    const results = new ResultCache<LabResults>();
    results.set('lesionSweep', 'l', sweep);
    const lesion = colorBlocks(
      'lesion',
      {
        topology: a.topology,
        keys: { gradients: null, signal: null, singleSweep: 'l' },
        result: (method, key) => results.get(method, key),
      },
      themes.dark,
    );
    // Layers 1, 2, 4 and 6 (0-based) are removable: coloured; the stem, the widening layers and the head are not.
    expect(lesion.colors.map((c) => c !== null)).toEqual([false, true, true, false, true, false, true, false]);
    expect(lesion.legend?.kind === 'scale' && lesion.legend.label).toMatch(/when the layer is removed/);
  });
});

describe('skipscope lesion on a plain network', () => {
  const model = 'tests/fixtures/models/cifar_plain8_op13.onnx';
  const data = ['--cifar-bin', 'assets/data/cifar10/test_first932.bin'];

  it('--single takes out each removable layer and names it, --k draws sets of layers; skip cuts and swaps exit 2 with one line', () => {
    const run = skipscope('lesion', model, ...data, '--single', '--json');
    expect(run.stderr.split('\n').filter((l) => /error|Error/.test(l))).toEqual([]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { result: { blocks: { index: number; layer: number }[] } };
    // 1-based, as every number in the report: the removable layers 2, 3, 5 and 7 of 8.
    expect(report.result.blocks.map((b) => b.layer)).toEqual([2, 3, 5, 7]);
    const text = skipscope('lesion', model, ...data, '--single');
    expect(text.stdout).toMatch(/each removable layer taken out/);
    expect(text.stdout).toMatch(/\n\s+1 {2}layer 2 /);
    // Random sets of layers: numbered as the layer list numbers them, beside the removable-layer indices.
    const random = skipscope('lesion', model, ...data, '--k', '2', '--samples', '3', '--json');
    expect(random.code).toBe(0);
    const sets = (
      JSON.parse(random.stdout) as { result: { ks: { sets: { blocks: number[]; layers: number[] }[] }[] } }
    ).result.ks.flatMap((k) => k.sets);
    expect(sets).toHaveLength(6);
    for (const set of sets) expect(set.layers).toEqual(set.blocks.map((b) => [2, 3, 5, 7][b - 1]));
    expect(skipscope('lesion', model, ...data, '--k', '1', '--samples', '1').stdout).toMatch(/k layers removed/);
    for (const study of [
      ['--single', '--drop-skip'],
      ['--reorder', '2'],
    ]) {
      const refused = skipscope('lesion', model, ...data, ...study);
      expect(refused.code, study.join(' ')).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/plain network has no (skips|residual blocks)|needs residual blocks/);
    }
  }, 300_000);
});
