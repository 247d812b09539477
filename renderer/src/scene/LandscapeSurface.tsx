import { Canvas, type ThreeEvent, useThree } from '@react-three/fiber';
import { forwardRef, useEffect, useImperativeHandle, useMemo, useRef } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { contourLevels, contourSegments, drawableIndices, gridPosition, subLattice } from '../core/layout/surface';
import { formatValue } from '../core/text';
import type { Theme } from './theme';

export interface SurfaceData {
  alphas: readonly number[];
  betas: readonly number[];
  /** loss[i][j] at (alphas[i], betas[j]); NaN where not computed yet. */
  loss: readonly (readonly number[])[];
}

export interface SurfaceScale {
  /** The loss drawn at the floor and at full height (higher losses are clipped to the top). */
  lo: number;
  hi: number;
  /** Heights and contour levels in log(loss). */
  log: boolean;
}

export interface SurfaceHandle {
  /**
   * The surface as a PNG: the canvas as on screen (its drawing buffer is kept), with `caption` lines (settings,
   * scale) written under it, so the file says what it shows.
   */
  png(caption?: readonly string[]): Promise<Uint8Array>;
}

const HEIGHT = 1.1;
const CONTOURS = 14;

/** Loss → 0…1 of the height under a scale. */
export function heightOf(loss: number, scale: SurfaceScale): number {
  if (!Number.isFinite(loss)) return 1;
  const f = scale.log ? (v: number) => Math.log(Math.max(v, 1e-12)) : (v: number) => v;
  const t = (f(Math.min(Math.max(loss, scale.lo), scale.hi)) - f(scale.lo)) / (f(scale.hi) - f(scale.lo) || 1);
  return Math.max(0, Math.min(1, t));
}

/** The ramp's stops, low to high (viridis). */
const RAMP = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];
/** On the projector's black, viridis from its blue up: its dark purple end (the lowest loss) was 1.4:1 there. */
const PROJECTOR_RAMP = ['#3e64b8', '#21918c', '#5ec962', '#fde725'];

/** The ramp a theme draws surfaces with. */
export function rampStops(theme: Pick<Theme, 'name'>): readonly string[] {
  return theme.name === 'projector' ? PROJECTOR_RAMP : RAMP;
}

/** A perceptual ramp (viridis) for heights 0…1. */
export function rampColor(t: number, stops: readonly string[] = RAMP): THREE.Color {
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(x));
  return new THREE.Color(stops[k]).lerp(new THREE.Color(stops[k + 1]), x - k);
}

/**
 * The loss surface over the (α, β) plane as a 3D mesh you can orbit: height and colour by loss, contour lines on
 * the surface and projected on the floor, the model itself (α = β = 0) marked. While a study fills the grid coarse
 * to fine, the finest complete sub-lattice is drawn.
 */
export const LandscapeSurface = forwardRef<
  SurfaceHandle,
  {
    data: SurfaceData;
    scale: SurfaceScale;
    theme: Theme;
    onHover?(point: { i: number; j: number } | null): void;
    testId?: string;
    /** Drawn over the view's top-left corner (the hovered point's readout): in sight while presenting. */
    overlay?: React.ReactNode;
  }
>(function LandscapeSurface({ data, scale, theme, onHover, testId, overlay }, ref) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useImperativeHandle(ref, () => ({
    png: async (caption = []) => {
      const c = canvas.current;
      if (!c) throw new Error('the surface is not drawn');
      const scaleUp = c.width / Math.max(1, c.clientWidth);
      const line = Math.round(16 * scaleUp);
      const out = document.createElement('canvas');
      out.width = c.width;
      out.height = c.height + (caption.length ? Math.round(caption.length * line + 10 * scaleUp) : 0);
      const g = out.getContext('2d');
      if (!g) throw new Error('the browser has no 2D canvas to write the caption');
      g.fillStyle = theme.background;
      g.fillRect(0, 0, out.width, out.height);
      g.drawImage(c, 0, 0);
      g.fillStyle = theme.text;
      g.font = `${Math.round(12 * scaleUp)}px system-ui, sans-serif`;
      for (const [k, text] of caption.entries()) g.fillText(text, 8 * scaleUp, c.height + (k + 1) * line);
      const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
      if (!blob) throw new Error('the browser could not encode the surface');
      return new Uint8Array(await blob.arrayBuffer());
    },
  }));
  const indices = drawableIndices(data.loss);
  const lattice = indices && indices.length >= 2 ? indices : null;
  return (
    <div className="surface" data-testid={testId} data-lattice={lattice?.length ?? 0}>
      <Canvas
        ref={canvas}
        frameloop="demand"
        camera={{ fov: 40, position: [2.3, 1.9, 2.3] }}
        gl={{ antialias: true, preserveDrawingBuffer: true }}
      >
        <color attach="background" args={[theme.background]} />
        <ambientLight intensity={0.7} />
        <directionalLight position={[3, 6, 2]} intensity={1.2} />
        <Orbit />
        {lattice && <Surface data={data} indices={lattice} scale={scale} theme={theme} onHover={onHover} />}
        <Floor theme={theme} />
      </Canvas>
      {overlay !== undefined && <div className="surface-overlay">{overlay}</div>}
      <ColorBar scale={scale} stops={rampStops(theme)} testId={testId && `${testId}-scale`} />
      <div className="surface-axes muted small">
        α {span(data.alphas)} along direction 1 · β {span(data.betas)} along direction 2 (filter-normalised) · height
        and colour: {scale.log ? 'log ' : ''}loss
      </div>
    </div>
  );
});

/** "from −0.5 to 0.5": a grid axis's extent. */
function span(values: readonly number[]): string {
  if (values.length === 0) return '';
  const f = (v: number) => (v < 0 ? `−${Math.abs(v)}` : String(v));
  return `from ${f(Math.min(...values))} to ${f(Math.max(...values))}`;
}

/**
 * The colour and height scale: the ramp with the loss at its top (the clip: higher losses are drawn there), middle
 * and bottom, in the scale's own spacing (log or linear). A surface without it showed a shape with no numbers.
 */
function ColorBar({
  scale,
  stops,
  testId,
}: {
  scale: SurfaceScale;
  stops: readonly string[];
  testId?: string | undefined;
}) {
  const at = (t: number) =>
    scale.log
      ? Math.exp(Math.log(scale.lo) + t * (Math.log(scale.hi) - Math.log(scale.lo)))
      : scale.lo + t * (scale.hi - scale.lo);
  const label = (v: number) => formatValue(v, 1);
  return (
    <div className="surface-scale small" data-testid={testId} data-lo={scale.lo} data-hi={scale.hi}>
      <span className="surface-scale-title">loss</span>
      <div className="surface-scale-body">
        <div className="surface-scale-ramp" style={{ background: `linear-gradient(to top, ${stops.join(', ')})` }} />
        <div className="surface-scale-ticks">
          <span>≥ {label(at(1))}</span>
          <span>{label(at(0.5))}</span>
          <span>{label(at(0))}</span>
        </div>
      </div>
    </div>
  );
}

function Orbit() {
  const { camera, gl, invalidate } = useThree();
  useEffect(() => {
    const controls = new OrbitControls(camera, gl.domElement);
    controls.target.set(0, HEIGHT * 0.35, 0);
    controls.enableDamping = false;
    controls.update();
    const onChange = () => invalidate();
    controls.addEventListener('change', onChange);
    return () => {
      controls.removeEventListener('change', onChange);
      controls.dispose();
    };
  }, [camera, gl, invalidate]);
  return null;
}

function Floor({ theme }: { theme: Theme }) {
  return (
    <mesh rotation={[-Math.PI / 2, 0, 0]} position={[0, -0.002, 0]}>
      <planeGeometry args={[2, 2]} />
      <meshBasicMaterial color={theme.floor} />
    </mesh>
  );
}

/** Lattice position (i, j) → world: α along x, β along z, both over [−1, 1]; the height up. */
function toWorld(place: (u: number) => number, i: number, j: number, h: number): [number, number, number] {
  return [place(i), h * HEIGHT, place(j)];
}

function Surface({
  data,
  indices,
  scale,
  theme,
  onHover,
}: {
  data: SurfaceData;
  /** The grid rows and columns drawn (all of them once the study is done). */
  indices: readonly number[];
  scale: SurfaceScale;
  theme: Theme;
  onHover?: ((point: { i: number; j: number } | null) => void) | undefined;
}) {
  const invalidate = useThree((s) => s.invalidate);
  const n = data.alphas.length;
  const key = indices.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the indices' values
  const lattice = useMemo(() => subLattice(data.loss, indices), [data.loss, key]);
  const m = lattice.length;
  // Lattice position → grid index → world x or z in [−1, 1] (the lattice may be uneven while the grid fills in).
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the indices' values
  const place = useMemo(() => {
    const span = Math.max(1, n - 1);
    return (u: number) => -1 + (2 * gridPosition(indices, u)) / span;
  }, [key, n]);
  const { lo, hi, log } = scale;
  const stops = rampStops(theme);
  const geometry = useMemo(() => {
    const g = new THREE.BufferGeometry();
    const positions = new Float32Array(m * m * 3);
    const colors = new Float32Array(m * m * 3);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const h = heightOf(lattice[i]![j]!, { lo, hi, log });
        positions.set(toWorld(place, i, j, h), (i * m + j) * 3);
        const c = rampColor(h, stops);
        colors.set([c.r, c.g, c.b], (i * m + j) * 3);
      }
    const index: number[] = [];
    for (let i = 0; i + 1 < m; i++)
      for (let j = 0; j + 1 < m; j++) {
        const a = i * m + j;
        index.push(a, a + 1, a + m, a + 1, a + m + 1, a + m);
      }
    g.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    g.setAttribute('color', new THREE.BufferAttribute(colors, 3));
    g.setIndex(index);
    g.computeVertexNormals();
    return g;
  }, [lattice, m, place, lo, hi, log, stops]);
  const contours = useMemo(() => {
    const field = log ? lattice.map((r) => r.map((v) => Math.log(Math.max(v, 1e-12)))) : lattice;
    const levels = log ? contourLevels(Math.log(lo), Math.log(hi), CONTOURS) : contourLevels(lo, hi, CONTOURS);
    const surface: number[] = [];
    const floor: number[] = [];
    for (const level of levels) {
      const h = heightOf(log ? Math.exp(level) : level, { lo, hi, log });
      for (const [i0, j0, i1, j1] of contourSegments(field, level)) {
        surface.push(...toWorld(place, i0!, j0!, h + 0.004), ...toWorld(place, i1!, j1!, h + 0.004));
        floor.push(...toWorld(place, i0!, j0!, 0.001), ...toWorld(place, i1!, j1!, 0.001));
      }
    }
    const make = (values: number[]) => {
      const g = new THREE.BufferGeometry();
      g.setAttribute('position', new THREE.BufferAttribute(new Float32Array(values), 3));
      return g;
    };
    return { surface: make(surface), floor: make(floor) };
  }, [lattice, place, lo, hi, log]);
  useEffect(() => {
    invalidate();
    return () => {
      geometry.dispose();
      contours.surface.dispose();
      contours.floor.dispose();
    };
  }, [geometry, contours, invalidate]);
  // The model itself: α = β = 0 (the middle of the grid when it has a middle point).
  const centre = data.loss[(n - 1) / 2]?.[(n - 1) / 2];
  const centreHeight = centre !== undefined ? heightOf(centre, scale) : null;
  const hover = (e: ThreeEvent<PointerEvent>) => {
    if (!onHover || !e.point) return;
    const i = Math.round(((e.point.x + 1) / 2) * (n - 1));
    const j = Math.round(((e.point.z + 1) / 2) * (n - 1));
    onHover({ i: Math.max(0, Math.min(n - 1, i)), j: Math.max(0, Math.min(n - 1, j)) });
  };
  return (
    <group>
      <mesh geometry={geometry} onPointerMove={hover} onPointerOut={() => onHover?.(null)}>
        <meshStandardMaterial vertexColors side={THREE.DoubleSide} roughness={0.75} metalness={0} />
      </mesh>
      <lineSegments geometry={contours.surface}>
        <lineBasicMaterial color={theme.name === 'light' ? '#222' : '#f4f4f4'} transparent opacity={0.55} />
      </lineSegments>
      <lineSegments geometry={contours.floor}>
        <lineBasicMaterial color={theme.text} transparent opacity={0.45} />
      </lineSegments>
      {centreHeight !== null && (
        <mesh position={[0, centreHeight * HEIGHT + 0.03, 0]}>
          <sphereGeometry args={[0.035, 16, 12]} />
          <meshBasicMaterial color={theme.selected} />
        </mesh>
      )}
    </group>
  );
}
