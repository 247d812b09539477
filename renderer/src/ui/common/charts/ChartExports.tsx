import type { RefObject } from 'react';
import type { ResultMeta } from '../../../lab/export';
import { useApp, useServices } from '../../../store/store';
import type { OpenModel } from '../../../store/types';
import { saveBytes } from '../exportReport';
import { svgText, svgToPng } from './Chart';

/** SVG and PNG (2×, on the theme's background) buttons for one chart, saved as `${base}.svg` / `.png`. */
export function ChartExports(props: {
  chart: RefObject<SVGSVGElement | null>;
  base: string;
  background: string;
  /** Added to the button text, for panels with several charts. */
  label?: string;
  /** Test ids `${testId}-svg` and `${testId}-png`. */
  testId?: string;
}) {
  const { host } = useServices();
  const { chart, base, background, label, testId } = props;
  const suffix = label ? ` (${label})` : '';
  return (
    <>
      <button
        type="button"
        data-testid={testId && `${testId}-svg`}
        onClick={() =>
          chart.current &&
          void saveBytes(host, `${base}.svg`, new TextEncoder().encode(svgText(chart.current)), 'image/svg+xml')
        }
      >
        SVG{suffix}
      </button>
      <button
        type="button"
        data-testid={testId && `${testId}-png`}
        onClick={() =>
          chart.current &&
          void svgToPng(chart.current, 2, background).then((png) => saveBytes(host, `${base}.png`, png, 'image/png'))
        }
      >
        PNG{suffix}
      </button>
    </>
  );
}

/** Where a result of the open model came from (written into every export), or null until the lab knows. */
export function useResultMeta(model: OpenModel): ResultMeta | null {
  const sha256 = useApp((s) => s.sha256);
  const imageSet = useApp((s) => s.imageSet);
  const preprocessing = useApp((s) => s.preprocessing);
  const provider = useApp((s) => s.provider);
  if (!sha256 || !imageSet || !preprocessing) return null;
  return {
    model: { file: model.name, sha256 },
    data: { title: imageSet.title, id: imageSet.id, count: imageSet.count },
    preprocessing,
    runtime: { name: 'onnxruntime-web', ...(provider ? { provider } : {}) },
  };
}
