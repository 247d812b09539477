import { useState } from 'react';
import { formatValue } from '../../core/text';
import { describeBlock } from '../../core/topology/family';
import { SHORTCUT_NAMES, type Topology } from '../../core/topology/types';
import { sceneBridge } from '../../scene/bridge';
import { SLIDE_ASPECTS, type SlideAspect, slideSize } from '../../scene/slide';
import { COLOR_MODES, type ColorContext, colorMode, MEASURED_MODES, modeKey, modeValues } from '../../store/colorModes';
import { useApp, useServices } from '../../store/store';
import type { OpenModel } from '../../store/types';
import { saveBytes } from '../common/exportReport';
import { formatCount, formatFigure, formatShape } from '../common/format';
import type { Coloring } from './colorModes';

/** Over the 3D view: colour mode (number keys), overview, PNG at 2× / 4×, presentation, keys. */
export function ViewBar({ model }: { model: OpenModel }) {
  const mode = useApp((s) => s.colorMode);
  const setMode = useApp((s) => s.setColorMode);
  const resetView = useApp((s) => s.resetView);
  const presentation = useApp((s) => s.presentation);
  const setPresentation = useApp((s) => s.setPresentation);
  const setHelpOpen = useApp((s) => s.setHelpOpen);
  const tourStep = useApp((s) => s.tourStep);
  const setTourStep = useApp((s) => s.setTourStep);
  const { host } = useServices();
  const [message, setMessage] = useState<string | null>(null);
  const exportPng = async (scale: number) => {
    const capture = sceneBridge.capture;
    if (!capture) return;
    try {
      const { png, width, height } = await capture(scale);
      const name = `${model.name.replace(/\.onnx$/i, '')}-3d-${scale}x.png`;
      await saveBytes(host, name, new Uint8Array(await png.arrayBuffer()), 'image/png');
      setMessage(`Saved ${name} (${width} × ${height})`);
    } catch (error) {
      setMessage(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <div className="view-bar" data-testid="view-bar">
      <label>
        Colour{' '}
        <select
          value={mode}
          onChange={(e) => setMode(COLOR_MODES.find((m) => m === e.target.value) ?? 'stage')}
          data-testid="color-mode"
          aria-label="Colour the blocks by"
        >
          {COLOR_MODES.map((m) => (
            <option key={m} value={m}>
              {modeKey(m)} · {colorMode(m).name}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={resetView} title="Show the whole network (R)" data-testid="reset-view">
        Overview
      </button>
      <button type="button" onClick={() => void exportPng(2)} data-testid="png-2x" title="Save the 3D view as PNG">
        PNG 2×
      </button>
      <button type="button" onClick={() => void exportPng(4)} data-testid="png-4x">
        4×
      </button>
      <SlideExport model={model} onMessage={setMessage} />
      <button
        type="button"
        aria-pressed={presentation}
        onClick={() => setPresentation(!presentation)}
        data-testid="presentation"
        title="Presentation mode (P): full screen, large type, no panels"
      >
        Present
      </button>
      <button
        type="button"
        aria-pressed={tourStep !== null}
        onClick={() => setTourStep(tourStep === null ? 0 : null)}
        data-testid="tour-start"
        title="Guided tour (T)"
      >
        Tour
      </button>
      <button type="button" onClick={() => setHelpOpen(true)} title="Keys (?)" aria-label="Keyboard keys">
        ?
      </button>
      {message && (
        <span className="muted" data-testid="view-message">
          {message}
        </span>
      )}
    </div>
  );
}

/**
 * Slide export: the whole network framed on itself (not on the camera) at 16:9, 4:3 or square, 1280–3840 px wide,
 * on the theme's background or transparent, as PNG or as SVG (the scene as an image, the labels as text).
 */
function SlideExport({ model, onMessage }: { model: OpenModel; onMessage: (m: string) => void }) {
  const { host } = useServices();
  const [open, setOpen] = useState(false);
  const [aspect, setAspect] = useState<SlideAspect>('16:9');
  const [width, setWidth] = useState(1920);
  const [transparent, setTransparent] = useState(false);
  const save = async (format: 'png' | 'svg') => {
    const slide = sceneBridge.slide;
    if (!slide) return;
    try {
      const size = slideSize(aspect, width);
      const out = await slide({ ...size, transparent });
      const name = `${model.name.replace(/\.onnx$/i, '')}-slide-${aspect.replace(':', 'x')}-${out.width}.${format}`;
      if (format === 'png') await saveBytes(host, name, new Uint8Array(await out.png.arrayBuffer()), 'image/png');
      else await saveBytes(host, name, new TextEncoder().encode(out.svg), 'image/svg+xml');
      onMessage(`Saved ${name} (${out.width} × ${out.height})`);
    } catch (error) {
      onMessage(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <span className="slide-export">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        data-testid="slide-open"
        title="Save the whole network as a slide, framed on it"
      >
        Slide…
      </button>
      {open && (
        <span className="slide-options" data-testid="slide-options">
          <select
            value={aspect}
            onChange={(e) => setAspect(e.target.value as SlideAspect)}
            aria-label="Slide aspect"
            data-testid="slide-aspect"
          >
            {(Object.keys(SLIDE_ASPECTS) as SlideAspect[]).map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
          <select
            value={width}
            onChange={(e) => setWidth(Number(e.target.value))}
            aria-label="Slide width in pixels"
            data-testid="slide-width"
          >
            {[1280, 1920, 2560, 3840].map((w) => (
              <option key={w} value={w}>
                {w} px
              </option>
            ))}
          </select>
          <label>
            <input
              type="checkbox"
              checked={transparent}
              onChange={(e) => setTransparent(e.target.checked)}
              data-testid="slide-transparent"
            />{' '}
            transparent
          </label>
          <button type="button" onClick={() => void save('png')} data-testid="slide-png">
            PNG
          </button>
          <button type="button" onClick={() => void save('svg')} data-testid="slide-svg">
            SVG
          </button>
        </span>
      )}
    </span>
  );
}

/** What the colours mean in the current mode: categories, or the scale with its range and what was measured. */
export function ColorLegend({ coloring }: { coloring: Coloring }) {
  const { legend, empty, mode } = coloring;
  if (mode === 'stage') return null;
  return (
    <div className="legend overlay-legend" data-testid="color-legend" data-mode={mode}>
      <span className="chip">
        <strong>{colorMode(mode).name}</strong>
      </span>
      {empty && <span className="chip">{empty}</span>}
      {legend?.kind === 'categories' &&
        legend.items.map((item) => (
          <span className="chip" key={item.label}>
            <i style={{ background: item.color }} /> {item.label}
          </span>
        ))}
      {legend?.kind === 'scale' && (
        <>
          <span className="chip">{legend.label}</span>
          <span className="chip">
            {formatValue(legend.min)} <i className="scale" style={{ background: legend.css }} />{' '}
            {formatValue(legend.max)}
            {legend.scale === 'log' ? ' (log scale)' : ''}
          </span>
        </>
      )}
    </div>
  );
}

/** The selected block in full: structure, shapes, cost, and every value the lab has measured for it. */
export function Inspector({ model, context }: { model: OpenModel; context: ColorContext }) {
  const selected = useApp((s) => s.selectedBlock);
  const dropped = useApp((s) => s.dropped);
  const cutSkips = useApp((s) => s.cutSkips);
  const t: Topology = model.analysis.topology;
  if (selected === null) return null;
  const measured = MEASURED_MODES.map((m) => ({ mode: m, metric: modeValues(m, context) })).filter(
    (x) => x.metric && x.metric.values[selected] !== null && x.metric.values[selected] !== undefined,
  );
  if (t.kind === 'plain') {
    const l = t.layers[selected];
    if (!l) return null;
    return (
      <section className="panel" aria-label="Inspector" data-testid="inspector">
        <h2>Layer {selected + 1}</h2>
        <p>
          {l.op} {formatShape(l.weightShape)} → {formatShape(l.outShape)} · {formatCount(l.params)} params ·{' '}
          {formatFigure(l.macs)} MACs
        </p>
      </section>
    );
  }
  const b = t.blocks[selected];
  if (!b) return null;
  return (
    <section className="panel" aria-label="Inspector" data-testid="inspector">
      <h2>
        Block {b.index + 1} of {t.blocks.length} · stage {b.stage + 1}
      </h2>
      <table className="facts">
        <tbody>
          <tr>
            <th>kind</th>
            <td>
              {describeBlock(model.analysis.model, t, b.index)}
              {b.downsample ? ', downsamples' : ''}
            </td>
          </tr>
          <tr>
            <th>shapes</th>
            <td>
              {formatShape(b.inShape)} → {formatShape(b.outShape)}
            </td>
          </tr>
          <tr>
            <th>branch F</th>
            <td>
              {b.branchLayers.map((l) => formatShape(l.weightShape)).join(' → ')} ({b.branchLayers.length} convs)
            </td>
          </tr>
          <tr>
            <th>shortcut</th>
            <td>
              {SHORTCUT_NAMES[b.shortcut]}
              {b.shortcutLayers.length
                ? ` (${b.shortcutLayers.map((l) => formatShape(l.weightShape)).join(', ')})`
                : ''}
            </td>
          </tr>
          <tr>
            <th>cost</th>
            <td>
              {formatFigure(b.params, b.paramsComplete)} params · {formatFigure(b.macs, b.macsComplete)} MACs
            </td>
          </tr>
          <tr>
            <th>lesion</th>
            <td>{dropped.includes(b.index) ? 'branch removed' : cutSkips.includes(b.index) ? 'skip cut' : 'intact'}</td>
          </tr>
          {measured.map(({ mode, metric }) => (
            <tr key={mode} data-testid={`inspector-${mode}`}>
              <th>{colorMode(mode).name}</th>
              <td title={metric!.label}>
                {formatValue(metric!.values[selected]!)} <span className="muted">{metric!.label}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Named camera views: save the current one, recall with a click or Alt+1…9. */
export function Bookmarks() {
  const bookmarks = useApp((s) => s.bookmarks);
  const add = useApp((s) => s.addBookmark);
  const remove = useApp((s) => s.removeBookmark);
  const goTo = useApp((s) => s.goToPose);
  const [name, setName] = useState('');
  return (
    <section className="panel" aria-label="Camera bookmarks" data-testid="bookmarks">
      <h2>Camera bookmarks</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const pose = sceneBridge.pose?.();
          if (!pose) return;
          add({ name: name.trim() || `View ${bookmarks.length + 1}`, pose });
          setName('');
        }}
      >
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={`View ${bookmarks.length + 1}`}
          aria-label="Bookmark name"
          data-testid="bookmark-name"
        />
        <button type="submit" data-testid="bookmark-save">
          Save view
        </button>
      </form>
      <ol className="bookmark-list">
        {bookmarks.map((b, i) => (
          <li key={`${b.name}@${b.pose.position.join(',')}`}>
            <button type="button" onClick={() => goTo(b.pose)} data-testid="bookmark">
              Alt+{i + 1} · {b.name}
            </button>
            <button type="button" aria-label={`Delete ${b.name}`} onClick={() => remove(i)}>
              ×
            </button>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The key list (?): the colour-mode keys come from the mode table. */
export const KEYS: [string, string][] = [
  ['← / →', 'previous / next block (the camera follows)'],
  ['Space', "remove or restore the selected block's branch F(x)"],
  [
    `${modeKey(COLOR_MODES[0]!)} … ${modeKey(COLOR_MODES.at(-1)!)}`,
    `colour mode: ${COLOR_MODES.map((m) => colorMode(m).name).join(', ')}`,
  ],
  [
    'Enter',
    "presenting: the lab's main action, shown on the stage (Evaluate, run the study, start or pause the race…)",
  ],
  ['↑ / ↓, Page Up / Down, Home / End', 'scroll the race and the landscape'],
  ['R', 'overview of the whole network'],
  ['B', 'bookmark the current view; Alt+1 … 9 recalls'],
  ['P', 'presentation mode (full screen, large type)'],
  ['K', 'pause / resume the running work (Evaluate, lesion studies, landscapes, races)'],
  ['F', 'full screen'],
  ['T', 'guided tour (each step has a link: #tour=1 … #tour=9)'],
  ['Page Down / Up', 'next / previous tour step (what a presentation clicker sends)'],
  ['L / Shift+L', 'next / previous lab (Explore, Evaluate, Lesion, …)'],
  ['[ / ]', 'collapse or open the left / right side panel'],
  ['Esc', 'close / restore an enlarged chart / leave / clear the selection'],
  ['?', 'this list'],
];

export function HelpOverlay() {
  const open = useApp((s) => s.helpOpen);
  const setOpen = useApp((s) => s.setHelpOpen);
  if (!open) return null;
  return (
    <div className="help-overlay" role="dialog" aria-label="Keyboard keys" data-testid="help">
      {/* Close stays at the top, in sight: at 1280×720 the list is taller than the overlay. */}
      <div className="row help-head">
        <h2>Keys</h2>
        <button type="button" onClick={() => setOpen(false)} data-testid="help-close">
          Close
        </button>
      </div>
      <table>
        <tbody>
          {KEYS.map(([k, what]) => (
            <tr key={k}>
              <th>{k}</th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Mouse: drag to orbit, right-drag to pan, wheel to zoom; click a block to fly to it.</p>
    </div>
  );
}
