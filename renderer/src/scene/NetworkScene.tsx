import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { NetworkLayout } from '../core/layout/layout';
import type { ShortcutKind } from '../core/topology/types';
import { BlockDetail } from './BlockDetail';
import { Blocks } from './Blocks';
import { sceneBridge } from './bridge';
import { Capture } from './Capture';
import { AdaptiveResolution, type CameraMove, Controls } from './Controls';
import { renderQuality } from './glProbe';
import { type LabelAnchor, LabelTracker } from './Labels';
import { SceneMaterial } from './materials';
import { PathPulse } from './PathPulse';
import { SkipArcs } from './SkipArcs';
import { baseColor, type Theme } from './theme';

interface Props {
  layout: NetworkLayout;
  /** The overview's layout (no block opened): the camera frames it when it changes (a new model) or the view resizes. */
  frame: NetworkLayout;
  shortcuts: ShortcutKind[];
  theme: Theme;
  dropped: readonly number[];
  cutSkips: readonly number[];
  selected: number | null;
  hovered: number | null;
  onHover(index: number | null): void;
  onSelect(index: number | null): void;
  /** Per-block colours of the colour mode (null: no value). */
  colors: readonly (string | null)[];
  /** Per-block bar heights 0…1, or null. */
  bars?: readonly (number | null)[] | null;
  /** A lit path through the network (true: through the block's branch). */
  path?: readonly boolean[] | null;
  /** Texts of the stem, each stage and the head. */
  names: { stem: string; stages: string[]; head: string; unit: string };
  cameraMove?: CameraMove | null;
  /** Presentation: a laser-pointer dot follows the pointer over the scene. */
  laser?: boolean;
  colorMode?: string;
  /** A number shown next to a block (the current lesion's accuracy change), or null. */
  note?: { block: number; text: string; exact: boolean } | null;
}

/** The 3D view: stem, instanced blocks, skip arcs, stage plates, labels. Renders only when something changes. */
export function NetworkScene({
  layout,
  frame,
  shortcuts,
  theme,
  dropped,
  cutSkips,
  selected,
  hovered,
  onHover,
  onSelect,
  colors,
  bars = null,
  path = null,
  names,
  cameraMove = null,
  laser = false,
  colorMode = 'stage',
  note = null,
}: Props) {
  // Which model a frame has really drawn the blocks of (not merely that the canvas exists): tests and the bench wait
  // on it. The scene stays mounted from model to model, so it is the model's overview layout, not a flag.
  const [drawnFrame, setDrawnFrame] = useState<NetworkLayout | null>(null);
  const frameRef = useRef(frame);
  frameRef.current = frame;
  const markDrawn = useCallback(() => setDrawnFrame(frameRef.current), []);
  const drawn = drawnFrame === frame;
  const labelRoot = useRef<HTMLDivElement>(null);
  const dot = useRef<HTMLDivElement>(null);
  const anchors = useMemo(() => anchorsOf(layout, names, selected, note), [layout, names, selected, note]);
  const detail = layout.detail;
  const aa = useMemo(renderQuality, []);
  return (
    <div
      className={`scene${laser ? ' laser' : ''}`}
      data-testid="scene"
      data-drawn={drawn ? 'true' : 'false'}
      data-render={aa.lambert ? 'light' : 'full'}
      data-blocks={layout.blockCount}
      data-overlay={bars ? 'on' : 'off'}
      data-color-mode={colorMode}
      data-colors={JSON.stringify(colors)}
      data-hovered={hovered ?? ''}
      data-opened={detail ? detail.block : ''}
      data-path={path ? path.map((p) => (p ? 1 : 0)).join('') : ''}
      onPointerMove={(e) => {
        const d = dot.current;
        if (!laser || !d) return;
        const r = e.currentTarget.getBoundingClientRect();
        d.style.transform = `translate(${e.clientX - r.left}px, ${e.clientY - r.top}px)`;
        d.dataset.shown = 'yes';
      }}
      onPointerLeave={() => {
        if (dot.current) delete dot.current.dataset.shown;
      }}
    >
      <Canvas
        frameloop="demand"
        // The still view's pixel ratio: the device's (1–2, r3f's default range) times the quality's supersampling;
        // while the view moves, half the device's. Given here, so that r3f's own set-up on every render keeps it.
        dpr={Math.min(Math.max(globalThis.devicePixelRatio || 1, 1), 2) * aa.still}
        performance={{ min: 0.5 / aa.still, debounce: 250 }}
        camera={{ fov: 40 }}
        gl={{ antialias: aa.msaa, preserveDrawingBuffer: true }}
        onCreated={(state) => state.gl.setClearColor(theme.background)}
        onPointerMissed={() => onSelect(null)}
      >
        <color attach="background" args={[theme.background]} />
        <ambientLight intensity={0.55} />
        <directionalLight position={[5, 12, 8]} intensity={1.4} />
        <directionalLight position={[-6, 4, -5]} intensity={0.35} />
        <Controls frame={frame} layout={layout} move={cameraMove} />
        <AdaptiveResolution />
        <Box values={layout.stem} color={theme.stem} />
        <Box values={layout.head} color={theme.head} />
        <StagePlates layout={layout} theme={theme} />
        <Blocks
          layout={layout}
          theme={theme}
          dropped={dropped}
          selected={selected}
          hovered={hovered}
          onHover={onHover}
          onSelect={onSelect}
          onDrawn={markDrawn}
          colors={colors}
          bars={bars}
          opened={detail?.block ?? null}
          path={path}
        />
        {detail && (
          <BlockDetail
            detail={detail}
            theme={theme}
            color={baseColor(detail.block, colors, path, theme)}
            dropped={dropped.includes(detail.block)}
          />
        )}
        <SkipArcs
          layout={layout}
          shortcuts={shortcuts}
          theme={theme}
          dropped={dropped}
          cutSkips={cutSkips}
          path={path}
          opened={detail?.block ?? null}
        />
        {path && <PathPulse layout={layout} path={path} color={theme.glow} />}
        <LabelTracker anchors={anchors} container={labelRoot} />
        <Capture labels={labelRoot} frame={frame} anchors={anchors} background={theme.background} />
        <FrameCounter />
      </Canvas>
      <div className="scene-labels" ref={labelRoot} aria-hidden="true">
        {anchors.map((a, i) => (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: anchors are rebuilt as a whole; position is identity
            key={i}
            className={`scene-label ${a.kind}`}
            style={{ display: 'none' }}
            data-anchor={a.position.join(',')}
            data-kind={a.kind}
            data-testid={a.kind === 'note' ? 'scene-note' : undefined}
            data-exact={a.kind === 'note' ? String(note?.exact ?? false) : undefined}
          >
            {a.text}
          </span>
        ))}
      </div>
      {laser && <div className="laser-dot" ref={dot} />}
    </div>
  );
}

/** Labels: the stem, every stage (name and shape), the head, the selected block, and an opened block's ops. */
function anchorsOf(
  layout: NetworkLayout,
  names: Props['names'],
  selected: number | null,
  note: Props['note'],
): LabelAnchor[] {
  const out: LabelAnchor[] = [];
  const s = layout.stem;
  out.push({ text: names.stem, position: [s[0]!, -0.35, s[5]! / 2 + 0.2], kind: 'end' });
  for (let i = 0; 2 * i < layout.stageBounds.length; i++) {
    const x = (layout.stageBounds[2 * i]! + layout.stageBounds[2 * i + 1]!) / 2;
    out.push({ text: names.stages[i] ?? `stage ${i + 1}`, position: [x, -0.35, 1.45], kind: 'stage' });
  }
  const h = layout.head;
  out.push({ text: names.head, position: [h[0]!, -0.35, h[5]! / 2 + 0.2], kind: 'end' });
  const detail = layout.detail;
  if (selected !== null && selected < layout.blockCount && detail?.block !== selected) {
    const c = layout.blockCenters;
    const z = layout.blockSizes;
    out.push({
      text: `${names.unit} ${selected + 1}`,
      position: [c[3 * selected]!, c[3 * selected + 1]! + z[3 * selected + 1]! / 2 + 0.35, c[3 * selected + 2]!],
      kind: 'block',
    });
  }
  if (detail) {
    // Each op's label sits just above its op's front edge (placeLabels moves it up or down if it would overlap).
    for (const p of [...detail.branch, ...detail.after])
      out.push({
        text: p.label,
        position: [p.center[0], p.center[1] + p.size[1] / 2 + 0.25, p.center[2] + p.size[2] / 2],
        kind: 'part',
      });
    out.push({ text: '+', position: [detail.add[0], detail.add[1], detail.addRadius + 0.05], kind: 'part' });
    for (const p of detail.shortcut)
      out.push({ text: p.label, position: [p.center[0], p.center[1] + 0.4, 0], kind: 'part' });
    out.push({
      text: `${names.unit} ${detail.block + 1}`,
      position: [(detail.add[0] + (detail.branch[0]?.center[0] ?? detail.add[0])) / 2, -1.25, 0.8],
      kind: 'block',
    });
  }
  // The lesion's number goes last: adding or removing it never shifts the other labels' places in the list.
  if (note && note.block < layout.blockCount) {
    const c = layout.blockCenters;
    const z = layout.blockSizes;
    const i = note.block;
    out.push({
      text: note.text,
      position: [c[3 * i]!, z[3 * i + 1]! + 1.35, c[3 * i + 2]!],
      kind: 'note',
    });
  }
  return out;
}

function FrameCounter() {
  const gl = useThree((s) => s.gl);
  useEffect(() => {
    // What the last frame cost the GPU: the benchmark and the tests read it (draw calls must not grow with depth).
    sceneBridge.info = () => ({
      calls: gl.info.render.calls,
      triangles: gl.info.render.triangles,
    });
    return () => {
      sceneBridge.info = null;
    };
  }, [gl]);
  useFrame(() => {
    sceneBridge.frames++;
  });
  return null;
}

function Box({ values, color }: { values: Float32Array; color: string }) {
  return (
    <mesh position={[values[0]!, values[1]!, values[2]!]} scale={[values[3]!, values[4]!, values[5]!]}>
      <boxGeometry />
      <SceneMaterial color={color} roughness={0.6} />
    </mesh>
  );
}

/** A floor plate under each stage makes stage boundaries visible from any angle. */
function StagePlates({ layout, theme }: { layout: NetworkLayout; theme: Theme }) {
  const plates = [];
  for (let s = 0; 2 * s < layout.stageBounds.length; s++) {
    const x0 = layout.stageBounds[2 * s]!;
    const x1 = layout.stageBounds[2 * s + 1]!;
    const color = theme.stages[s % theme.stages.length]!;
    plates.push(
      <mesh key={s} position={[(x0 + x1) / 2, -0.03, 0]} scale={[x1 - x0, 0.05, 2.6]}>
        <boxGeometry />
        <SceneMaterial color={color} transparent opacity={0.28} />
      </mesh>,
    );
  }
  return <>{plates}</>;
}
