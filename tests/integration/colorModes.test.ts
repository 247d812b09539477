import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { analyzeModel } from '../../renderer/src/core/summary';
import { presetFor } from '../../renderer/src/data/preprocess';
import { ResultCache } from '../../renderer/src/lab/cache';
import { quietJob } from '../../renderer/src/lab/job';
import { themes } from '../../renderer/src/scene/theme';
import {
  COLOR_MODE_TABLE,
  COLOR_MODES,
  type ColorContext,
  colorMode,
  MEASURED_MODES,
  modeForKey,
  modeKey,
} from '../../renderer/src/store/colorModes';
import { colorBlocks } from '../../renderer/src/ui/network/colorModes';
import { KEYS } from '../../renderer/src/ui/network/ViewControls';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import type { LabResults } from '../../renderer/src/worker/protocol';
import { bundledModel } from '../helpers/files';
import { CIFAR } from '../helpers/reference';

const RECORD = 3073;

/** WCAG 2 contrast ratio of two #rrggbb colours (this test's own reading of the definition). */
function wcag(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];
    const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(bl);
  };
  const [x, y] = [lum(a), lum(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/**
 * The colour-mode table (store/colorModes.ts): every entry has its key, name and colours, and the measured modes
 * read their values from real lab results (ResNet-20 on onnxruntime-node) under the keys the context names.
 */
describe('colour modes', () => {
  it('the table gives each mode one key, in order, and the key list names them all', () => {
    expect(new Set(COLOR_MODES).size).toBe(COLOR_MODE_TABLE.length);
    expect(COLOR_MODES.map(modeKey)).toEqual(COLOR_MODES.map((_, i) => String(i + 1)));
    for (const mode of COLOR_MODES) expect(modeForKey(modeKey(mode))).toBe(mode);
    expect(modeForKey('0')).toBeNull();
    expect(modeForKey(String(COLOR_MODES.length + 1))).toBeNull();
    const row = KEYS.find(([, what]) => what.startsWith('colour mode'))!;
    expect(row[0]).toBe(`1 … ${COLOR_MODES.length}`);
    for (const mode of COLOR_MODES) expect(row[1]).toContain(colorMode(mode).name);
    expect(MEASURED_MODES).toEqual(['lesion', 'gradient', 'highway', 'signal']);
  });

  it('measured modes colour the blocks from the results under their keys, and say where to measure otherwise', async () => {
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
    const bytes = bundledModel('resnet20');
    await handlers.openModel({ key: 'm', name: 'resnet20.onnx', bytes: bytes.slice().buffer }, quietJob());
    await handlers.addImageSet(
      {
        kind: 'cifar-binary',
        id: 's',
        title: 'first 64',
        data: CIFAR.slice(0, 64 * RECORD).buffer,
        labelSet: 'cifar10',
      },
      quietJob(),
    );
    const preprocessing = presetFor(32);
    const on = { model: 'm', set: 's', preprocessing };
    const topology = analyzeModel(bytes, 'resnet20.onnx').topology;
    const results = new ResultCache<LabResults>();
    const ctx = (keys: Partial<ColorContext['keys']>): ColorContext => ({
      topology,
      keys: { gradients: null, signal: null, singleSweep: null, ...keys },
      result: (method, key) => results.get(method, key),
    });
    const theme = themes.dark;

    // Nothing measured: each measured mode says where to measure, and draws no colours.
    for (const mode of MEASURED_MODES) {
      const c = colorBlocks(mode, ctx({}), theme);
      expect(c.empty).toBe(colorMode(mode).empty);
      expect(c.empty).toMatch(/panel|Lesion studies/);
      expect(c.colors.every((x) => x === null)).toBe(true);
    }

    const view = await handlers.gradients({ ...on, index: 3, target: null, useLabel: true }, quietJob());
    results.set('gradients', 'g', view);
    const gradient = colorBlocks('gradient', ctx({ gradients: 'g' }), theme);
    expect(gradient.legend).toMatchObject({ kind: 'scale', scale: 'log' });
    expect(gradient.colors.every((x) => typeof x === 'string')).toBe(true);
    const highway = colorBlocks('highway', ctx({ gradients: 'g' }), theme);
    const split = view.blocks.map((b) => (b.skip! + b.branch! === 0 ? null : b.skip! / (b.skip! + b.branch!)));
    expect(highway.legend).toMatchObject({ kind: 'scale', scale: 'linear' });
    expect(highway.bars!.filter((x) => x !== null)).toHaveLength(split.filter((x) => x !== null).length);

    const signal = await handlers.signal({ ...on, count: 16 }, quietJob());
    results.set('signal', 'f', signal);
    const ratio = colorBlocks('signal', ctx({ signal: 'f' }), theme);
    expect(ratio.legend?.kind === 'scale' && ratio.legend.label).toContain('16 images of first 64');

    const sweep = await handlers.lesionSweep(
      { ...on, batchSize: 32, sweep: { kind: 'single', remove: 'branch' } },
      quietJob(),
    );
    results.set('lesionSweep', 'l', sweep);
    const lesion = colorBlocks('lesion', ctx({ singleSweep: 'l' }), theme);
    if (sweep.kind !== 'single') throw new Error('expected a single-block sweep');
    const drops = sweep.blocks.map((b) => 100 * (b.score.top1.rate - sweep.intact.rate));
    // Inverted: the worst lesion (largest drop) is the hottest end of the legend.
    expect(lesion.legend).toMatchObject({ kind: 'scale', min: Math.max(...drops), max: Math.min(...drops) });
    const worst = drops.indexOf(Math.min(...drops));
    expect(lesion.bars![worst]).toBe(Math.max(...lesion.bars!.map((b) => b ?? -1)));

    // Categorical and structural modes need no results.
    expect(colorBlocks('stage', ctx({}), theme).colors).toEqual(
      topology.blocks.map((b) => theme.stages[b.stage % theme.stages.length]),
    );
    expect(colorBlocks('params', ctx({}), theme).legend).toMatchObject({ kind: 'scale', scale: 'log' });

    // Every block colour of every mode keeps 3:1 contrast (WCAG, computed here) with every theme's background, and
    // the worst lesion is the most salient block: the one that stands out most from the background.
    const all = ctx({ gradients: 'g', signal: 'f', singleSweep: 'l' });
    for (const th of Object.values(themes)) {
      for (const mode of COLOR_MODES) {
        const colors = colorBlocks(mode, all, th).colors;
        expect(
          colors.some((c) => c !== null),
          `${mode} colours blocks`,
        ).toBe(true);
        for (const c of colors)
          if (c !== null) expect(wcag(c, th.background), `${mode} ${c} on ${th.name}`).toBeGreaterThanOrEqual(3);
      }
      const lesioned = colorBlocks('lesion', all, th).colors.map((c) => wcag(c!, th.background));
      expect(lesioned[worst]).toBe(Math.max(...lesioned));
    }
    await handlers.closeModel({ key: 'm' }, quietJob());
  }, 120_000);
});
