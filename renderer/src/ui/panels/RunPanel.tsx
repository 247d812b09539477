import { useEffect, useRef, useState } from 'react';
import { errorLine } from '../../core/text';
import { normalizationText } from '../../core/topology/inputNorm';
import { greyAsRgb, inChannelOrder, planarToRgba } from '../../data/preprocess';
import { useApp, useServices } from '../../store/store';
import type { ImageSource, OpenModel } from '../../store/types';
import { NumberInput } from '../common/NumberField';
import { usePrimaryAction } from '../common/primaryAction';

const PROVIDER_NAME: Record<string, string> = { webgpu: 'WebGPU', wasm: 'WASM (CPU)' };

/** Runs the model on one image and shows the top-5 classes and the execution provider that really ran. */
export function RunPanel({ model }: { model: OpenModel }) {
  const runtime = useApp((s) => s.runtime);
  const provider = useApp((s) => s.provider);
  const reason = useApp((s) => s.providerReason);
  const runtimeError = useApp((s) => s.runtimeError);
  const imageIndex = useApp((s) => s.imageIndex);
  const imageSet = useApp((s) => s.imageSet);
  const running = useApp((s) => s.running);
  const run = useApp((s) => s.run);
  const runError = useApp((s) => s.runError);
  const setImageIndex = useApp((s) => s.setImageIndex);
  const runImage = useApp((s) => s.runImage);
  const preference = useApp((s) => s.providerPreference);
  const setPreference = useApp((s) => s.setProviderPreference);
  const source = useApp((s) => s.imageSource);
  const setSource = useApp((s) => s.setImageSource);
  const custom = useApp((s) => s.custom);
  const customNotice = useApp((s) => s.customNotice);
  const setCustomImages = useApp((s) => s.setCustomImages);
  const labels = model.labelSet?.classes ?? [];
  const count = imageSet?.count ?? 0;
  // Explore's main action; in the other labs this panel chooses their images and their own action leads.
  const explore = useApp((s) => s.lab === 'explore');
  const presentation = useApp((s) => s.presentation);
  usePrimaryAction(
    explore,
    running ? 'Running…' : `Run image ${imageIndex}`,
    runtime === 'ready' && !running && !!imageSet,
    () => void runImage(),
  );

  return (
    <section className="panel" aria-label="Run">
      <h2>Run</h2>
      <p
        className="provider"
        data-testid="provider"
        data-provider={runtime === 'ready' ? (provider ?? '') : ''}
        title={reason ?? ''}
      >
        {runtime === 'ready' && provider
          ? `Runs on ${PROVIDER_NAME[provider] ?? provider}`
          : runtime === 'error'
            ? `Runtime failed: ${runtimeError}`
            : 'Starting runtime…'}
        {runtime === 'ready' && reason && <span className="reason"> — {reason}</span>}
      </p>
      <label className="provider-choice">
        Execution provider{' '}
        <select
          value={preference}
          onChange={(e) => void setPreference(e.target.value as typeof preference)}
          data-testid="provider-preference"
        >
          <option value="auto">Auto (WebGPU on a GPU, else WASM)</option>
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
          <option value="custom" disabled={!custom}>
            {custom ? `Yours: ${custom.title}` : 'Your images'}
          </option>
        </select>
      </label>
      <div className="row file-buttons">
        <FileButton
          label="Image…"
          accept="image/jpeg,image/png,image/webp,image/gif"
          testId="custom-image"
          onFiles={(files) => setCustomImages({ origin: 'image', files, title: files[0]!.name })}
        />
        <FileButton
          label="Folder…"
          folder
          testId="custom-folder"
          title="A folder with one subfolder per class (CIFAR-10 class, ImageNet WordNet id or name)"
          onFiles={(files) =>
            setCustomImages({ origin: 'folder', files, title: `${topFolder(files[0]!)}/ (${files.length} files)` })
          }
        />
        <FileButton
          label="CIFAR binary…"
          accept=".bin"
          multiple
          testId="custom-cifar"
          title="CIFAR-10 binary batches: 1 label byte + 3072 pixel bytes per image"
          onFiles={(files) =>
            setCustomImages({ origin: 'cifar-binary', files, title: files.map((f) => f.name).join(' + ') })
          }
        />
      </div>
      {customNotice && source === 'custom' && (
        <p className="muted" data-testid="custom-notice">
          {customNotice}
        </p>
      )}
      <PreprocessingEditor model={model} />
      <div className="run-row">
        {/* Presenting, the stage shows the image (StageJobs): one decode of it, not two. */}
        {!presentation && <Thumbnail model={model} />}
        <div className="run-controls">
          <label htmlFor="run-image-index">
            Image{' '}
            <NumberInput
              id="run-image-index"
              min={0}
              max={imageSet ? Math.max(0, count - 1) : undefined}
              integer
              value={imageIndex}
              onValue={(v) => {
                if (v !== null) setImageIndex(v);
              }}
              data-testid="image-index"
            />
            <span className="muted"> of {count}</span>
          </label>
          <button
            type="button"
            disabled={runtime !== 'ready' || running || !imageSet}
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
      {run && (
        <ol className="predictions" data-testid="predictions" data-logits={JSON.stringify(run.logits)}>
          {run.predictions.map((p, i) => (
            <li key={p.index} data-testid={i === 0 ? 'prediction' : undefined} data-class-index={p.index}>
              <span className="label">{p.label}</span>
              <span className="bar" style={{ width: `${Math.max(2, p.probability * 100)}%` }} />
              <span className="prob">{(p.probability * 100).toFixed(1)}%</span>
            </li>
          ))}
        </ol>
      )}
      {run && (
        <p className="muted" data-testid="run-facts">
          {run.trueLabel !== null && (
            <span data-testid="true-label">
              True label: {labels[run.trueLabel] ?? run.trueLabel}{' '}
              {run.predictions[0]?.index === run.trueLabel ? '✓' : '✗'}
              {' · '}
            </span>
          )}
          {run.ms.toFixed(1)} ms on {PROVIDER_NAME[provider ?? ''] ?? provider}
        </p>
      )}
    </section>
  );
}

/** The exact pixels the model will see (after resize and crop), drawn at the model's resolution. */
export function Thumbnail({ model, testId = 'thumbnail' }: { model: OpenModel; testId?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const { lab } = useServices();
  const imageSet = useApp((s) => s.imageSet);
  const index = useApp((s) => s.imageIndex);
  const resize = useApp((s) => s.preprocessing?.resize ?? null);
  const [title, setTitle] = useState('');
  useEffect(() => {
    const side = model.input?.side;
    if (!side || !imageSet || index >= imageSet.count) return;
    let live = true;
    lab.call('pixels', { set: imageSet.id, index, side, resize }).then(
      ({ pixels, name }) => {
        const c = canvas.current;
        const ctx = c?.getContext('2d');
        if (!live || !c || !ctx) return;
        c.width = side;
        c.height = side;
        // A grey model sees the grey image.
        const seen = model.input?.channels === 1 ? greyAsRgb(pixels, 1, side * side) : pixels;
        ctx.putImageData(new ImageData(new Uint8ClampedArray(planarToRgba(seen, side, side)), side, side), 0, 0);
        setTitle(name);
      },
      (error) => {
        if (!live) return;
        // Nothing of the last picture may stay: an image that cannot be read shows as a crossed-out square.
        const c = canvas.current;
        const ctx = c?.getContext('2d');
        if (c && ctx) {
          ctx.clearRect(0, 0, c.width, c.height);
          ctx.strokeStyle = '#d9534f';
          ctx.lineWidth = Math.max(1, c.width / 16);
          ctx.beginPath();
          ctx.moveTo(0, 0);
          ctx.lineTo(c.width, c.height);
          ctx.moveTo(c.width, 0);
          ctx.lineTo(0, c.height);
          ctx.stroke();
        }
        setTitle(errorLine(error));
      },
    );
    return () => {
      live = false;
    };
  }, [lab, model, imageSet, index, resize]);
  return (
    <canvas
      ref={canvas}
      width={32}
      height={32}
      className="thumb"
      title={title}
      aria-label={title || 'input image'}
      data-testid={testId}
    />
  );
}

function FileButton(props: {
  label: string;
  accept?: string;
  multiple?: boolean;
  folder?: boolean;
  title?: string;
  testId: string;
  onFiles(files: File[]): void;
}) {
  return (
    <label className="file-button" title={props.title}>
      {props.label}
      <input
        type="file"
        accept={props.accept}
        multiple={props.multiple || props.folder}
        data-testid={props.testId}
        {...(props.folder ? { webkitdirectory: '' } : {})}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length) props.onFiles(files);
        }}
      />
    </label>
  );
}

function topFolder(file: File): string {
  return ((file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name).split('/')[0]!;
}

/** The preprocessing every experiment uses: shown, editable, and where it came from. */
function PreprocessingEditor({ model }: { model: OpenModel }) {
  const preprocessing = useApp((s) => s.preprocessing);
  const setPreprocessing = useApp((s) => s.setPreprocessing);
  if (!preprocessing) return null;
  const grey = model.input?.channels === 1;
  const inGraph = model.input?.normalizes;
  const origin = model.entry?.preprocessing
    ? "from the model's manifest"
    : inGraph
      ? normalizationText(inGraph)
      : `a preset for ${model.input?.side ?? '?'}×${model.input?.side ?? '?'} ${grey ? "grey input: MNIST's" : 'input'}`;
  // A grey model reads one mean and one std (the first of each triple, kept equal).
  const triple = (key: 'mean' | 'std', i: number, value: number) => {
    const next = (grey ? [value, value, value] : [...preprocessing[key]]) as [number, number, number];
    next[i] = value;
    setPreprocessing({ ...preprocessing, [key]: next });
  };
  return (
    <details className="preprocessing" data-testid="preprocessing">
      <summary>
        Preprocessing <span className="muted">({origin})</span>
      </summary>
      <p className="muted">
        {grey
          ? 'x = (grey · scale − mean) / std, grey as PIL’s convert("L") after the resize and crop'
          : 'x = (pixel · scale − mean) / std per channel'}
        ; larger images: shorter side to “resize”, then the centred square.
      </p>
      {(['mean', 'std'] as const).map((key) => (
        <div className="row" key={key}>
          {key}
          {preprocessing[key].slice(0, grey ? 1 : 3).map((v, i) => (
            <NumberInput
              // biome-ignore lint/suspicious/noArrayIndexKey: the channel index is the identity
              key={i}
              step="0.001"
              value={v}
              aria-label={grey ? `${key} grey` : `${key} ${(preprocessing.order === 'BGR' ? 'BGR' : 'RGB')[i]}`}
              {...(key === 'std' ? { allow: (x: number) => x > 0 } : {})}
              onValue={(value) => {
                if (value !== null) triple(key, i, value);
              }}
            />
          ))}
        </div>
      ))}
      <div className="row">
        resize{' '}
        <NumberInput
          min={model.input?.side ?? 1}
          integer
          allowEmpty
          value={preprocessing.resize}
          placeholder="none"
          aria-label="resize"
          onValue={(value) => setPreprocessing({ ...preprocessing, resize: value })}
        />
      </div>
      <label className="row">
        pixels{' '}
        <select
          value={preprocessing.scale === 1 ? '255' : Math.abs(preprocessing.scale - 1 / 255) < 1e-12 ? '1' : 'other'}
          onChange={(e) => setPreprocessing({ ...preprocessing, scale: e.target.value === '255' ? 1 : 1 / 255 })}
          data-testid="preprocessing-scale"
        >
          <option value="1">0–1 (÷ 255)</option>
          <option value="255">0–255 (as read)</option>
          {preprocessing.scale !== 1 && Math.abs(preprocessing.scale - 1 / 255) >= 1e-12 && (
            <option value="other">× {preprocessing.scale}</option>
          )}
        </select>
      </label>
      {!grey && (
        <label className="check-line">
          <input
            type="checkbox"
            checked={preprocessing.order === 'BGR'}
            onChange={(e) => setPreprocessing(inChannelOrder(preprocessing, e.target.checked ? 'BGR' : undefined))}
            data-testid="preprocessing-bgr"
          />{' '}
          blue first (BGR: Caffe, OpenCV); mean and std in that order
        </label>
      )}
      <button type="button" onClick={() => setPreprocessing(model.preprocessing)}>
        Reset
      </button>
    </details>
  );
}
