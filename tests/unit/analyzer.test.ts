import { describe, expect, it } from 'vitest';
import { blockParts } from '../../renderer/src/core/layout/parts';
import { ModelError } from '../../renderer/src/core/onnx/model';
import { analyzeModel } from '../../renderer/src/core/summary';
import { AnalyzerClient, analyzeInProcess, SupersededError } from '../../renderer/src/worker/analyzer';
import { bundledModel } from '../helpers/files';
import { inProcessAnalyzeWorker } from '../helpers/storeHarness';

/**
 * The analysis worker's side (analyzer.ts `answer`) and the page's client, across a real structured clone: what
 * comes back is what analysing the file in place gives, views into the handed-over bytes included.
 */
const fresh = () => {
  const b = bundledModel('resnet20');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

describe('analysis off the page thread', () => {
  it('returns the same analysis and block parts as analysing in place; the bytes are handed over and back', async () => {
    const bytes = fresh();
    const original = new Uint8Array(bytes.slice(0));
    const here = analyzeModel(new Uint8Array(bytes.slice(0)), 'resnet20.onnx');
    const back = await new AnalyzerClient(inProcessAnalyzeWorker().start).analyze(bytes, 'resnet20.onnx');
    expect(bytes.byteLength).toBe(0);
    expect(back.analysis.topology).toEqual(here.topology);
    expect(back.analysis.architecture).toBe(here.architecture);
    expect(back.analysis.warnings).toEqual(here.warnings);
    expect(back.parts).toEqual(blockParts(here.model, here.topology));
    expect(back.analysis.model.graph.nodes).toEqual(here.model.graph.nodes);
    // Weights come back as views into the file's bytes (one buffer, not a copy per tensor), and the lab's copy is
    // the file itself.
    const { constants, initializers } = back.analysis.model.graph;
    const raws = initializers.map((name) => constants.get(name)!.raw).filter((r) => r);
    expect(raws.length).toBeGreaterThan(10);
    expect(new Set(raws.map((r) => r!.buffer)).size).toBe(1);
    expect(raws[0]!.buffer.byteLength).toBe(original.byteLength);
    expect(new Uint8Array(back.copy)).toEqual(original);
    expect(back.copy).not.toBe(raws[0]!.buffer);
  });

  it('a refused file is a ModelError with its one-line reason, as in place', async () => {
    const junk = new TextEncoder().encode('not a model at all\n').buffer as ArrayBuffer;
    let inPlace = '';
    try {
      analyzeModel(new Uint8Array(junk.slice(0)), 'junk.onnx');
    } catch (error) {
      inPlace = (error as Error).message;
    }
    expect(inPlace).toContain('junk.onnx');
    for (const analyzer of [new AnalyzerClient(inProcessAnalyzeWorker().start), analyzeInProcess]) {
      const failed = await analyzer.analyze(junk.slice(0), 'junk.onnx').catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(ModelError);
      expect((failed as Error).message).toBe(inPlace);
    }
  });

  it('a later file supersedes one still being analysed: that call is rejected and its worker stopped', async () => {
    const worker = inProcessAnalyzeWorker({ hold: /^slow/ });
    const client = new AnalyzerClient(worker.start);
    const slow = client.analyze(fresh(), 'slow.onnx');
    const quick = client.analyze(fresh(), 'quick.onnx');
    await expect(slow).rejects.toBeInstanceOf(SupersededError);
    expect((await quick).analysis.topology.blocks).toHaveLength(9);
    expect(worker.started.map((w) => w.terminated)).toEqual([true, false]);
    // The live worker is kept for the next file.
    await client.analyze(fresh(), 'again.onnx');
    expect(worker.started).toHaveLength(2);
    expect(worker.started[1]!.requests).toEqual(['quick.onnx', 'again.onnx']);
  });

  it('a worker that stops gives a one-line ModelError naming the file, and the next call starts a new worker', async () => {
    const worker = inProcessAnalyzeWorker({ die: /^bomb/ });
    const client = new AnalyzerClient(worker.start);
    const failed = await client.analyze(fresh(), 'bomb.onnx').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ModelError);
    expect((failed as Error).message).toBe('bomb.onnx could not be analysed: the analysis worker stopped');
    await client.analyze(fresh(), 'fine.onnx');
    expect(worker.started.map((w) => [w.requests, w.terminated])).toEqual([
      [['bomb.onnx'], true],
      [['fine.onnx'], false],
    ]);
  });
});
