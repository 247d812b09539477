import { useEffect, useMemo } from 'react';
import { layoutNetwork } from '../core/layout/layout';
import { blockParts } from '../core/layout/parts';
import { sceneBridge } from '../scene/bridge';
import { NetworkScene } from '../scene/NetworkScene';
import { themes } from '../scene/theme';
import { modeForKey } from '../store/colorModes';
import { raceRunning } from '../store/raceSlice';
import { useApp, useAppStore, useCacheVersion, useServices } from '../store/store';
import type { AppStore, OpenModel } from '../store/types';
import { formatShape } from './common/format';
import { BlockCard } from './network/BlockCard';
import { colorBlocks, colorContext } from './network/colorModes';
import { SceneLegend } from './network/SceneLegend';
import { Tour } from './network/Tour';
import { Bookmarks, ColorLegend, HelpOverlay, Inspector, ViewBar } from './network/ViewControls';
import { BlockList } from './panels/BlockList';
import { BuildPanel, InitPanel } from './panels/BuildPanel';
import { EvaluatePanel } from './panels/EvaluatePanel';
import { GradientPanel } from './panels/GradientPanel';
import { LesionPanel } from './panels/LesionPanel';
import { ModelList } from './panels/ModelList';
import { PathsPanel } from './panels/PathsPanel';
import { RunPanel } from './panels/RunPanel';
import { SignalPanel } from './panels/SignalPanel';
import { SummaryPanel } from './panels/SummaryPanel';
import { SweepPanel } from './panels/SweepPanel';
import { LandscapeWorkspace } from './workspaces/LandscapeWorkspace';
import { RaceWorkspace } from './workspaces/race/RaceWorkspace';

export function App() {
  const status = useApp((s) => s.status);
  const error = useApp((s) => s.error);
  const model = useApp((s) => s.model);
  const store = useAppStore();
  const { cache } = useServices();
  const themeName = useApp((s) => s.theme);
  const presentation = useApp((s) => s.presentation);
  const selected = useApp((s) => s.selectedBlock);
  const hovered = useApp((s) => s.hoveredBlock);
  const selectBlock = useApp((s) => s.selectBlock);
  const flyTo = useApp((s) => s.flyTo);
  const hoverBlock = useApp((s) => s.hoverBlock);
  const dropped = useApp((s) => s.dropped);
  const cutSkips = useApp((s) => s.cutSkips);
  const toggleDrop = useApp((s) => s.toggleDrop);
  const openDropped = useApp((s) => s.openDropped);
  const litPath = useApp((s) => s.litPath);
  const colorMode = useApp((s) => s.colorMode);
  const cameraRequest = useApp((s) => s.cameraRequest);
  const workspace = useApp((s) => s.workspace);
  // The colours follow the results of the current choices (image, target, image count, images) in the cache.
  const gradientKey = useApp((s) => s.gradientKey());
  const signalKey = useApp((s) => s.signalKey());
  const sweepKey = useApp((s) => s.sweepKey({ kind: 'single', remove: 'branch' }));
  const theme = themes[themeName];
  const loaded = status === 'ready' ? model : null;
  const shortcuts = useMemo(() => loaded?.analysis.topology.blocks.map((b) => b.shortcut) ?? [], [loaded]);
  const parts = useMemo(() => (loaded ? blockParts(loaded.analysis.model, loaded.analysis.topology) : null), [loaded]);
  // The selected block opens into its ops; the overview framing stays that of the closed layout.
  const layout = useMemo(
    () => (loaded ? layoutNetwork(loaded.analysis.topology, { focus: selected, parts }) : null),
    [loaded, selected, parts],
  );
  const version = useCacheVersion();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the keys and the cache version are what the context reads
  const context = useMemo(
    () => (loaded ? colorContext(store.getState(), cache) : null),
    [loaded, store, cache, gradientKey, signalKey, sweepKey, version],
  );
  const coloring = useMemo(
    () => (context ? colorBlocks(colorMode, context, theme) : null),
    [colorMode, context, theme],
  );
  const names = useMemo(() => (loaded ? sceneNames(loaded) : null), [loaded]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const state = store.getState();
      const typing =
        e.target instanceof HTMLInputElement ||
        e.target instanceof HTMLSelectElement ||
        e.target instanceof HTMLTextAreaElement;
      if (typing) return;
      const onButton =
        e.target instanceof HTMLButtonElement ||
        e.target instanceof HTMLAnchorElement ||
        (e.target instanceof HTMLElement && e.target.tagName === 'SUMMARY');
      const residual = state.model?.analysis.topology.kind === 'residual';
      if (e.altKey && /^Digit[1-9]$/.test(e.code)) {
        const b = state.bookmarks[Number(e.code.slice(5)) - 1];
        if (b) state.goToPose(b.pose);
        e.preventDefault();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const mode = modeForKey(e.key);
      if (mode) state.setColorMode(mode);
      else if (e.key === 'p' || e.key === 'P') state.setPresentation(!state.presentation);
      else if (e.key === 'f' || e.key === 'F') toggleFullScreen();
      else if (e.key === 'r' || e.key === 'R') state.resetView();
      else if (e.key === 't' || e.key === 'T') state.setTourStep(state.tourStep === null ? 0 : null);
      else if (e.key === '?') state.setHelpOpen(!state.helpOpen);
      else if (e.key === 'b' || e.key === 'B') {
        const pose = sceneBridge.pose?.();
        if (pose) state.addBookmark({ name: `View ${state.bookmarks.length + 1}`, pose });
      } else if (e.key === 'Escape') {
        // One thing at a time: the key list, the tour, presentation, then the selection.
        if (state.helpOpen) state.setHelpOpen(false);
        else if (state.tourStep !== null) state.setTourStep(null);
        else if (state.presentation) state.setPresentation(false);
        else state.selectBlock(null);
      } else if (e.key === ' ' && !onButton && !e.repeat && state.selectedBlock !== null && residual) {
        // Space removes (or restores) the selected block's branch, unless a control has the focus.
        e.preventDefault();
        state.toggleDrop(state.selectedBlock);
      } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        stepSelection(store, e.key === 'ArrowRight' ? 1 : -1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  // Presentation mode is true full screen where the platform allows it; leaving full screen (the browser's own
  // Esc included, which the page never sees) leaves it too.
  useEffect(() => {
    const onChange = () => {
      if (!document.fullscreenElement && store.getState().presentation) store.getState().setPresentation(false);
    };
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, [store]);
  useEffect(() => {
    if (presentation && !document.fullscreenElement)
      document.documentElement.requestFullscreen?.().catch(() => {
        // Full screen needs a user gesture in browsers: the layout still fills the window.
      });
    if (!presentation && document.fullscreenElement) void document.exitFullscreen?.().catch(() => {});
  }, [presentation]);

  return (
    <div
      className={`app theme-${theme.name}${presentation ? ' presentation' : ''}`}
      role="application"
      aria-label="Skipscope"
      data-testid="app"
      data-state={status}
      data-presentation={presentation ? 'on' : 'off'}
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
        <WorkspaceTabs />
        <ThemePicker />
      </header>
      <aside className="sidebar left">
        <ModelList />
        <BuildPanel />
      </aside>
      <main className="stage">
        {workspace === 'race' && <RaceWorkspace />}
        {workspace === 'landscape' && <LandscapeWorkspace model={loaded} />}
        {workspace === 'network' && status === 'error' && (
          <div className="error-panel" role="alert" data-testid="model-error">
            <strong>Could not open this model.</strong>
            <p>{error}</p>
          </div>
        )}
        {workspace === 'network' && status === 'loading' && <div className="loading">Reading the graph…</div>}
        {workspace === 'network' && loaded && layout && coloring && names && (
          <NetworkScene
            layout={layout}
            frame={loaded.layout.bounds}
            shortcuts={shortcuts}
            theme={theme}
            dropped={dropped}
            cutSkips={cutSkips}
            selected={selected}
            hovered={hovered}
            onHover={hoverBlock}
            colors={coloring.colors}
            bars={coloring.bars}
            path={litPath}
            names={names}
            cameraMove={cameraRequest}
            laser={presentation}
            colorMode={colorMode}
            onSelect={(block) => {
              // Clicking a block flies to it; clicking the selected block removes (or restores) its branch.
              if (block !== null && block === selected && loaded?.analysis.topology.kind === 'residual')
                toggleDrop(block);
              else if (block === null) selectBlock(null);
              else flyTo(block);
            }}
          />
        )}
        {workspace === 'network' && loaded && <ViewBar model={loaded} />}
        {workspace === 'network' && loaded && <SceneLegend topology={loaded.analysis.topology} theme={theme} />}
        {workspace === 'network' && loaded && coloring && <ColorLegend coloring={coloring} />}
        {workspace === 'network' && loaded && <BlockCard model={loaded} />}
        {loaded && <Tour model={loaded} />}
        <HelpOverlay />
      </main>
      <aside className="sidebar right">
        {loaded && context && <Inspector model={loaded} context={context} />}
        {loaded && <SummaryPanel model={loaded} />}
        {loaded && <RunPanel model={loaded} />}
        {loaded && <EvaluatePanel model={loaded} />}
        {loaded && loaded.analysis.topology.blocks.length > 0 && <LesionPanel model={loaded} />}
        {loaded && loaded.analysis.topology.blocks.length > 0 && <SweepPanel model={loaded} />}
        {loaded?.input && <GradientPanel key={`gradient:${loaded.key}`} model={loaded} />}
        {loaded?.input && loaded.analysis.topology.blocks.length > 0 && (
          <PathsPanel key={`paths:${loaded.key}`} model={loaded} />
        )}
        {loaded?.input && <SignalPanel key={`signal:${loaded.key}`} model={loaded} />}
        {loaded && <InitPanel />}
        {loaded && <Bookmarks />}
        {loaded && <BlockList model={loaded} />}
      </aside>
    </div>
  );
}

/** The scene's texts: input and output, each stage with its block count and shape. */
function sceneNames(model: OpenModel): { stem: string; stages: string[]; head: string; unit: string } {
  const t = model.analysis.topology;
  const input = t.input.shape?.slice(1).join('×');
  return {
    stem: input ? `stem · input ${input}` : 'stem',
    stages: t.stages.map((s) => `stage ${s.index + 1} · ${s.last - s.first + 1} blocks · ${formatShape(s.outShape)}`),
    head: `head · ${t.output.shape?.[1] ?? '?'} classes`,
    unit: t.kind === 'residual' ? 'block' : 'layer',
  };
}

function toggleFullScreen(): void {
  if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
  else void document.documentElement.requestFullscreen?.().catch(() => {});
}

/** The centre of the window: the 3D network, the training race, the loss landscape. */
function WorkspaceTabs() {
  const workspace = useApp((s) => s.workspace);
  const setWorkspace = useApp((s) => s.setWorkspace);
  const racing = useApp(raceRunning);
  const tabs: { id: typeof workspace; label: string; running?: boolean }[] = [
    { id: 'network', label: 'Network' },
    { id: 'race', label: 'Training race', running: racing },
    { id: 'landscape', label: 'Loss landscape' },
  ];
  return (
    <div
      className="workspace-tabs"
      role="tablist"
      aria-label="workspace"
      onKeyDown={(e) => {
        // ← / → move between the tabs (and do not walk the blocks meanwhile).
        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
        e.preventDefault();
        e.stopPropagation();
        const k = tabs.findIndex((t) => t.id === workspace);
        const next = tabs[(k + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]!;
        setWorkspace(next.id);
        (e.currentTarget.querySelector(`[data-testid="tab-${next.id}"]`) as HTMLElement | null)?.focus();
      }}
    >
      {tabs.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          aria-selected={workspace === t.id}
          tabIndex={workspace === t.id ? 0 : -1}
          className={workspace === t.id ? 'active' : ''}
          onClick={() => setWorkspace(t.id)}
          data-testid={`tab-${t.id}`}
        >
          {t.label}
          {t.running && (
            <span className="running-dot" role="img" aria-label="(running)">
              {' '}
              ●
            </span>
          )}
        </button>
      ))}
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
  state.flyTo(next);
}
