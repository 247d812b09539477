import { useEffect, useRef, useState } from 'react';
import { imageInputOf, planarToRgba } from '../data/preprocess';
import { type ImageSource, prepareImage } from '../store/inputs';
import { registry } from '../store/registry';
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
  const source = useApp((s) => s.imageSource);
  const setSource = useApp((s) => s.setImageSource);
  const setCustomImage = useApp((s) => s.setCustomImage);
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
      <label className="provider-choice">
        Images{' '}
        <select
          value={source}
          onChange={(e) => void setSource(e.target.value as ImageSource)}
          data-testid="image-source"
        >
          <option value="cifar10">CIFAR-10 test set (932)</option>
          <option value="imagenet">ImageNet samples (23)</option>
          <option value="custom" disabled={!registry.customImage}>
            Your image{registry.customImage ? `: ${registry.customImage.name}` : ''}
          </option>
        </select>{' '}
        <label className="file-button">
          Your image…
          <input
            type="file"
            accept="image/*"
            data-testid="custom-image"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void setCustomImage(file);
            }}
          />
        </label>
      </label>
      <div className="run-row">
        <Thumbnail />
        <div className="run-controls">
          <label>
            Image{' '}
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

/** The exact pixels the model will see (after resize and crop), drawn at the model's resolution. */
function Thumbnail() {
  const canvas = useRef<HTMLCanvasElement>(null);
  const source = useApp((s) => s.imageSource);
  const index = useApp((s) => s.imageIndex);
  const version = useApp((s) => s.version);
  const customVersion = useApp((s) => s.customVersion);
  const [title, setTitle] = useState('');
  // biome-ignore lint/correctness/useExhaustiveDependencies: version and customVersion signal changes in the non-reactive registry (the open model, the user's image).
  useEffect(() => {
    const side = imageInputOf(registry.loaded?.analysis.topology.input.shape ?? null)?.side;
    if (!side) return;
    const resize =
      useApp.getState().entries.find((e) => e.id === registry.loaded?.modelId)?.preprocessing?.resize ?? null;
    let live = true;
    prepareImage(source, index, side, resize).then(
      (image) => {
        const c = canvas.current;
        const ctx = c?.getContext('2d');
        if (!live || !c || !ctx) return;
        c.width = image.side;
        c.height = image.side;
        ctx.putImageData(
          new ImageData(
            new Uint8ClampedArray(planarToRgba(image.pixels, image.side, image.side)),
            image.side,
            image.side,
          ),
          0,
          0,
        );
        setTitle(image.title);
      },
      () => setTitle(''),
    );
    return () => {
      live = false;
    };
  }, [source, index, version, customVersion]);
  return (
    <canvas
      ref={canvas}
      width={32}
      height={32}
      className="thumb"
      title={title}
      aria-label={title || 'input image'}
      data-testid="thumbnail"
    />
  );
}
