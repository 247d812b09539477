import { formatBytes } from '../../core/text';
import { useApp } from '../../store/store';
import { formatCount } from '../common/format';

/** Bundled models and the user's own, with Open… (file dialog) and drag-and-drop onto the window. */
export function ModelList() {
  const entries = useApp((s) => s.entries);
  const currentId = useApp((s) => s.currentId);
  const openModel = useApp((s) => s.openModel);
  const openFromDialog = useApp((s) => s.openFromDialog);
  const removeModel = useApp((s) => s.removeModel);
  const revealModel = useApp((s) => s.revealModel);
  const desktop = useApp((s) => s.hostKind === 'electron');
  return (
    <section className="panel" aria-label="Models">
      <h2>Models</h2>
      <ul className="model-list" data-testid="model-list">
        {entries.map((e) => (
          <li key={e.id}>
            <button
              type="button"
              className={e.id === currentId ? 'model active' : 'model'}
              onClick={() => void openModel(e.id)}
              data-testid="model-item"
              data-model-id={e.id}
              title={[e.sha256 && `sha256 ${e.sha256}`, e.meta?.producer && `from ${e.meta.producer}`]
                .filter(Boolean)
                .join('\n')}
            >
              <span className="model-name">{e.name}</span>
              <span className="model-meta">
                {e.source === 'bundled' ? 'bundled' : e.source} · {formatBytes(e.bytes)}
                {e.meta && ` · ${formatCount(e.meta.parameters)} params · opset ${e.meta.opset}`}
              </span>
              {e.meta && <span className="model-meta">{e.meta.architecture}</span>}
            </button>
            {e.source !== 'bundled' && (
              <span className="model-actions">
                {desktop && (
                  <button type="button" onClick={() => void revealModel(e.id)} title="Show the file in its folder">
                    Reveal
                  </button>
                )}
                <button
                  type="button"
                  onClick={() => void removeModel(e.id)}
                  title="Remove from the library"
                  data-testid="remove-model"
                >
                  Remove
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      <button type="button" className="open" onClick={() => void openFromDialog()} data-testid="open-model">
        Open .onnx…
      </button>
      <p className="hint">or drop an .onnx file, images or CIFAR .bin files on the window</p>
    </section>
  );
}
