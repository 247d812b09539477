import { useEffect, useRef, useState } from 'react';
import { imagePixels, type LabelledImages } from '../data/cifar';
import { planarToRgba } from '../data/preprocess';
import { registry } from '../store/registry';
import { loadEvalSet } from '../store/runSlice';
import { useApp } from '../store/store';

const PROVIDER_NAME = { webgpu: 'WebGPU', wasm: 'WASM (CPU)' } as const;

/** Runs the model on one test image and shows the top-5 classes and the execution provider that really ran. */
export function RunPanel() {
  const runtime = useApp((s) => s.runtime);
  const provider = useApp((s) => s.provider);
  const reason = useApp((s) => s.providerReason);
  const imageIndex = useApp((s) => s.imageIndex);
  const imageCount = useApp((s) => s.imageCount);
  const running = useApp((s) => s.running);
  const predictions = useApp((s) => s.predictions);
  const trueLabel = useApp((s) => s.trueLabel);
  const runError = useApp((s) => s.runError);
  const runMs = useApp((s) => s.runMs);
  const setImageIndex = useApp((s) => s.setImageIndex);
  const runImage = useApp((s) => s.runImage);
  const preference = useApp((s) => s.providerPreference);
  const setPreference = useApp((s) => s.setProviderPreference);
  const labels = registry.loaded?.labels ?? [];

  return (
    <section className="panel" aria-label="Run">
      <h2>Run</h2>
      <p className="provider" data-testid="provider" data-provider={provider ?? ''} title={reason ?? ''}>
        {runtime === 'ready' && provider
          ? `Runs on ${PROVIDER_NAME[provider]}`
          : runtime === 'error'
            ? 'Runtime failed'
            : 'Starting runtime…'}
        {reason && <span className="reason"> — {reason}</span>}
      </p>
      <label className="provider-choice">
        Execution provider{' '}
        <select
          value={preference}
          onChange={(e) => void setPreference(e.target.value as typeof preference)}
          data-testid="provider-preference"
        >
          <option value="auto">Auto (WebGPU if available)</option>
          <option value="webgpu">WebGPU</option>
          <option value="wasm">WASM (CPU)</option>
        </select>
      </label>
      <div className="run-row">
        <Thumbnail index={imageIndex} />
        <div className="run-controls">
          <label>
            Test image{' '}
            <input
              type="number"
              min={0}
              max={Math.max(0, imageCount - 1)}
              value={imageIndex}
              onChange={(e) => setImageIndex(Number(e.target.value))}
              data-testid="image-index"
            />
            <span className="muted"> of {imageCount}</span>
          </label>
          <button
            type="button"
            disabled={runtime !== 'ready' || running}
            onClick={() => void runImage()}
            data-testid="run"
          >
            {running ? 'Running…' : 'Run'}
          </button>
        </div>
      </div>
      {runError && (
        <p className="error" role="alert" data-testid="run-error">
          {runError}
        </p>
      )}
      {predictions && (
        <ol className="predictions" data-testid="predictions" data-logits={JSON.stringify(useApp.getState().logits)}>
          {predictions.map((p, i) => (
            <li key={p.index} data-testid={i === 0 ? 'prediction' : undefined} data-class-index={p.index}>
              <span className="label">{p.label}</span>
              <span className="bar" style={{ width: `${Math.max(2, p.probability * 100)}%` }} />
              <span className="prob">{(p.probability * 100).toFixed(1)}%</span>
            </li>
          ))}
        </ol>
      )}
      {predictions && trueLabel !== null && (
        <p className="muted" data-testid="true-label">
          True label: {labels[trueLabel] ?? trueLabel} {predictions[0]?.index === trueLabel ? '✓' : '✗'}
          {runMs !== null && ` · ${runMs.toFixed(1)} ms`}
        </p>
      )}
    </section>
  );
}

function Thumbnail({ index }: { index: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [images, setImages] = useState<LabelledImages | null>(null);
  useEffect(() => {
    void loadEvalSet().then(setImages, () => {});
  }, []);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || !images || index >= images.count) return;
    const rgba = planarToRgba(imagePixels(images, index), images.height, images.width);
    ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), images.width, images.height), 0, 0);
  }, [images, index]);
  return <canvas ref={canvas} width={32} height={32} className="thumb" aria-label={`test image ${index}`} />;
}
