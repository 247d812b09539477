import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnx } from '../../renderer/src/core/onnx/onnxProto.js';
import { AnalyzerClient } from '../../renderer/src/worker/analyzer';
import { ROOT } from '../helpers/files';
import { createTestApp, inProcessAnalyzeWorker } from '../helpers/storeHarness';

/**
 * Opening models through the app's store, with the real lab handlers on onnxruntime-node (tests/helpers/
 * storeHarness.ts): a file that will not open leaves the open model as it was and is not kept in the list; a
 * lesion made while the lab is still opening the model runs once the model's hash arrives.
 */
const file = (name: string, bytes: Uint8Array | string) =>
  new File([typeof bytes === 'string' ? bytes : new Uint8Array(bytes)], name);

/** Resolves once `done` holds, checked on each turn of the event loop (for states outside the store). */
async function reached(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((next) => setImmediate(next));
}

/** A model file whose bytes arrive only when `release` is called (a big file still being read). */
function slowFile() {
  const slow = file('slow.onnx', readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx')));
  const read = slow.arrayBuffer.bind(slow);
  let release!: () => void;
  slow.arrayBuffer = () => new Promise<ArrayBuffer>((done) => (release = () => void read().then(done)));
  return { slow, release: () => release() };
}

describe('opening models', () => {
  it('a file that is not a model: one-line reason, the open model stays open, the file is not listed', async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    await store.getState().openModel('cifar10-resnet20');
    const open = await app.until((s) => s.runtime === 'ready' && s.sha256 !== null);
    const listed = store.getState().entries.length;

    await store.getState().openDropped(file('notes.onnx', 'definitely not protobuf\n'));
    let s = store.getState();
    expect(s.error).toContain('notes.onnx is not an ONNX model');
    expect(s.status).toBe('ready');
    expect(s.model).toBe(open.model);
    expect(s.currentId).toBe('cifar10-resnet20');
    expect(s.runtime).toBe('ready');
    expect(s.sha256).toBe(open.sha256);
    expect(s.entries.map((e) => e.name)).not.toContain('notes.onnx');
    expect(s.entries).toHaveLength(listed);

    // A real model cut short: the same, and the lab still answers for the model that stayed open.
    const whole = readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx'));
    await store.getState().openDropped(file('cut.onnx', whole.subarray(0, Math.floor(whole.length / 2))));
    s = store.getState();
    expect(s.error).toContain('cut.onnx');
    expect(s.model).toBe(open.model);
    expect(s.entries).toHaveLength(listed);
    store.getState().dismissError();
    expect(store.getState().error).toBeNull();
    await store.getState().evaluate();
    const key = store.getState().evaluationKey()!;
    expect(app.cache.has(key)).toBe(true);

    // The whole file opens, listed once; a failing open after it again leaves it (not the bundled one) open.
    await store.getState().openDropped(file('whole.onnx', whole));
    await app.until((t) => t.runtime === 'ready' && t.model?.name === 'whole.onnx');
    expect(store.getState().entries).toHaveLength(listed + 1);
    await store.getState().openDropped(file('empty.onnx', new Uint8Array(0)));
    s = store.getState();
    expect(s.model?.name).toBe('whole.onnx');
    expect(s.error).toContain('empty.onnx');
    expect(s.entries.map((e) => e.name)).toEqual([...open.entries.map((e) => e.name), 'whole.onnx']);
  });

  it('of files dropped one after another, the last one dropped has the last word, whichever is read first', async () => {
    const { store } = createTestApp();
    await store.getState().refreshModels();
    // The first file is read slowly (a big model), the second at once and refused: the refusal stays on screen.
    const { slow, release } = slowFile();
    const first = store.getState().openDropped(slow);
    await store.getState().openDropped(file('broken.onnx', 'not a model'));
    expect(store.getState().error).toContain('broken.onnx');
    release();
    await first;
    const s = store.getState();
    expect(s.error).toContain('broken.onnx');
    expect(s.model?.name).not.toBe('slow.onnx');
  });

  it('a dialog cancelled while a dropped file is still being read does not take that file its turn', async () => {
    const { store } = createTestApp();
    await store.getState().refreshModels();
    const { slow, release } = slowFile();
    const first = store.getState().openDropped(slow);
    // The harness's Open… dialog chooses nothing.
    await store.getState().openFromDialog();
    release();
    await first;
    expect(store.getState().model?.name).toBe('slow.onnx');
  });

  it("a file the host added itself (the desktop menu's Open…) that will not open is taken out of the list too", async () => {
    const app = createTestApp();
    const { store, services } = app;
    await store.getState().refreshModels();
    await store.getState().openModel('cifar10-resnet20');
    await app.until((s) => s.runtime === 'ready');
    const entry = await services.host.importDropped(file('menu.onnx', 'not protobuf either'));
    await store.getState().openImported(entry);
    const s = store.getState();
    expect(s.error).toContain('menu.onnx is not an ONNX model');
    expect(s.model?.id).toBe('cifar10-resnet20');
    expect(s.entries.map((e) => e.name)).not.toContain('menu.onnx');
    expect((await services.host.listModels()).map((e) => e.name)).not.toContain('menu.onnx');
  });

  it('with no model open, a file that will not open fills the stage with its reason', async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    await store.getState().openDropped(file('notes.onnx', 'definitely not protobuf\n'));
    const s = store.getState();
    expect(s.status).toBe('error');
    expect(s.model).toBeNull();
    expect(s.error).toContain('notes.onnx is not an ONNX model');
    expect(s.entries.map((e) => e.name)).not.toContain('notes.onnx');
  });

  it('a block removed before the lab has opened the model gets its accuracy once the model is open', async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    const opening = store.getState().openModel('cifar10-resnet20');
    // The model is analysed and drawn; the lab has not answered yet (its replies cross a queue), so no key exists.
    await app.until((s) => s.status === 'ready' && s.model !== null);
    expect(store.getState().sha256).toBeNull();
    store.getState().toggleDrop(3);
    expect(store.getState().lesionKey()).toBeNull();
    await opening;
    const done = await app.until((s) => {
      const key = s.lesionKey();
      return key !== null && app.cache.has(key);
    });
    expect(done.dropped).toEqual([3]);
  });

  it("switching to another model cancels the last one's running jobs (they went on using the cores unseen)", async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    await store.getState().openModel('cifar10-resnet56');
    await app.until((s) => s.runtime === 'ready' && s.imageSet !== null);
    const key = store.getState().evaluationKey()!;
    const evaluation = store.getState().evaluate();
    await app.until((s) => (s.jobs.any(key)?.progress?.done ?? 0) > 0);
    await store.getState().openModel('cifar10-resnet20');
    expect(store.getState().jobs.any(key)?.status).toBe('cancelled');
    await evaluation;
    expect(app.cache.has(key)).toBe(false);
    // The new model's own jobs run as usual.
    await app.until((s) => s.runtime === 'ready' && s.imageSet !== null);
    await store.getState().evaluate();
    expect(app.cache.has(store.getState().evaluationKey()!)).toBe(true);
  });

  it("a model the lab cannot feed says why in Skipscope's words, not onnxruntime's Type Error", async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    const m = onnx.ModelProto.decode(readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx')));
    m.graph!.input![0]!.type!.tensorType!.elemType = onnx.TensorProto.DataType.INT64;
    await store.getState().openDropped(file('int64.onnx', onnx.ModelProto.encode(m).finish()));
    // The harness's `until` fails with the runtime's error: it must be the model's own reason.
    await expect(app.until((s) => s.model?.name === 'int64.onnx' && s.runtime === 'ready')).rejects.toThrow(
      /^this model's input "input" takes int64 values; Skipscope feeds float32 images$/,
    );
    const s = store.getState();
    expect(s.runtimeError).toBe(s.model!.inputError);
    await store.getState().runImage();
    expect(store.getState().runError).toBe(s.model!.inputError);
  });

  it('the Run panel refuses NaN outputs in one line instead of ranking classes 0–4 as "NaN %"', async () => {
    const app = createTestApp();
    const { store } = app;
    await store.getState().refreshModels();
    const m = onnx.ModelProto.decode(readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx')));
    const t = m.graph!.initializer!.find((x) => (x.rawData?.byteLength ?? 0) >= 1024)!;
    const raw = new Uint8Array(t.rawData!);
    new DataView(raw.buffer).setFloat32(0, Number.NaN, true);
    t.rawData = raw;
    await store.getState().openDropped(file('nan.onnx', onnx.ModelProto.encode(m).finish()));
    await app.until((s) => s.runtime === 'ready' && s.imageSet !== null && s.model?.name === 'nan.onnx');
    await store.getState().runImage();
    const s = store.getState();
    expect(s.run).toBeNull();
    expect(s.runError).toMatch(/is NaN \(a broken or diverged model\?\): it has no top classes/);
  });

  it('a file still being analysed when another model is opened: its worker is stopped, the file stays listed', async () => {
    const worker = inProcessAnalyzeWorker({ hold: /^deep\.onnx$/ });
    const app = createTestApp({ analyzer: new AnalyzerClient(worker.start) });
    const { store } = app;
    await store.getState().refreshModels();
    const whole = readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx'));
    const dropped = store.getState().openDropped(file('deep.onnx', whole));
    await reached(() => worker.started.some((w) => w.requests.includes('deep.onnx')));
    // The worker is deep in the file (held): a click on another model does not wait for it.
    await store.getState().openModel('cifar10-resnet20');
    await dropped;
    const s = await app.until((t) => t.runtime === 'ready');
    expect(s.model?.id).toBe('cifar10-resnet20');
    expect(s.error).toBeNull();
    expect(worker.started.map((w) => [w.requests, w.terminated])).toEqual([
      [['deep.onnx'], true],
      [['ResNet-20 (CIFAR-10)'], false],
    ]);
    // Not refused, only superseded: it stays in the list, and opens from it.
    const deep = s.entries.find((e) => e.name === 'deep.onnx')!;
    expect(deep).toBeDefined();
  });

  it('an analysis worker that stops on a file leaves the open model open and says so in one line', async () => {
    const worker = inProcessAnalyzeWorker({ die: /^bomb\.onnx$/ });
    const app = createTestApp({ analyzer: new AnalyzerClient(worker.start) });
    const { store } = app;
    await store.getState().refreshModels();
    await store.getState().openModel('cifar10-resnet20');
    const open = await app.until((s) => s.runtime === 'ready');
    const whole = readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx'));
    await store.getState().openDropped(file('bomb.onnx', whole));
    const s = store.getState();
    expect(s.error).toBe('bomb.onnx could not be analysed: the analysis worker stopped');
    expect(s.model).toBe(open.model);
    expect(s.status).toBe('ready');
    expect(s.entries.map((e) => e.name)).not.toContain('bomb.onnx');
    // A new worker reads the next file.
    await store.getState().openDropped(file('whole.onnx', whole));
    await app.until((t) => t.runtime === 'ready' && t.model?.name === 'whole.onnx');
    expect(worker.started).toHaveLength(2);
    expect(worker.started[0]!.terminated).toBe(true);
  });

  it('a model read slowly does not supersede one opened after it and read first', async () => {
    const worker = inProcessAnalyzeWorker({ hold: /^ResNet-20/ });
    const app = createTestApp({ analyzer: new AnalyzerClient(worker.start) });
    const { store, services } = app;
    await store.getState().refreshModels();
    // ResNet-56 is clicked first but its bytes arrive late (a fetch, a big file); ResNet-20 is clicked next, read at
    // once, and is being analysed when ResNet-56's bytes arrive.
    const read = services.host.readModel.bind(services.host);
    let arrive!: () => void;
    const late = new Promise<void>((done) => (arrive = done));
    services.host.readModel = async (id) => {
      if (id === 'cifar10-resnet56') await late;
      return read(id);
    };
    const first = store.getState().openModel('cifar10-resnet56');
    const second = store.getState().openModel('cifar10-resnet20');
    await reached(() => worker.started.some((w) => w.requests.length > 0));
    arrive();
    expect(await first).toBe(true);
    worker.release();
    expect(await second).toBe(true);
    const s = await app.until((t) => t.runtime === 'ready');
    expect(s.model?.id).toBe('cifar10-resnet20');
    expect(s.error).toBeNull();
    // The late file never reached the worker: the one being analysed was not stopped for it.
    expect(worker.started.map((w) => [w.requests, w.terminated])).toEqual([[['ResNet-20 (CIFAR-10)'], false]]);
  });
});
