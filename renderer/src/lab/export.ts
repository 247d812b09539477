import type { Preprocessing } from '../core/catalog';
import type { SweepRequest, SweepResult } from './lesionLab';
import type { Proportion } from './stats';

/** Where a result came from: written into every exported file. */
export interface ResultMeta {
  model: { file: string; sha256: string };
  data: { title: string; id: string; count: number };
  preprocessing: Preprocessing;
  runtime: { name: string; provider?: string };
}

/** An accuracy as files carry it: counts, rate and its 95 % Wilson interval. */
export interface AccuracyJson {
  correct: number;
  n: number;
  rate: number | null;
  low: number;
  high: number;
}

export function accuracyJson(p: Proportion): AccuracyJson {
  return { correct: p.successes, n: p.n, rate: p.n ? p.rate : null, low: p.low, high: p.high };
}

/** Proportions become AccuracyJson, typed arrays plain arrays; everything else as it is. */
export function toJsonValue(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('successes' in o && 'n' in o && 'low' in o && 'high' in o) return accuracyJson(o as unknown as Proportion);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}

/** The provenance lines every CSV export starts with: model, data, preprocessing, runtime. */
export function metaComments(meta: ResultMeta): string[] {
  return [
    `# model ${meta.model.file} sha256 ${meta.model.sha256}`,
    `# data ${meta.data.title} (${meta.data.count} images, id ${meta.data.id})`,
    `# preprocessing ${JSON.stringify(meta.preprocessing)}`,
    `# runtime ${meta.runtime.name}${meta.runtime.provider ? ` on ${meta.runtime.provider}` : ''}`,
  ];
}

/**
 * The report of a lesion study (schema skipscope.lesion/2, the same as `skipscope lesion --json`). Blocks and
 * stages count from 1, as in every table, CSV and the CLI's other reports (skipscope.lesion/1 counted from 0).
 */
export function lesionReport(meta: ResultMeta, sweep: SweepRequest, result: SweepResult) {
  return {
    schema: 'skipscope.lesion/2' as const,
    ...meta,
    sweep,
    result: toJsonValue(numberedFromOne(result)),
    ms: result.ms,
  };
}

/** A lesion result with every block number (indices, stages, sets, swaps, groups, cache points) counted from 1. */
function numberedFromOne(r: SweepResult) {
  const one = (i: number) => i + 1;
  switch (r.kind) {
    case 'single':
      return {
        ...r,
        cachePoints: r.cachePoints.map(one),
        blocks: r.blocks.map((b) => ({
          ...b,
          index: b.index + 1,
          stage: b.stage + 1,
          ...(b.layer === undefined ? {} : { layer: b.layer + 1 }),
        })),
      };
    case 'random':
      return {
        ...r,
        cachePoints: r.cachePoints.map(one),
        ks: r.ks.map((k) => ({
          ...k,
          sets: k.sets.map((s) => ({
            ...s,
            blocks: s.blocks.map(one),
            ...(s.layers ? { layers: s.layers.map(one) } : {}),
          })),
        })),
      };
    case 'reorder':
      return {
        ...r,
        groups: r.groups.map((g) => g.map(one)),
        ks: r.ks.map((k) => ({
          ...k,
          sets: k.sets.map((s) => ({ ...s, swaps: s.swaps.map(([a, b]) => [a + 1, b + 1] as [number, number]) })),
        })),
      };
    case 'stochastic':
      return { ...r, cachePoints: r.cachePoints.map(one) };
  }
}

const pct = (p: Proportion) => [
  p.n ? (100 * p.rate).toFixed(4) : '',
  (100 * p.low).toFixed(4),
  (100 * p.high).toFixed(4),
];

/** A lesion study as CSV: one row per lesion, the settings in # comment lines at the top. */
export function lesionCsv(meta: ResultMeta, sweep: SweepRequest, r: SweepResult): string {
  const head = [
    `# skipscope lesion study: ${JSON.stringify(sweep)}`,
    ...metaComments(meta),
    `# intact top-1 ${pct(r.intact)[0]} % of ${r.intact.n}; intervals are 95 % Wilson`,
  ];
  const rows: (string | number)[][] = [];
  switch (r.kind) {
    case 'single':
      // A plain network's study is by layer (its removable layers; "removed": the layer, its input passed on).
      if (r.blocks[0]?.layer !== undefined) {
        rows.push(['layer', 'removed', 'top1_percent', 'low', 'high', 'correct', 'n', 'changed_predictions']);
        for (const b of r.blocks)
          rows.push([
            b.layer! + 1,
            'layer',
            ...pct(b.score.top1),
            b.score.top1.successes,
            b.score.top1.n,
            b.score.changed,
          ]);
        break;
      }
      rows.push([
        'block',
        'stage',
        'downsampling',
        'removed',
        'top1_percent',
        'low',
        'high',
        'correct',
        'n',
        'changed_predictions',
      ]);
      for (const b of r.blocks)
        rows.push([
          b.index + 1,
          b.stage + 1,
          b.downsample ? 1 : 0,
          r.remove,
          ...pct(b.score.top1),
          b.score.top1.successes,
          b.score.top1.n,
          b.score.changed,
        ]);
      break;
    case 'random':
      // A plain network's sets are of layers (numbered as the layer list and the single study number them).
      rows.push([
        'k',
        'sample',
        r.ks[0]?.sets[0]?.layers ? 'removed_layers' : 'removed_blocks',
        'top1_percent',
        'low',
        'high',
        'correct',
        'n',
      ]);
      for (const k of r.ks)
        for (const [i, s] of k.sets.entries())
          rows.push([
            k.k,
            i + 1,
            (s.layers ?? s.blocks).map((b) => b + 1).join(' '),
            ...pct(s.score.top1),
            s.score.top1.successes,
            s.score.top1.n,
          ]);
      break;
    case 'reorder':
      rows.push(['k', 'sample', 'swaps', 'top1_percent', 'low', 'high', 'correct', 'n']);
      for (const k of r.ks)
        for (const [i, s] of k.sets.entries())
          rows.push([
            k.k,
            i + 1,
            s.swaps.map(([a, b]) => `${a + 1}<>${b + 1}`).join(' '),
            ...pct(s.score.top1),
            s.score.top1.successes,
            s.score.top1.n,
          ]);
      break;
    case 'stochastic':
      rows.push([
        'survival_p',
        'rule',
        'passes',
        'mean_blocks_removed',
        'top1_percent',
        'low',
        'high',
        'correct',
        'trials',
      ]);
      for (const p of r.points)
        rows.push([p.p, r.rule, r.passes, p.meanRemoved.toFixed(3), ...pct(p.score), p.score.successes, p.score.n]);
      break;
  }
  return `${[...head, ...rows.map((row) => row.map(csvCell).join(','))].join('\n')}\n`;
}

function csvCell(value: string | number): string {
  const s = String(value);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One image's gradients as CSV: a row per block (norms, skip / branch split), then a row per weighted layer. */
export function gradientCsv(
  meta: ResultMeta,
  g: {
    name: string;
    target: number;
    targetSource: string;
    loss: number;
    input: number;
    stem: number | null;
    blocks: { output: number; skip: number | null; branch: number | null }[];
    weights: { layer: number; norm: number }[];
  },
  layerNames: (layer: number) => string,
): string {
  const num = (x: number | null) => (x === null ? '' : x.toExponential(8));
  const lines = [
    `# skipscope gradients: cross-entropy of ${g.name} against class ${g.target} (${g.targetSource}), loss ${g.loss}`,
    ...metaComments(meta),
    '# norms are L2 over the whole tensor; skip/branch: the gradient reaching the block input through each path',
    'where,index,grad_norm,via_skip,via_branch',
    `input,,${num(g.input)},,`,
    `stem,,${num(g.stem)},,`,
    ...g.blocks.map((b, i) => `block,${i + 1},${num(b.output)},${num(b.skip)},${num(b.branch)}`),
    ...g.weights.map((w) => `weight,"${layerNames(w.layer).replace(/"/g, '""')}",${num(w.norm)},,`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A path-length study as CSV: a row per length k. */
export function pathCsv(
  meta: ResultMeta,
  s: {
    name: string;
    target: number;
    blocks: number;
    distribution: number[];
    exactNorms: number[] | null;
    sampled: { mean: number; low: number; high: number; samples: number }[] | null;
    contribution: number[] | null;
    effective: { from: number; to: number; share: number } | null;
  },
): string {
  const lines = [
    `# skipscope paths: ${s.blocks} blocks, 2^${s.blocks} paths; image ${s.name}, class ${s.target}`,
    ...metaComments(meta),
    '# gradient norms at the first block input; share = Binomial(n, 1/2); exact = norm of the sum over all paths of',
    '# length k; sampled = mean single-path norm (95 % interval); contribution = sampled mean x C(n, k)',
    s.effective
      ? `# effective paths: lengths ${s.effective.from}-${s.effective.to} carry ${(100 * s.effective.share).toFixed(1)} % of the total`
      : '# effective paths: not measured',
    'length,share,exact_sum_norm,sampled_mean,sampled_low,sampled_high,samples,contribution',
  ];
  const num = (x: number | undefined | null) => (x === undefined || x === null ? '' : x.toExponential(8));
  s.distribution.forEach((share, k) => {
    const m = s.sampled?.[k];
    lines.push(
      [
        k,
        num(share),
        num(s.exactNorms?.[k]),
        num(m?.mean),
        num(m?.low),
        num(m?.high),
        m?.samples ?? '',
        num(s.contribution?.[k]),
      ].join(','),
    );
  });
  return `${lines.join('\n')}\n`;
}
