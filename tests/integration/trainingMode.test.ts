import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatInspect, toInspectJson } from '../../renderer/src/core/report';
import { analyzeModel } from '../../renderer/src/core/summary';
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
  });
});
