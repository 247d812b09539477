import { createNodeRuntime } from '/work/wt-race/cli/ortNode';
import { buildResNet } from '/work/wt-race/renderer/src/core/build/resnet';
import { createTrainer } from '/work/wt-race/renderer/src/lab/train/trainer';
const rt = createNodeRuntime({ threads: 2 });
for (const [variant, depth] of [
  ['resnet', 20],
  ['resnet', 56],
] as const) {
  const { model } = buildResNet({ variant, depth });
  const t = await createTrainer(rt, model);
  const B = 128;
  const x = new Float32Array(B * 3 * 32 * 32).map((_, i) => Math.sin(i));
  const y = Array.from({ length: B }, (_, i) => i % 10);
  await t.step(x, y, 0.1);
  const s = performance.now();
  for (let i = 0; i < 3; i++) await t.step(x, y, 0.1);
  console.log(variant, depth, ((performance.now() - s) / 3).toFixed(0), 'ms/step');
}
