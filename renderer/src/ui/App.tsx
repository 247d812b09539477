import { useEffect, useMemo } from 'react';
import { NetworkScene } from '../scene/NetworkScene';
import { HEAT_CSS, scaleValues, themes } from '../scene/theme';
import type { AppStore } from '../store/store';
import { useApp, useAppStore } from '../store/store';
import { BlockCard } from './BlockCard';
import { BlockList } from './BlockList';
import { BuildPanel, InitPanel } from './BuildPanel';
import { EvaluatePanel } from './EvaluatePanel';
import { GradientPanel } from './GradientPanel';
import { LesionPanel } from './LesionPanel';
import { ModelList } from './ModelList';
import { PathsPanel } from './PathsPanel';
import { RunPanel } from './RunPanel';
import { SceneLegend } from './SceneLegend';
import { SummaryPanel } from './SummaryPanel';
import { SweepPanel } from './SweepPanel';

export function App() {
  const status = useApp((s) => s.status);
  const error = useApp((s) => s.error);
  const model = useApp((s) => s.model);
  const store = useAppStore();
  const themeName = useApp((s) => s.theme);
  const presentation = useApp((s) => s.presentation);
  const selected = useApp((s) => s.selectedBlock);
  const hovered = useApp((s) => s.hoveredBlock);
  const selectBlock = useApp((s) => s.selectBlock);
  const hoverBlock = useApp((s) => s.hoverBlock);
  const dropped = useApp((s) => s.dropped);
  const cutSkips = useApp((s) => s.cutSkips);
  const toggleDrop = useApp((s) => s.toggleDrop);
  const openDropped = useApp((s) => s.openDropped);
  const overlay = useApp((s) => s.overlay);
  const litPath = useApp((s) => s.litPath);
  const scaled = useMemo(() => (overlay ? scaleValues(overlay.values, overlay.scale) : null), [overlay]);
  const theme = themes[themeName];
  const loaded = status === 'ready' ? model : null;
  const shortcuts = useMemo(() => loaded?.analysis.topology.blocks.map((b) => b.shortcut) ?? [], [loaded]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const state = store.getState();
      if (e.key === 'p' && !(e.target instanceof HTMLInputElement)) state.togglePresentation();
      if (e.key === 'Escape') state.selectBlock(null);
      // Space removes (or restores) the selected block's branch, unless a control has the focus.
      const typing =
        e.target instanceof HTMLInputElement ||
        e.target instanceof HTMLSelectElement ||
        e.target instanceof HTMLButtonElement ||
        e.target instanceof HTMLTextAreaElement;
      if (
        e.key === ' ' &&
        !typing &&
        state.selectedBlock !== null &&
        state.model?.analysis.topology.kind === 'residual'
      ) {
        e.preventDefault();
        state.toggleDrop(state.selectedBlock);
      }
      if (
        (e.key === 'ArrowRight' || e.key === 'ArrowLeft') &&
        !(e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement)
      ) {
        stepSelection(store, e.key === 'ArrowRight' ? 1 : -1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  return (
    <div
      className={`app theme-${theme.name}${presentation ? ' presentation' : ''}`}
      role="application"
      aria-label="Skipscope"
      data-testid="app"
      data-state={status}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        // An .onnx file opens as a model; images become the current image set; CIFAR .bin files too.
        const files = [...e.dataTransfer.files];
        const model = files.find((f) => /\.onnx$/i.test(f.name));
        const binaries = files.filter((f) => /\.bin$/i.test(f.name));
        if (model) void openDropped(model);
        else if (binaries.length)
          void store.getState().setCustomImages({
            origin: 'cifar-binary',
            files: binaries,
            title: binaries.map((f) => f.name).join(' + '),
          });
        else if (files.length)
          void store.getState().setCustomImages({
            origin: 'drop',
            files,
            title: files.length === 1 ? files[0]!.name : `${files.length} dropped files`,
          });
      }}
    >
      <header className="topbar">
        <span className="brand">Skipscope</span>
        <span className="subtitle">
          {loaded ? loaded.analysis.architecture : status === 'loading' ? 'Loading…' : ''}
        </span>
        <ThemePicker />
      </header>
      <aside className="sidebar left">
        <ModelList />
        <BuildPanel />
      </aside>
      <main className="stage">
        {status === 'error' && (
          <div className="error-panel" role="alert" data-testid="model-error">
            <strong>Could not open this model.</strong>
            <p>{error}</p>
          </div>
        )}
        {status === 'loading' && <div className="loading">Reading the graph…</div>}
        {loaded && (
          <NetworkScene
            layout={loaded.layout}
            shortcuts={shortcuts}
            theme={theme}
            dropped={dropped}
            cutSkips={cutSkips}
            selected={selected}
            hovered={hovered}
            onHover={hoverBlock}
            overlay={scaled?.t ?? null}
            path={litPath}
            onSelect={(block) => {
              // Clicking a block selects it; clicking the selected block removes (or restores) its branch.
              if (block !== null && block === selected && loaded?.analysis.topology.kind === 'residual')
                toggleDrop(block);
              else selectBlock(block);
            }}
          />
        )}
        {loaded && <SceneLegend topology={loaded.analysis.topology} theme={theme} />}
        {loaded && overlay && scaled && (
          <div className="legend overlay-legend" data-testid="overlay-legend">
            <span className="chip">{overlay.label}</span>
            <span className="chip">
              {fmt(scaled.min)} <i className="scale" style={{ background: HEAT_CSS }} /> {fmt(scaled.max)}
              {overlay.scale === 'log' ? ' (log scale)' : ''}
            </span>
          </div>
        )}
        {loaded && <BlockCard model={loaded} />}
      </main>
      <aside className="sidebar right">
        {loaded && <SummaryPanel model={loaded} />}
        {loaded && <RunPanel model={loaded} />}
        {loaded && <EvaluatePanel model={loaded} />}
        {loaded && loaded.analysis.topology.blocks.length > 0 && <LesionPanel model={loaded} />}
        {loaded && loaded.analysis.topology.blocks.length > 0 && <SweepPanel model={loaded} />}
        {loaded?.input && <GradientPanel key={loaded.key} model={loaded} />}
        {loaded?.input && loaded.analysis.topology.blocks.length > 0 && <PathsPanel key={loaded.key} model={loaded} />}
        {loaded && <InitPanel />}
        {loaded && <BlockList model={loaded} />}
      </aside>
    </div>
  );
}

function ThemePicker() {
  const theme = useApp((s) => s.theme);
  const setTheme = useApp((s) => s.setTheme);
  return (
    <label className="theme-picker">
      Theme{' '}
      <select value={theme} onChange={(e) => setTheme(e.target.value as typeof theme)} data-testid="theme">
        <option value="dark">Dark</option>
        <option value="light">Light</option>
        <option value="projector">Projector (high contrast)</option>
      </select>
    </label>
  );
}

/** ← / → walk through the blocks (or layers), so a lecturer can step along the network. */
function stepSelection(store: AppStore, delta: number): void {
  const state = store.getState();
  const t = state.model?.analysis.topology;
  const count = t ? (t.kind === 'plain' ? t.layers.length : t.blocks.length) : 0;
  if (count === 0) return;
  const current = state.selectedBlock;
  const next = current === null ? (delta > 0 ? 0 : count - 1) : Math.min(count - 1, Math.max(0, current + delta));
  state.selectBlock(next);
}

const fmt = (x: number) =>
  x !== 0 && (Math.abs(x) < 1e-2 || Math.abs(x) >= 1e4) ? x.toExponential(2) : x.toPrecision(3);
