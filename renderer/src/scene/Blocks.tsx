import type { ThreeEvent } from '@react-three/fiber';
import { useThree } from '@react-three/fiber';
import { useLayoutEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';
import type { NetworkLayout } from '../core/layout/layout';
import type { Theme } from './theme';

interface Props {
  layout: NetworkLayout;
  theme: Theme;
  /** Blocks whose branch is removed: drawn as ghosts. */
  dropped: readonly number[];
  selected: number | null;
  hovered: number | null;
  onHover(index: number | null): void;
  onSelect(index: number | null): void;
  /** Called after the first frame that drew at least one block. */
  onDrawn?(): void;
}

/** All residual blocks as one instanced mesh; colours by stage, highlighted when hovered or selected. */
export function Blocks({ layout, theme, dropped, selected, hovered, onHover, onSelect, onDrawn }: Props) {
  const mesh = useRef<THREE.InstancedMesh>(null);
  const ghosts = useRef<THREE.InstancedMesh>(null);
  const invalidate = useThree((s) => s.invalidate);
  const geometry = useMemo(() => new THREE.BoxGeometry(1, 1, 1), []);
  const material = useMemo(() => new THREE.MeshStandardMaterial({ roughness: 0.55, metalness: 0.05 }), []);
  // A removed block stays in place as a see-through ghost: the skip arc above it is what carries the signal.
  const ghostMaterial = useMemo(
    () => new THREE.MeshStandardMaterial({ transparent: true, opacity: 0.22, depthWrite: false, roughness: 0.9 }),
    [],
  );
  const removed = useMemo(() => new Set(dropped), [dropped]);

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
      m.setMatrixAt(i, removed.has(i) ? hidden : matrix);
      g?.setMatrixAt(i, removed.has(i) ? matrix : hidden);
      const base = theme.stages[layout.blockStages[i]! % theme.stages.length]!;
      color.set(i === selected ? theme.selected : i === hovered ? theme.hovered : removed.has(i) ? theme.ghost : base);
      m.setColorAt(i, color);
      g?.setColorAt(i, color);
    }
    for (const x of [m, g]) {
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
  }, [layout, theme, removed, selected, hovered, invalidate, onDrawn]);

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
      <instancedMesh ref={ghosts} args={[geometry, ghostMaterial, Math.max(1, layout.blockCount)]} {...handlers} />
    </>
  );
}
