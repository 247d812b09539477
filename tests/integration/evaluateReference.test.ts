import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { StoreContext } from '../../renderer/src/store/store';
import { EvaluatePanel, referenceFor } from '../../renderer/src/ui/panels/EvaluatePanel';
import { ROOT } from '../helpers/files';
import { createTestApp } from '../helpers/storeHarness';

/**
 * The shipped reference top-1 (models/manifest.json `referenceTop1`: a value and the eval set it was measured on)
 * is shown beside an evaluation only when that evaluation ran on that set: the real store, the real lab on
 * onnxruntime-node, the panel rendered from the cached result.
 */
describe('reference accuracy beside its own data set only', () => {
  it('referenceFor: the value on the set it was measured on, "none" elsewhere, null without a reference', () => {
    const entry = {
      id: 'm',
      name: 'm',
      source: 'bundled' as const,
      bytes: 1,
      dataset: 'cifar10-test-first932',
      referenceTop1: 91.63,
    };
    expect(referenceFor(entry, 'cifar10-test-first932')).toBe(91.63);
    expect(referenceFor(entry, 'imagenet-samples')).toBe('none');
    expect(referenceFor(entry, 'custom-cifar10-abc')).toBe('none');
    expect(referenceFor(entry, undefined)).toBe('none');
    expect(referenceFor({ ...entry, referenceTop1: undefined }, 'cifar10-test-first932')).toBeNull();
    expect(referenceFor(undefined, 'cifar10-test-first932')).toBeNull();
  });

  it('EvaluatePanel shows "Reference 91.63 %" on the CIFAR-10 test subset and not on a set of JPEGs', async () => {
    const app = createTestApp();
    const { store, services } = app;
    await store.getState().refreshModels();
    await store.getState().openModel('cifar10-resnet20');
    await app.until((s) => s.runtime === 'ready' && s.imageSet !== null);
    const render = () => {
      // Server rendering reads zustand's initial state; this view of the store serves the current one instead.
      const now = { ...store, getInitialState: () => store.getState() };
      const model = store.getState().model!;
      return renderToString(
        createElement(
          StoreContext.Provider,
          { value: { store: now, services } },
          createElement(EvaluatePanel, { model }),
        ),
      );
    };

    expect(store.getState().imageSet?.id).toBe('cifar10-test-first932');
    await store.getState().evaluate();
    let html = render();
    expect(html).toContain('data-testid="evaluate-result"');
    expect(html).toContain('91.63 % (onnxruntime-node on this data set');

    // The user's own images (three ImageNet JPEGs, chosen as files): the same model, no reference for them.
    const names = ['n01667114_mud_turtle.JPEG', 'n02085620_Chihuahua.JPEG', 'n02793495_barn.JPEG'];
    const files = names.map(
      (name) => new File([readFileSync(join(ROOT, 'assets/samples/imagenet', name))], name, { type: 'image/jpeg' }),
    );
    await store.getState().setCustomImages({ origin: 'image', files, title: 'three JPEGs' });
    await app.until((s) => s.imageSet?.title === 'three JPEGs');
    await store.getState().evaluate();
    html = render();
    expect(html).toContain('data-testid="evaluate-result"');
    expect(html).toContain('no reference for this data set');
    expect(html).not.toContain('91.63');
    await services.lab.call('closeModel', { key: store.getState().model!.key });
  }, 120_000);
});
