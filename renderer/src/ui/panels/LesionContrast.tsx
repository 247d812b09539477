import { useState } from 'react';
import type { LesionScore } from '../../lab/lesion';
import type { SingleSweepResult } from '../../lab/sweeps';
import { themes } from '../../scene/theme';
import { useApp, useCacheVersion, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { Chart, type ChartSeries } from '../common/charts/Chart';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** A model's name without its parenthesised details, for chart titles: "ResNet-20 (CIFAR-10)" → "ResNet-20". */
export function shortName(name: string): string {
  return name.replace(/\s*\(.*\)\s*$/, '') || name;
}

/** A finished one-at-a-time study, summed up: what one removal leaves on average and at worst. */
export function studySummary(result: SingleSweepResult): {
  units: number;
  plain: boolean;
  intact: number;
  mean: number;
  worst: number;
} {
  const rates = result.blocks.map((b) => b.score.top1.rate);
  return {
    units: rates.length,
    plain: result.blocks[0]?.layer !== undefined,
    intact: result.intact.rate,
    mean: rates.reduce((a, r) => a + r, 0) / Math.max(1, rates.length),
    worst: Math.min(...rates),
  };
}

/** What a bar of a one-at-a-time study stands for: a block, or a plain network's removable layer. */
export interface StudyUnit {
  index: number;
  downsample: boolean;
  /** A plain network's layer index: the bar stands at its number. */
  layer?: number;
}

/**
 * The bars of a one-at-a-time study (a finished result's blocks, or the running scores beside the units they
 * score): at the block number, or for a plain network at the layer number, so the gaps are the layers that change
 * shape.
 */
export function studyPoints(scores: readonly LesionScore[], units: readonly StudyUnit[]): ChartSeries['points'] {
  return scores.map((score, i) => {
    const unit = units[i]!;
    const x = (unit.layer ?? unit.index) + 1;
    const what =
      unit.layer !== undefined ? `layer ${x} removed` : `block ${x}${unit.downsample ? ' (downsampling)' : ''}`;
    return {
      x,
      y: score.top1.rate,
      low: score.top1.low,
      high: score.top1.high,
      marked: unit.downsample,
      label: `${what}: ${(100 * score.top1.rate).toFixed(2)} %`,
    };
  });
}

/**
 * Veit et al.'s contrast, side by side: the open model's one-at-a-time study beside the same study of another
 * model opened this session on the same images (a plain network and a ResNet of the same depth, say). The other
 * study comes from the result cache, so it is exactly what was measured when that model was open.
 */
export function LesionContrast({ model, result }: { model: OpenModel; result: SingleSweepResult }) {
  const { cache } = useServices();
  useCacheVersion();
  const sha = useApp((s) => s.sha256);
  const names = useApp((s) => s.modelNames);
  const imageSet = useApp((s) => s.imageSet);
  const theme = themes[useApp((s) => s.theme)];
  const [chosen, setChosen] = useState<string | null>(null);
  // Keys are `${sha}|${experiment}|${params}|${data}` (lab/cache.ts): the sha and experiment hold no "|".
  const others = cache.list('lesionSweep').flatMap(([key, value]) => {
    const [owner, experiment] = key.split('|');
    const studied = owner && owner !== sha && names[owner] && experiment === 'sweep:single-branch';
    if (!studied || !imageSet || !key.endsWith(`|${imageSet.id}`) || value.kind !== 'single') return [];
    return [{ key, name: names[owner]!, result: value }];
  });
  if (others.length === 0)
    return (
      <p className="muted" data-testid="contrast-hint">
        Side by side: run this study on another network on the same images (a plain network of the same depth shows Veit
        et al.’s contrast) and it appears here beside this one.
      </p>
    );
  const other = others.find((o) => o.key === chosen) ?? others[others.length - 1]!;
  const theirs = studySummary(other.result);
  const rows = [
    { id: 'open', name: model.name, s: studySummary(result) },
    { id: other.key, name: other.name, s: theirs },
  ];
  const classes = model.analysis.topology.output.shape?.at(-1);
  // Two networks of one name (the bundled ResNet-20 and a recorded one) keep their full names.
  const clash = shortName(model.name) === shortName(other.name);
  return (
    <section className="contrast" aria-label="Side by side" data-testid="lesion-contrast">
      <h3>
        Side by side with{' '}
        <select
          value={other.key}
          onChange={(e) => setChosen(e.target.value)}
          data-testid="contrast-model"
          aria-label="Compare with"
        >
          {others.map((o) => (
            <option key={o.key} value={o.key}>
              {o.name}
            </option>
          ))}
        </select>
      </h3>
      <Chart
        title={`${shortName(other.name)}: one ${theirs.plain ? 'layer' : 'block'} removed`}
        xLabel={theirs.plain ? 'layer' : 'block'}
        yLabel="top-1 accuracy"
        series={[
          {
            name: 'top-1 accuracy',
            color: theme.chart.series[1]!,
            kind: 'bars',
            points: studyPoints(
              other.result.blocks.map((b) => b.score),
              other.result.blocks,
            ),
          },
        ]}
        yRange={[0, 1]}
        yFormat={(y) => `${(100 * y).toFixed(0)} %`}
        references={[{ y: other.result.intact.rate, label: `intact ${(100 * other.result.intact.rate).toFixed(2)} %` }]}
        colors={theme.chart}
        width={560}
        height={260}
        testId="contrast-chart"
      />
      <table className="table" data-testid="contrast-table">
        <thead>
          <tr>
            <th>network</th>
            <th>intact</th>
            <th>one removed: mean</th>
            <th>worst</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ id, name, s }) => (
            <tr key={id} data-mean={s.mean} data-intact={s.intact}>
              <td title={name}>
                {clash ? name : shortName(name)} · {s.units} {s.plain ? 'layers' : 'blocks'}
              </td>
              <td>{pct(s.intact)}</td>
              <td>{pct(s.mean)}</td>
              <td>{pct(s.worst)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {classes && (
        <p className="muted">
          Chance is {pct(1 / classes)} ({classes} classes). A plain network has one path: take a layer out and every
          image loses it. A residual network has many, and removing one block leaves most of them.
        </p>
      )}
    </section>
  );
}
