import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { openAnalysis } from '../../cli/work';
import { formatInspect, toInspectJson } from '../../renderer/src/core/report';
import { analyzeModel } from '../../renderer/src/core/summary';
import { GradientEngine } from '../../renderer/src/lab/gradients';
import { float32 } from '../../renderer/src/lab/runtime';
import { readBytes } from '../helpers/files';
import { hasTorch, NO_TORCH, runPython } from '../helpers/python';

const work = mkdtempSync(join(tmpdir(), 'skipscope-training-mode-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One small residual net exported by torch twice: in eval mode, and in training mode. */
function exportBoth(): { eval: string; train: string } {
  const out = { eval: join(work, 'eval.onnx'), train: join(work, 'train.onnx') };
  runPython(
    `
import sys, torch, torch.nn as nn
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1); self.bn = nn.BatchNorm2d(8); self.drop = nn.Dropout(0.2)
    def forward(self, x):
        return torch.relu(x + self.drop(self.bn(self.conv(x))))
net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), Block(), Block(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
x = torch.randn(2, 3, 16, 16)
net.eval()
torch.onnx.export(net, x, sys.argv[1], opset_version=14, input_names=["input"], output_names=["logits"])
net.train()
torch.onnx.export(net, x, sys.argv[2], opset_version=14, input_names=["input"], output_names=["logits"],
                  training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
`,
    [out.eval, out.train],
  );
  return out;
}

describe.skipIf(!hasTorch())(`a model exported in training mode is flagged ${hasTorch() ? '' : NO_TORCH}`, () => {
  it('flags batch-statistics BatchNorm and active Dropout, and only in the training-mode export', () => {
    const files = exportBoth();
    const evalMode = analyzeModel(readFileSync(files.eval), 'eval.onnx');
    expect(evalMode.warnings).toEqual([]);
    expect(evalMode.topology.blocks).toHaveLength(2);
    const trainMode = analyzeModel(readFileSync(files.train), 'train.onnx');
    expect(trainMode.topology.blocks).toHaveLength(2);
    expect(trainMode.warnings).toHaveLength(1);
    expect(trainMode.warnings[0]).toMatch(
      /^exported in training mode: 2 BatchNormalization layers use batch statistics and 2 Dropout layers are active/,
    );
    // torchvision's Swin exports eval-mode attention dropout as Dropout(ratio 0, training_mode true): the identity.
    const swin = analyzeModel(readBytes('tests/fixtures/models/tv_swin_e8_op17_nofold_dyn.onnx'), 'swin.onnx');
    expect(swin.model.graph.nodes.some((n) => n.opType === 'Dropout')).toBe(true);
    expect(swin.warnings).toEqual([]);
    const text = formatInspect(toInspectJson('train.onnx', trainMode));
    expect(text.split('\n')[1]).toBe(`  warning: ${trainMode.warnings[0]}`);
    // The commands that run the model say it on stderr too (it was said by inspect only); the eval export is quiet.
    const said: string[] = [];
    openAnalysis(readFileSync(files.train), 'train.onnx', undefined, undefined, (line) => said.push(line));
    expect(said).toEqual([`warning: train.onnx ${trainMode.warnings[0]}\n`]);
    said.length = 0;
    openAnalysis(readFileSync(files.eval), 'eval.onnx', undefined, undefined, (line) => said.push(line));
    expect(said).toEqual([]);
  });
});

describe.skipIf(!hasTorch())(`gradients of a training-mode export ${hasTorch() ? '' : NO_TORCH}`, () => {
  it('go through the batch statistics, as PyTorch’s autograd in float64 does (opset 13: by its outputs; 14: by its attribute)', async () => {
    // The net in training mode: onnxruntime normalises with the batch's statistics, so the gradient must too.
    const reference = JSON.parse(
      runPython(
        `
import json, sys, torch, torch.nn as nn
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1); self.bn = nn.BatchNorm2d(8)
    def forward(self, x):
        return torch.relu(x + self.bn(self.conv(x)))
net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), Block(), Block(),
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
x = torch.randn(1, 3, 16, 16)
for opset, path in zip((13, 14), sys.argv[1:3]):
    net.train()
    torch.onnx.export(net, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
double = net.double().train()
xd = x.double().requires_grad_(True)
loss = nn.functional.cross_entropy(double(xd), torch.tensor([3]))
loss.backward()
print(json.dumps({"x": x.flatten().tolist(), "loss": loss.item(), "input": xd.grad.norm().item()}))
`,
        [join(work, 'bn13.onnx'), join(work, 'bn14.onnx')],
      ),
    ) as { x: number[]; loss: number; input: number };
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    for (const file of ['bn13.onnx', 'bn14.onnx']) {
      const a = analyzeModel(readFileSync(join(work, file)), file);
      const engine = await GradientEngine.create(createNodeRuntime(), a.model, a.topology);
      const r = await engine.run(float32(Float32Array.from(reference.x), [1, 3, 16, 16]), 3);
      expect(rel(r.loss, reference.loss), `${file}: loss`).toBeLessThan(1e-4);
      expect(rel(r.input, reference.input), `${file}: ‖∂L/∂x‖`).toBeLessThan(1e-4);
      await engine.release();
    }
  });
});
