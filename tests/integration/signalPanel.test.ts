import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { modeValues } from '../../renderer/src/store/colorModes';
import { StoreContext } from '../../renderer/src/store/store';
import { colorContext } from '../../renderer/src/ui/network/colorModes';
import { SignalPanel } from '../../renderer/src/ui/panels/SignalPanel';
import { createTestApp } from '../helpers/storeHarness';

/**
 * The store's forward-signal action and the panel, on the real store with the real lab (onnxruntime-node) behind
 * the real message loop: the result lands in the cache under the signal key, the ‖F(x)‖/‖x‖ colour mode reads it
 * from there (nothing is copied into the store), and the panel renders the three charts, the setting and the
 * exports from it.
 */
describe('forward signal in the store and the panel', () => {
  it('startSignal caches the study; the colour mode and SignalPanel read it', async () => {
    const app = createTestApp();
    const { store, cache, services } = app;
    await store.getState().refreshModels();
    await store.getState().openModel('cifar10-resnet20');
    await app.until((s) => s.runtime === 'ready' && s.imageSet !== null);

    store.getState().setSignalCount(64);
    const key = store.getState().signalKey()!;
    expect(key).toContain('signal');
    await store.getState().startSignal();
    expect(store.getState().jobs.get('signal', key)?.status).toBe('done');
    const result = cache.get('signal', key)!;
    expect(result.images.count).toBe(64);
    // Another experiment's type is not read out of this key.
    expect(cache.get('gradients', key)).toBeUndefined();

    const colors = modeValues('signal', colorContext(store.getState(), cache)!)!;
    expect(colors.values).toEqual(result.blocks.map((b) => b.ratio!.mean));
    expect(colors.values).toHaveLength(9);
    expect(colors.label).toContain('64 images of');

    const model = store.getState().model!;
    // Server rendering reads zustand's initial state; this view of the store serves the current one instead.
    const now = { ...store, getInitialState: () => store.getState() };
    const html = renderToString(
      createElement(StoreContext.Provider, { value: { store: now, services } }, createElement(SignalPanel, { model })),
    );
    for (const id of ['signal-ratio-chart', 'signal-norm-chart', 'signal-cos-chart', 'signal-csv', 'signal-setting'])
      expect(html).toContain(`data-testid="${id}"`);
    expect(html).toContain('weights as stored in the file');
    expect(html).toContain('‖F(x)‖ / ‖x‖ per residual block');

    // Another image count names another study: nothing to colour until it is measured.
    store.getState().setSignalCount(16);
    expect(modeValues('signal', colorContext(store.getState(), cache)!)).toBeNull();
    await services.lab.call('closeModel', { key: model.key });
  }, 120_000);
});
