import { type ReactNode, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { isFullyConnected, layoutNetwork, plainStages } from '../core/layout/layout';
import { takesLesions } from '../core/rewrite/plain';
import { oneLine } from '../core/text';
import { noLesionReason } from '../core/topology/family';
import { plainUnits } from '../core/topology/plainUnits';
import { droppedFolders, readDropped } from '../data/dropEntries';
import { READ_FORMATS_OR } from '../data/imageBytes';
import { isImageFileName } from '../data/imageSets';
import { sceneBridge } from '../scene/bridge';
import { NetworkScene } from '../scene/NetworkScene';
import { themes } from '../scene/theme';
import { modeForKey } from '../store/colorModes';
import { raceRunning } from '../store/raceSlice';
import { useApp, useAppStore, useCacheVersion, useServices } from '../store/store';
import { type AppStore, LAB_IDS, type Lab, labWorkspace, type OpenModel } from '../store/types';
import { StageDock } from './common/charts/Chart';
import { counted, formatShape } from './common/format';
import { StageAction } from './common/primaryAction';
import { scrollDock, useDockOverflow, useStageInsets } from './common/stageInsets';
import { BlockCard } from './network/BlockCard';
import { colorBlocks, colorContext } from './network/colorModes';
import { useLesionNote } from './network/lesionNote';
import { SceneLegend } from './network/SceneLegend';
import { StageJobs } from './network/StageJobs';
import { STEPS, Tour } from './network/Tour';
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
  const dismissError = useApp((s) => s.dismissError);
  const stageRef = useRef<HTMLElement>(null);
  useStageInsets(stageRef);
  const model = useApp((s) => s.model);
  const store = useAppStore();
  const { cache } = useServices();
  const themeName = useApp((s) => s.theme);
  const presentation = useApp((s) => s.presentation);
  const dropNotice = useApp((s) => s.dropNotice);
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
  const lab = useApp((s) => s.lab);
  const stageChart = useApp((s) => s.stageChart);
  const collapsed = useApp((s) => s.collapsed);
  const [dock, setDock] = useState<HTMLDivElement | null>(null);
  /** The latest folder drop being read (an earlier one still reading is dropped when it ends). */
  const dropTicket = useRef(0);
  const dockMore = useDockOverflow(dock);
  // The colours follow the results of the current choices (image, target, image count, images) in the cache.
  const gradientKey = useApp((s) => s.gradientKey());
  const signalKey = useApp((s) => s.signalKey());
  const sweepKey = useApp((s) => s.sweepKey({ kind: 'single', remove: 'branch' }));
  const theme = themes[themeName];
  const loaded = status === 'ready' ? model : null;
  // While the next model loads, the scene keeps drawing the last one: the 3D view (its WebGL context, compiled
  // shaders and canvas size) stays mounted, so the new model's first frame costs only its own geometry (measured in
  // Chromium with llvmpipe, resnet20 → resnet56, bytes to first frame: ~390 ms with a new context, ~250 ms without).
  const drawn = status === 'ready' || status === 'loading' ? model : null;
  const shortcuts = useMemo(() => drawn?.analysis.topology.blocks.map((b) => b.shortcut) ?? [], [drawn]);
  const parts = drawn?.parts ?? null;
  // The selected block opens into its ops; the overview framing stays that of the closed layout.
  const layout = useMemo(
    () => (drawn ? layoutNetwork(drawn.analysis.topology, { focus: selected, parts }) : null),
    [drawn, selected, parts],
  );
  const version = useCacheVersion();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the keys and the cache version are what the context reads
  const context = useMemo(
    () => (drawn ? colorContext(store.getState(), cache) : null),
    [drawn, store, cache, gradientKey, signalKey, sweepKey, version],
  );
  const coloring = useMemo(
    () => (context ? colorBlocks(colorMode, context, theme) : null),
    [colorMode, context, theme],
  );
  const names = useMemo(() => (drawn ? sceneNames(drawn) : null), [drawn]);
  const lesionNote = useLesionNote();
  const noteText = lesionNote?.text;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the note changes with its text, not its object
  const note = useMemo(() => lesionNote, [noteText, lesionNote?.block, lesionNote?.exact]);

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
      else if (e.key === 'l' || e.key === 'L') {
        const k = LAB_IDS.indexOf(state.lab);
        state.setLab(LAB_IDS[(k + (e.shiftKey ? LAB_IDS.length - 1 : 1)) % LAB_IDS.length]!);
      } else if (e.key === '[') state.toggleSide('left');
      else if (e.key === ']') state.toggleSide('right');
      else if (e.key === 't' || e.key === 'T') state.setTourStep(state.tourStep === null ? 0 : null);
      else if ((e.key === 'PageDown' || e.key === 'PageUp') && state.tourStep !== null) {
        // A presentation clicker's buttons: the tour's Next and Back, wherever the focus is.
        e.preventDefault();
        const step = state.tourStep + (e.key === 'PageDown' ? 1 : -1);
        if (step >= 0 && step < STEPS.length) state.setTourStep(step);
      } else if (e.key === '?') state.setHelpOpen(!state.helpOpen);
      else if (e.key === 'k' || e.key === 'K') state.togglePauseJobs();
      else if (e.key === 'b' || e.key === 'B') {
        const pose = sceneBridge.pose?.();
        if (pose) state.addBookmark({ name: `View ${state.bookmarks.length + 1}`, pose });
      } else if (e.key === 'Escape') {
        // One thing at a time: the key list, the tour, presentation, then the selection.
        if (state.helpOpen) state.setHelpOpen(false);
        else if (state.stageChart !== null) state.setStageChart(null);
        else if (state.tourStep !== null) state.setTourStep(null);
        else if (state.presentation) state.setPresentation(false);
        else state.selectBlock(null);
      } else if (
        e.key === ' ' &&
        state.workspace === 'network' &&
        !onButton &&
        !e.repeat &&
        state.selectedBlock !== null &&
        state.model &&
        removable(state.model, state.selectedBlock)
      ) {
        // Space removes (or restores) the selected block's branch (a plain layer), unless a control has the focus.
        e.preventDefault();
        state.toggleDrop(state.selectedBlock);
      } else if (e.key === 'Enter' && state.presentation && !onButton && !e.repeat && state.primaryAction?.enabled) {
        // Presenting, the open lab's main action (Evaluate, Run the study, Start race…), where no control has the
        // focus: its button is in the side panel, which presenting hides. (Elsewhere a stray Enter started a race.)
        e.preventDefault();
        state.primaryAction.run();
      } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        stepSelection(store, e.key === 'ArrowRight' ? 1 : -1);
      } else if (state.workspace !== 'network' && !onButton && SCROLL_KEYS.has(e.key)) {
        // The race and the landscape are pages: the keys scroll them wherever the focus is (in presentation it is
        // on no control of theirs, and the page itself does not scroll).
        const page = document.querySelector<HTMLElement>('.stage > .workspace');
        if (page) {
          e.preventDefault();
          scrollPage(page, e.key, e.shiftKey);
        }
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
  // Presenting, no control keeps the focus: the tab just clicked (now hidden) or the view bar's Present button would
  // take Enter (Present would leave presentation again), and the lab's main action (StageAction) would not start.
  useEffect(() => {
    const focused = document.activeElement;
    if (presentation && focused instanceof HTMLElement && focused !== document.body) focused.blur();
  }, [presentation]);
  // The race and the landscape are pages: presenting starts at their top, where their view is (the landscape kept its
  // normal-mode scroll, and its readout and scale title began above the screen).
  useLayoutEffect(() => {
    if (presentation) for (const page of document.querySelectorAll('.stage > .workspace')) page.scrollTop = 0;
  }, [presentation]);
  useEffect(() => {
    if (presentation && !document.fullscreenElement)
      document.documentElement.requestFullscreen?.().catch(() => {
        // Full screen needs a user gesture in browsers: the layout still fills the window.
      });
    if (!presentation && document.fullscreenElement) void document.exitFullscreen?.().catch(() => {});
  }, [presentation]);

  return (
    <div
      className={`app theme-${theme.name}${presentation ? ' presentation' : ''}${collapsed.left ? ' left-collapsed' : ''}${workspace !== 'network' ? ' no-right' : collapsed.right ? ' right-collapsed' : ''}`}
      role="application"
      aria-label="Skipscope"
      data-testid="app"
      data-state={status}
      data-presentation={presentation ? 'on' : 'off'}
      data-lab={lab}
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        store.getState().setDropNotice(null);
        // Folders (with or without files beside them) are read as Folder… reads one: their images, class by
        // subfolder. A folder once came through as one empty file ("… holds no JPEG, PNG or WebP images").
        // A model dropped with them still opens as a model (below), as before folders were read.
        const folders = [...e.dataTransfer.files].some((f) => /\.onnx$/i.test(f.name))
          ? null
          : droppedFolders(e.dataTransfer);
        if (folders) {
          // Reading a large folder takes a while: a later choice of images (another drop, Folder…, the CIFAR set)
          // made meanwhile stands, and this read is dropped.
          const ticket = ++dropTicket.current;
          const { custom, imageSource } = store.getState();
          void (async () => {
            const { files, paths, truncated } = await readDropped(folders);
            const now = store.getState();
            if (ticket !== dropTicket.current || now.custom !== custom || now.imageSource !== imageSource) return;
            const name = folders.length === 1 ? `${folders[0]!.name}/` : `${folders.length} dropped items`;
            await store.getState().setCustomImages({
              origin: 'folder',
              files,
              paths,
              title: `${name} (${truncated ? 'the first ' : ''}${counted(files.length, 'file')})`,
            });
          })();
          return;
        }
        // An .onnx file opens as a model; images become the current image set; CIFAR .bin files too.
        const files = [...e.dataTransfer.files];
        const [model, ...more] = files.filter((f) => /\.onnx$/i.test(f.name));
        const binaries = files.filter((f) => /\.bin$/i.test(f.name));
        // Several models dropped at once are opened one after the other (all but the first were ignored): each that
        // opens joins the list, one that does not says why, and the last that opens stays open.
        if (model)
          void (async () => {
            const refused: string[] = [];
            for (const file of [model, ...more]) {
              await openDropped(file);
              const error = store.getState().error;
              if (error) refused.push(error);
            }
            // Each open clears the last one's message: the refusals are said together at the end.
            if (refused.length > 0 && more.length > 0)
              store.setState({
                error: `${refused.join('; ')} (${refused.length} of ${more.length + 1} dropped models not opened)`,
              });
          })();
        else if (binaries.length)
          void store.getState().setCustomImages({
            origin: 'cifar-binary',
            files: binaries,
            title: binaries.map((f) => f.name).join(' + '),
          });
        else if (files.some((f) => isImageFileName(f.name)))
          void store.getState().setCustomImages({
            origin: 'drop',
            files,
            title: files.length === 1 ? files[0]!.name : `${files.length} dropped files`,
          });
        // Nothing Skipscope reads (a .txt, a .zip): said in one line, and the images in use stay (they were replaced
        // by a set of one unreadable "image", and every lab then failed on it).
        else if (files.length) {
          const which =
            files.length === 1
              ? `${oneLine(files[0]!.name, 80)} is not`
              : `none of the ${files.length} dropped files is`;
          store
            .getState()
            .setDropNotice(
              `${which} an .onnx model, a CIFAR-10 .bin file or a ${READ_FORMATS_OR} image by ${files.length === 1 ? 'its name' : 'their names'}: nothing was opened, the images in use stay`,
            );
        }
      }}
    >
      <header className="topbar">
        <span className="brand">Skipscope</span>
        <span className="subtitle">
          {loaded ? loaded.analysis.architecture : status === 'loading' ? 'Loading…' : ''}
        </span>
        <ThemePicker />
      </header>
      <LabTabs />
      <aside className="sidebar left" aria-label="models">
        <SideToggle side="left" />
        {!collapsed.left && <ModelList />}
      </aside>
      <main ref={stageRef} className={`stage${stageChart !== null ? ' chart-enlarged' : ''}`} data-testid="stage">
        {dropNotice && (
          <p className="error drop-notice" role="alert" data-testid="drop-notice">
            {dropNotice}{' '}
            <button type="button" aria-label="dismiss" onClick={() => store.getState().setDropNotice(null)}>
              ×
            </button>
          </p>
        )}
        {workspace === 'race' && <RaceWorkspace />}
        {workspace === 'landscape' && <LandscapeWorkspace model={loaded} />}
        {workspace === 'network' && status === 'error' && (
          <div className="error-panel" role="alert" data-testid="model-error">
            <strong>Could not open this model.</strong>
            <p>{error}</p>
          </div>
        )}
        {status !== 'error' && error && (
          <div className="error-banner" role="alert" data-testid="model-error">
            <span>
              <strong>Could not open that file</strong> (the open model stays open): {error}
            </span>
            <button type="button" onClick={dismissError} aria-label="Dismiss the message">
              ×
            </button>
          </div>
        )}
        {workspace === 'network' && status === 'loading' && (
          <div className={`loading${drawn ? ' over-scene' : ''}`}>Reading the graph…</div>
        )}
        {workspace === 'network' && drawn && layout && coloring && names && (
          <NetworkScene
            layout={layout}
            frame={drawn.layout}
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
            note={note}
            onSelect={(block) => {
              // The last model's scene, drawn while the next one loads, takes no clicks.
              if (!loaded) return;
              // Clicking a block flies to it; clicking the selected block removes (or restores) its branch.
              if (block !== null && block === selected && removable(loaded, block)) toggleDrop(block);
              else if (block === null) selectBlock(null);
              else flyTo(block);
            }}
          />
        )}
        {workspace === 'network' && loaded && <ViewBar model={loaded} />}
        {workspace === 'network' && loaded && (
          <SceneLegend
            topology={loaded.analysis.topology}
            theme={theme}
            recoloured={colorMode !== 'stage' || litPath !== null}
          />
        )}
        {workspace === 'network' && loaded && coloring && <ColorLegend coloring={coloring} />}
        {workspace === 'network' && loaded && presentation && (
          // Without the tabs, the lab is named on the stage (Gradients looked just like Lesion), left of the view bar.
          <div className="stage-lab" data-testid="stage-lab">
            {LAB_NAMES[lab]}
          </div>
        )}
        {workspace !== 'network' && presentation && (
          // The race and the landscape are pages: their lab's name and main action in a row above them.
          <>
            <div className="stage-lab" data-testid="stage-lab">
              {LAB_NAMES[lab]}
            </div>
            <StageAction floating />
          </>
        )}
        {/* One column: the running jobs (in presentation) above the block's card; each had its own corner, and
            in presentation the job's box sat over the card. */}
        {workspace === 'network' && loaded && (
          <div className="stage-corner">
            {/* Presenting, the lab's main action, whose panel is hidden: a button, and Enter. */}
            {presentation && <StageAction floating={false} />}
            <StageJobs />
            <BlockCard model={loaded} />
          </div>
        )}
        {workspace === 'network' && loaded && LAB_CHARTS.has(lab) && (
          <div className="stage-dock" ref={setDock} data-testid="stage-dock" data-more={dockMore ?? undefined} />
        )}
        {/* Charts beyond the dock's edge: a button brings the next one into view (the fade alone was missed). */}
        {workspace === 'network' &&
          dock &&
          (['left', 'right'] as const).map(
            (side) =>
              (dockMore === side || dockMore === 'both') && (
                <button
                  key={side}
                  type="button"
                  className={`dock-scroll ${side}`}
                  onClick={() => scrollDock(dock, side)}
                  aria-label={side === 'right' ? 'Show the next chart' : 'Show the chart before'}
                  title={side === 'right' ? 'More charts to the right' : 'More charts to the left'}
                  data-testid={`dock-scroll-${side}`}
                >
                  {side === 'right' ? '›' : '‹'}
                </button>
              ),
          )}
        {loaded && <Tour model={loaded} />}
        <HelpOverlay />
      </main>
      <aside className="sidebar right" aria-label={`${LAB_NAMES[lab]} controls`} data-testid="lab-panel">
        <SideToggle side="right" />
        <StageDock.Provider value={workspace === 'network' && LAB_CHARTS.has(lab) ? dock : null}>
          {/* Presenting hides the panel but keeps it mounted: the stage offers its main action (StageAction). */}
          {(!collapsed.right || presentation) && lab === 'build' && <BuildPanel />}
          {(!collapsed.right || presentation) && loaded && workspace === 'network' && (
            <LabPanels lab={lab} model={loaded} context={context} />
          )}
        </StageDock.Provider>
      </aside>
    </div>
  );
}

/**
 * The scene's texts: input and output, each stage with its block (or layer) count and shape. A plain network's
 * fully connected layers (a vector out) are named as such, not as one more stage.
 */
function sceneNames(model: OpenModel): {
  stem: string;
  stages: string[];
  head: string;
  unit: string;
} {
  const t = model.analysis.topology;
  const input = t.input.shape?.slice(1).join('×');
  const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  let spatial = 0;
  const stages =
    t.kind === 'residual'
      ? t.stages.map(
          (s) => `stage ${s.index + 1} · ${count(s.last - s.first + 1, 'block')} · ${formatShape(s.outShape)}`,
        )
      : plainStages(t).map((s) => {
          const n = count(s.last - s.first + 1, 'layer');
          return isFullyConnected(s)
            ? `fully connected · ${n} · ${formatShape(s.outShape)}`
            : `stage ${++spatial} · ${n} · ${formatShape(s.outShape)}`;
        });
  return {
    stem: input ? `stem · input ${input}` : 'stem',
    stages,
    head: `head · ${t.output.shape?.at(-1) ?? '?'} classes`,
    unit: t.kind === 'residual' ? 'block' : 'layer',
  };
}

function toggleFullScreen(): void {
  if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
  else void document.documentElement.requestFullscreen?.().catch(() => {});
}

/** Keys that scroll the race and the landscape pages (App's key handler). */
const SCROLL_KEYS = new Set(['ArrowDown', 'ArrowUp', 'PageDown', 'PageUp', 'Home', 'End', ' ']);

/** Scrolls a page as the browser would for its focused scroller: a line, a page (less a line), or to an end. */
function scrollPage(page: HTMLElement, key: string, shift: boolean): void {
  const line = 48;
  const screen = Math.max(line, page.clientHeight - line);
  const by: Record<string, number> = {
    ArrowDown: line,
    ArrowUp: -line,
    PageDown: screen,
    PageUp: -screen,
    ' ': shift ? -screen : screen,
  };
  if (key === 'Home') page.scrollTo({ top: 0 });
  else if (key === 'End') page.scrollTo({ top: page.scrollHeight });
  else page.scrollBy({ top: by[key] ?? 0 });
}

/** The labs of the switcher, with the names on their tabs. */
const LAB_NAMES: Record<Lab, string> = {
  explore: 'Explore',
  evaluate: 'Evaluate',
  lesion: 'Lesion',
  gradients: 'Gradients',
  paths: 'Paths',
  signal: 'Signal',
  build: 'Build & init',
  race: 'Race',
  landscape: 'Landscape',
};
/** Labs whose charts go on the stage, under the network. */
const LAB_CHARTS = new Set<Lab>(['lesion', 'gradients', 'paths', 'signal', 'build']);

/** The chosen lab's controls (the side panel); their charts draw on the stage through StageDock. */
function LabPanels({
  lab,
  model,
  context,
}: {
  lab: Lab;
  model: OpenModel;
  context: ReturnType<typeof colorContext>;
}): ReactNode {
  const residual = model.analysis.topology.blocks.length > 0;
  switch (lab) {
    case 'explore':
      return (
        <>
          {context && <Inspector model={model} context={context} />}
          <SummaryPanel model={model} />
          <RunPanel model={model} />
          <Bookmarks />
          <BlockList model={model} />
        </>
      );
    case 'evaluate':
      return model.input ? (
        <>
          <RunPanel model={model} />
          <EvaluatePanel model={model} />
          <BlockList model={model} />
        </>
      ) : (
        <NoInput model={model} what="Evaluate needs" />
      );
    case 'lesion':
      // A model Skipscope cannot feed (a float16 input): its lesion readout waited for an evaluation forever.
      if (!model.input) return <NoInput model={model} what="Lesions are measured on images; they need" />;
      return takesLesions(model.analysis.model, model.analysis.topology) ? (
        <>
          <LesionPanel model={model} />
          <SweepPanel model={model} />
          <BlockList model={model} />
          <RunPanel model={model} />
        </>
      ) : (
        <p className="muted">This network {noLesionReason(model.analysis.model, model.analysis.topology)}.</p>
      );
    case 'gradients':
      return model.input ? (
        <>
          <RunPanel model={model} />
          <GradientPanel key={`gradient:${model.key}`} model={model} />
        </>
      ) : (
        <p className="muted">
          Gradients need a model with one image input{model.inputError ? `: ${model.inputError}` : '.'}
        </p>
      );
    case 'paths':
      return model.input && residual ? (
        <>
          <RunPanel model={model} />
          <PathsPanel key={`paths:${model.key}`} model={model} />
        </>
      ) : (
        <p className="muted">
          Paths need a residual network with one image input{model.inputError ? `: ${model.inputError}` : '.'}
        </p>
      );
    case 'signal':
      return model.input ? (
        <>
          <RunPanel model={model} />
          <SignalPanel key={`signal:${model.key}`} model={model} />
        </>
      ) : (
        <p className="muted">
          The forward signal needs a model with one image input{model.inputError ? `: ${model.inputError}` : '.'}
        </p>
      );
    case 'build':
      // The builder itself stays mounted above (its settings survive the model it opens).
      return <InitPanel />;
    default:
      return null;
  }
}

/** Why a lab that runs images has nothing to run: the model takes no image input Skipscope can feed. */
function NoInput({ model, what }: { model: OpenModel; what: string }) {
  return (
    <>
      <p className="muted" data-testid="no-input">
        {what} a model with one image input{model.inputError ? `: ${model.inputError}` : '.'}
      </p>
      <BlockList model={model} />
    </>
  );
}

/** The lab switcher: one tab per lab; ← / → move between them. */
function LabTabs() {
  const lab = useApp((s) => s.lab);
  const setLab = useApp((s) => s.setLab);
  const racing = useApp(raceRunning);
  const labs = Object.keys(LAB_NAMES) as Lab[];
  return (
    <div
      className="lab-tabs"
      role="tablist"
      aria-label="lab"
      onKeyDown={(e) => {
        // ← / → move between the tabs (and do not walk the blocks meanwhile).
        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
        e.preventDefault();
        e.stopPropagation();
        const k = labs.indexOf(lab);
        const next = labs[(k + (e.key === 'ArrowRight' ? 1 : labs.length - 1)) % labs.length]!;
        setLab(next);
        (e.currentTarget.querySelector(`[data-testid="tab-${next}"]`) as HTMLElement | null)?.focus();
      }}
    >
      {labs.map((id) => (
        <button
          key={id}
          type="button"
          role="tab"
          aria-selected={lab === id}
          tabIndex={lab === id ? 0 : -1}
          className={lab === id ? 'active' : ''}
          onClick={() => setLab(id)}
          data-testid={`tab-${id}`}
          data-workspace={labWorkspace(id)}
        >
          {LAB_NAMES[id]}
          {id === 'race' && racing && (
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

/** Collapses or opens a side panel ([ and ] do the same). */
function SideToggle({ side }: { side: 'left' | 'right' }) {
  const collapsed = useApp((s) => s.collapsed[side]);
  const toggle = useApp((s) => s.toggleSide);
  const arrow = (side === 'left') === collapsed ? '»' : '«';
  return (
    <button
      type="button"
      className="side-toggle"
      aria-expanded={!collapsed}
      aria-label={`${collapsed ? 'Open' : 'Collapse'} the ${side} panel (${side === 'left' ? '[' : ']'})`}
      title={`${collapsed ? 'Open' : 'Collapse'} the ${side} panel (${side === 'left' ? '[' : ']'})`}
      onClick={() => toggle(side)}
      data-testid={`side-${side}`}
    >
      {arrow}
    </button>
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

/** Whether a scene unit can be lesioned: any residual block, or a plain network's layer that keeps its input's shape. */
function removable(model: OpenModel, unit: number): boolean {
  const { model: m, topology: t } = model.analysis;
  return t.kind === 'residual' ? unit < t.blocks.length : plainUnits(m, t).some((u) => u.layer === unit);
}
