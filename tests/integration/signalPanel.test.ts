import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { ResultCache } from '../../renderer/src/lab/cache';
import { describeInput } from '../../renderer/src/lab/inputs';
import { trackProgress } from '../../renderer/src/lab/job';
import type { SignalResult } from '../../renderer/src/lab/signal';
import type { OpenModel } from '../../renderer/src/store/modelSlice';
import { createAppStore, type Services, StoreContext } from '../../renderer/src/store/store';
import { SignalPanel } from '../../renderer/src/ui/SignalPanel';
import type { LabClient } from '../../renderer/src/worker/client';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import type { LabMethod, LabParams } from '../../renderer/src/worker/protocol';
import { bundledModel, readManifest } from '../helpers/files';
import { CIFAR } from '../helpers/reference';

/**
 * The store's forward-signal action and the panel, with the real lab handlers (onnxruntime-node) behind a
 * LabClient stand-in: the result lands in the cache, its per-block ratios in the store by model key, and the panel
 * renders the three charts, the setting and the exports from it.
 */
describe('forward signal in the store and the panel', () => {
  it('startSignal keeps the ratios by model; SignalPanel draws them', async () => {
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
    const lab = {
      call: <M extends LabMethod>(method: M, params: LabParams<M>, options: { signal?: AbortSignal } = {}) =>
        (handlers[method] as (p: LabParams<M>, j: unknown) => Promise<unknown>)(
          params,
          trackProgress(options.signal ?? new AbortController().signal, () => {}),
        ),
    } as unknown as LabClient;
    const cache = new ResultCache();
    const services = { host: {}, assets: {}, lab, cache } as unknown as Services;
    const store = createAppStore(services);
    const bytes = bundledModel('resnet20');
    await lab.call('openModel', { key: 'm', name: 'resnet20.onnx', bytes: bytes.slice().buffer });
    await lab.call('addImageSet', {
      kind: 'cifar-binary',
      id: 'cifar',
      title: 'CIFAR-10 test',
      data: CIFAR.slice().buffer,
      labelSet: 'cifar10',
    });
    const analysis = analyzeModel(bytes, 'resnet20.onnx');
    const preprocessing = readManifest()[0]!.preprocessing;
    const model = {
      id: 'resnet20',
      key: 'm',
      name: 'resnet20.onnx',
      entry: undefined,
      analysis,
      layout: {},
      labelSet: null,
      input: describeInput(analysis.model, analysis.topology),
      inputError: null,
      preprocessing,
    } as unknown as OpenModel;
    store.setState({
      model,
      sha256: 'sha-of-resnet20',
      imageSet: { id: 'cifar', title: 'CIFAR-10 test', count: 932, labelSet: 'cifar10' } as never,
      preprocessing,
      runtime: 'ready',
    });

    const key = store.getState().signalKey(64)!;
    expect(key).toContain('signal');
    await store.getState().startSignal(64);
    expect(store.getState().jobs[key]?.status).toBe('done');
    const result = cache.get<SignalResult>(key)!;
    expect(result.images.count).toBe(64);
    const held = store.getState().signal.m!;
    expect(held.key).toBe(key);
    expect(held.ratios).toEqual(result.blocks.map((b) => b.ratio!.mean));
    expect(held.ratios).toHaveLength(9);
    expect(held.images).toBe('64 images of CIFAR-10 test');

    // Server rendering reads zustand's initial state; this view of the store serves the current one instead.
    const now = { ...store, getInitialState: () => store.getState() };
    const html = renderToString(
      createElement(StoreContext.Provider, { value: { store: now, services } }, createElement(SignalPanel, { model })),
    );
    for (const id of ['signal-ratio-chart', 'signal-norm-chart', 'signal-cos-chart', 'signal-csv', 'signal-setting'])
      expect(html).toContain(`data-testid="${id}"`);
    expect(html).toContain('weights as stored in the file');
    expect(html).toContain('‖F(x)‖ / ‖x‖ per residual block');

    store.getState().setSignal('m', null);
    expect(store.getState().signal).toEqual({});
    await lab.call('closeModel', { key: 'm' });
  }, 120_000);
});
