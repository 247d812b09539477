import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { encodeModel } from '../../renderer/src/core/onnx/encode';
import { removeBlocks } from '../../renderer/src/core/rewrite/remove';
import { analyzeModel } from '../../renderer/src/core/summary';
import { cifarImageSet } from '../../renderer/src/data/imageSets';
import { describeInput } from '../../renderer/src/lab/inputs';
import { quietJob } from '../../renderer/src/lab/job';
import { LesionEngine } from '../../renderer/src/lab/lesion';
import { singleSweep } from '../../renderer/src/lab/sweeps';
import { ROOT } from '../helpers/files';
import { hasTorch, NO_TORCH, PYTHON } from '../helpers/python';
import { CIFAR } from '../helpers/reference';
import { argmax, cifarLogits, MEAN, RECORD, STD, tied, worstRelative as worst } from '../helpers/torchLogits';

/**
 * Lesions beyond ResNet against PyTorch: tests/fixtures/lesion_torch_reference.py rebuilds each fixture from its
 * torchvision definition and removes a sublayer's branch (or cuts its skip) inside the modules' forward methods, in
 * float64. Skipscope finds the joins in the ONNX graph and removes them there; both must give the same logits, and
 * the lesion engine the same predictions.
 */

const COUNT = 48;
const work = mkdtempSync(join(tmpdir(), 'skipscope-lesion-families-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Reference {
  joins: string[];
  intact: number[][];
  branch: number[][][];
  skip: number[][][];
}

function reference(name: string): Reference {
  const out = join(work, `${name}.json`);
  const run = spawnSync(
    PYTHON,
    [
      resolve(ROOT, 'tests/fixtures/lesion_torch_reference.py'),
      name,
      resolve(ROOT, 'assets/data/cifar10/test_first932.bin'),
      String(COUNT),
      out,
    ],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (run.status !== 0) throw new Error(`lesion_torch_reference.py failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(readFileSync(out, 'utf8')) as Reference;
}

describe.skipIf(!hasTorch())(`lesions beyond ResNet equal PyTorch's ${hasTorch() ? '' : NO_TORCH}`, () => {
  for (const [name, joins] of [
    ['tv_vit_p8_d32_op17_dyn', 4],
    ['tv_swin_e8_op17_nofold_dyn', 8],
    ['tv_convnext_w8_op17', 5],
  ] as const) {
    it(`${name}: every join's branch removed and skip cut, logit for logit; the engine's predictions`, async () => {
      const file = resolve(ROOT, `tests/fixtures/models/${name}.onnx`);
      const a = analyzeModel(readFileSync(file), `${name}.onnx`);
      expect(a.topology.blocks).toHaveLength(joins);
      const ref = reference(name);
      expect(ref.joins).toHaveLength(joins);
      const input = a.topology.input.name;
      const fixed = typeof a.model.graph.inputs.find((i) => i.name === input)?.shape?.[0] === 'number';
      expect(worst(await cifarLogits(encodeModel(a.model), input, fixed, COUNT), ref.intact)).toBeLessThan(1e-4);
      for (const b of a.topology.blocks) {
        const dropped = removeBlocks(a.model, a.topology, { dropped: [b.index] });
        expect(
          worst(await cifarLogits(encodeModel(dropped), input, fixed, COUNT), ref.branch[b.index]!),
          `${ref.joins[b.index]} branch`,
        ).toBeLessThan(1e-4);
        const cut = removeBlocks(a.model, a.topology, { dropped: [], cutSkips: [b.index] });
        expect(
          worst(await cifarLogits(encodeModel(cut), input, fixed, COUNT), ref.skip[b.index]!),
          `${ref.joins[b.index]} skip`,
        ).toBeLessThan(1e-4);
      }
      // The lesion engine (gated sessions, cached block inputs) on the same images.
      const bytes = CIFAR.slice(0, COUNT * RECORD);
      const set = cifarImageSet({ id: `cifar10-first${COUNT}`, title: 'CIFAR-10', bytes });
      const engine = LesionEngine.create(
        createNodeRuntime(),
        a.model,
        a.topology,
        describeInput(a.model, a.topology),
        set,
        {
          preprocessing: {
            scale: 1 / 255,
            mean: MEAN,
            std: STD,
            resize: null,
          },
          batchSize: 16,
          float16: false,
        },
      );
      for (const remove of ['branch', 'skip'] as const) {
        const sweep = await singleSweep(engine, a.topology, { remove }, quietJob());
        for (const b of a.topology.blocks) {
          const want = ref[remove][b.index]!;
          const got = Array.from(sweep.predictions[b.index]!);
          want.forEach((row, i) => {
            if (!tied(row)) expect(got[i], `${ref.joins[b.index]} ${remove}, image ${i}`).toBe(argmax(row));
          });
        }
      }
      await engine.release();
    }, 300_000);
  }
});
