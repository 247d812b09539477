import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipscope } from '../helpers/cli';
import { ROOT } from '../helpers/files';

/**
 * Issue #22: no command exits 1 on the families beyond ResNet. Every experiment the CLI has runs on each family
 * fixture through the real bin, on 32 CIFAR-10 images (one image where the command takes one): it succeeds, or it
 * refuses with exit 2 and one line that names the model and what it lacks (a DenseNet's concatenations, a fixed
 * batch the path study cannot carry).
 */
const work = mkdtempSync(join(tmpdir(), 'skipscope-families-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CIFAR32 = join(work, 'cifar32.bin');
writeFileSync(CIFAR32, readFileSync(join(ROOT, 'assets/data/cifar10/test_first932.bin')).subarray(0, 32 * 3073));

const MODELS = [
  'tv_convnext_w8_op17',
  'tv_swin_e8_op17_nofold',
  'tv_swin_e8_op17_nofold_dyn',
  'tv_vit_p8_d32_op11_dyn',
  'tv_vit_p8_d32_op17_dyn',
  'tv_mobilenetv2_x025_op12',
  'tv_mobilenetv3_small_x025_op13',
  'tv_efficientnet_b0_x025_op15',
  'tv_regnet_w8_op16',
  'tv_densenet_g8_op13_bn',
];
const COMMANDS: string[][] = [
  ['predict', '--cifar-bin', CIFAR32],
  ['lesion', '--cifar-bin', CIFAR32, '--single'],
  ['grad', '--cifar-bin', CIFAR32],
  ['paths', '--cifar-bin', CIFAR32, '--samples', '2'],
  ['signal', '--cifar-bin', CIFAR32],
  ['landscape', '--cifar-bin', CIFAR32, '--samples', '8', '--grid', '2'],
];
/** The refusals expected, by model and command: everything else must succeed. */
const REFUSED: Record<string, RegExp> = {
  'tv_densenet_g8_op13_bn lesion': /^skipscope: tv_densenet_g8_op13_bn\.onnx joins its layers by concatenation/,
  'tv_densenet_g8_op13_bn paths': /^skipscope: tv_densenet_g8_op13_bn\.onnx joins its layers by concatenation/,
  'tv_swin_e8_op17_nofold paths': /^skipscope: tv_swin_e8_op17_nofold\.onnx: its batch axis is fixed at 1/,
};

describe('every CLI experiment on every family fixture: exit 0, or exit 2 with one line', () => {
  for (const model of MODELS)
    it(model, () => {
      for (const [command, ...args] of COMMANDS) {
        const r = skipscope(command!, `tests/fixtures/models/${model}.onnx`, ...args);
        const refused = REFUSED[`${model} ${command}`];
        const what = `${model} ${command}: ${r.stderr.trim().split('\n').at(-1)}`;
        if (refused) {
          expect(r.code, what).toBe(2);
          const lines = r.stderr.trim().split('\n');
          expect(lines.at(-1), what).toMatch(refused);
        } else expect(r.code, what).toBe(0);
      }
    }, 600_000);
});
