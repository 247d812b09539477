import type { ThreeEvent } from '@react-three/fiber';
import { useThree } from '@react-three/fiber';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';
import type { NetworkLayout } from '../core/layout/layout';
import { sceneMaterial } from './materials';
import { baseColor, rampFor, type Theme } from './theme';

interface Props {
  layout: NetworkLayout;
  theme: Theme;
  /** Blocks whose branch is removed: drawn as ghosts. */
  dropped: readonly number[];
  selected: number | null;
  hovered: number | null;
  onHover(index: number | null): void;
  onSelect(index: number | null): void;
  /** Per-block colour of the current colour mode (null: no value, drawn in the ghost colour). */
  colors: readonly (string | null)[];
  /** Per-block bar heights 0…1 (measured colour modes), or null for no bars. */
  bars?: readonly (number | null)[] | null;
  /** The opened block: its ops are drawn instead of its box. */
  opened?: number | null;
  /** A lit path: true where it goes through the block's branch (lit), false where it takes the skip (dimmed). */
  path?: readonly boolean[] | null;
  /** Called after the first frame that drew at least one block. */
  onDrawn?(): void;
}

/** All residual blocks as one instanced mesh; colours by stage, highlighted when hovered or selected. */
export function Blocks({
  layout,
  theme,
  dropped,
  selected,
  hovered,
  onHover,
  onSelect,
  onDrawn,
  colors,
  bars: barValues = null,
  opened = null,
  path = null,
}: Props) {
  const mesh = useRef<THREE.InstancedMesh>(null);
  const bars = useRef<THREE.InstancedMesh>(null);
  const barMaterial = useMemo(() => sceneMaterial({ roughness: 0.4, emissiveIntensity: 0.3 }), []);
  const ghosts = useRef<THREE.InstancedMesh>(null);
  const invalidate = useThree((s) => s.invalidate);
  const geometry = useMemo(() => new THREE.BoxGeometry(1, 1, 1), []);
  const material = useMemo(() => sceneMaterial({ roughness: 0.55, metalness: 0.05 }), []);
  // A removed block stays in place as a see-through ghost: the skip arc above it is what carries the signal.
  const ghostMaterial = useMemo(
    () => sceneMaterial({ transparent: true, opacity: theme.ghostOpacity, depthWrite: false, roughness: 0.9 }),
    [theme.ghostOpacity],
  );
  const removed = useMemo(() => new Set(dropped), [dropped]);
  // GPU resources go with the scene.
  useEffect(
    () => () => {
      for (const x of [geometry, material, ghostMaterial, barMaterial]) x.dispose();
    },
    [geometry, material, ghostMaterial, barMaterial],
  );

  useLayoutEffect(() => {
    const m = mesh.current;
    if (!m) return;
    const g = ghosts.current;
    const matrix = new THREE.Matrix4();
    const hidden = new THREE.Matrix4().makeScale(0, 0, 0);
    const color = new THREE.Color();
    for (let i = 0; i < layout.blockCount; i++) {
      const c = layout.blockCenters;
      const s = layout.blockSizes;
      matrix.makeScale(s[3 * i]!, s[3 * i + 1]!, s[3 * i + 2]!);
      matrix.setPosition(c[3 * i]!, c[3 * i + 1]!, c[3 * i + 2]!);
      // Instance i exists in both meshes, shown in one: solid when kept, ghost when removed (ids stay block indices).
      // The opened block is drawn as its ops (BlockDetail); its instance stays, invisible, for ids.
      const shown = i === opened ? hidden : matrix;
      m.setMatrixAt(i, removed.has(i) ? hidden : shown);
      g?.setMatrixAt(i, removed.has(i) ? shown : hidden);
      const base = baseColor(i, colors, path, theme);
      color.set(i === selected ? theme.selected : i === hovered ? theme.hovered : removed.has(i) ? theme.ghost : base);
      m.setColorAt(i, color);
      g?.setColorAt(i, color);
      // The bar: height by the measured value, standing on the block's top face.
      const b = bars.current;
      if (b) {
        const t = barValues?.[i];
        if (t !== null && t !== undefined && i !== opened) {
          const h = 0.08 + 1.6 * t;
          matrix.makeScale(Math.max(0.3 * s[3 * i]!, 0.06), h, 0.3 * s[3 * i + 2]!);
          matrix.setPosition(c[3 * i]!, c[3 * i + 1]! + s[3 * i + 1]! / 2 + h / 2 + 0.04, c[3 * i + 2]!);
          b.setMatrixAt(i, matrix);
          b.setColorAt(i, color.set(rampFor(theme).color(t)));
        } else b.setMatrixAt(i, hidden);
      }
    }
    for (const x of [m, g, bars.current]) {
      if (!x) continue;
      x.count = layout.blockCount;
      x.instanceMatrix.needsUpdate = true;
      if (x.instanceColor) x.instanceColor.needsUpdate = true;
      x.computeBoundingSphere();
    }
    // three calls onAfterRender only when the mesh was actually drawn in a render pass.
    m.onAfterRender = () => {
      if (m.count > 0) {
        m.onAfterRender = () => {};
        onDrawn?.();
      }
    };
    invalidate();
  }, [layout, theme, removed, selected, hovered, invalidate, onDrawn, colors, barValues, opened, path]);

  const handlers = {
    onPointerMove: (e: ThreeEvent<PointerEvent>) => {
      e.stopPropagation();
      if (e.instanceId !== undefined && e.instanceId !== hovered) onHover(e.instanceId);
    },
    onPointerOut: () => onHover(null),
    onClick: (e: ThreeEvent<MouseEvent>) => {
      e.stopPropagation();
      if (e.instanceId !== undefined) onSelect(e.instanceId);
    },
  };
  return (
    <>
      <instancedMesh ref={mesh} args={[geometry, material, Math.max(1, layout.blockCount)]} {...handlers} />
      {/* Drawn (and picked) only while some block is removed: 600 invisible instances still cost every frame. */}
      <instancedMesh
        ref={ghosts}
        args={[geometry, ghostMaterial, Math.max(1, layout.blockCount)]}
        visible={removed.size > 0}
        {...handlers}
      />
      <instancedMesh
        ref={bars}
        args={[geometry, barMaterial, Math.max(1, layout.blockCount)]}
        visible={!!barValues}
        {...handlers}
      />
    </>
  );
}
