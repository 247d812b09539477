import type { ThreeEvent } from '@react-three/fiber';
import { useThree } from '@react-three/fiber';
import { useLayoutEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';
import type { NetworkLayout } from '../core/layout/layout';
import type { Theme } from './theme';

interface Props {
  layout: NetworkLayout;
  theme: Theme;
  selected: number | null;
  hovered: number | null;
  onHover(index: number | null): void;
  onSelect(index: number | null): void;
  /** Called after the first frame that drew at least one block. */
  onDrawn?(): void;
}

/** All residual blocks as one instanced mesh; colours by stage, highlighted when hovered or selected. */
export function Blocks({ layout, theme, selected, hovered, onHover, onSelect, onDrawn }: Props) {
  const mesh = useRef<THREE.InstancedMesh>(null);
  const invalidate = useThree((s) => s.invalidate);
  const geometry = useMemo(() => new THREE.BoxGeometry(1, 1, 1), []);
  const material = useMemo(() => new THREE.MeshStandardMaterial({ roughness: 0.55, metalness: 0.05 }), []);

  useLayoutEffect(() => {
    const m = mesh.current;
    if (!m) return;
    const matrix = new THREE.Matrix4();
    const color = new THREE.Color();
    for (let i = 0; i < layout.blockCount; i++) {
      const c = layout.blockCenters;
      const s = layout.blockSizes;
      matrix.makeScale(s[3 * i]!, s[3 * i + 1]!, s[3 * i + 2]!);
      matrix.setPosition(c[3 * i]!, c[3 * i + 1]!, c[3 * i + 2]!);
      m.setMatrixAt(i, matrix);
      const base = theme.stages[layout.blockStages[i]! % theme.stages.length]!;
      color.set(i === selected ? theme.selected : i === hovered ? theme.hovered : base);
      m.setColorAt(i, color);
    }
    m.count = layout.blockCount;
    m.instanceMatrix.needsUpdate = true;
    if (m.instanceColor) m.instanceColor.needsUpdate = true;
    m.computeBoundingSphere();
    // three calls onAfterRender only when the mesh was actually drawn in a render pass.
    m.onAfterRender = () => {
      if (m.count > 0) {
        m.onAfterRender = () => {};
        onDrawn?.();
      }
    };
    invalidate();
  }, [layout, theme, selected, hovered, invalidate, onDrawn]);

  return (
    <instancedMesh
      ref={mesh}
      args={[geometry, material, Math.max(1, layout.blockCount)]}
      onPointerMove={(e: ThreeEvent<PointerEvent>) => {
        e.stopPropagation();
        if (e.instanceId !== undefined && e.instanceId !== hovered) onHover(e.instanceId);
      }}
      onPointerOut={() => onHover(null)}
      onClick={(e: ThreeEvent<MouseEvent>) => {
        e.stopPropagation();
        if (e.instanceId !== undefined) onSelect(e.instanceId === selected ? null : e.instanceId);
      }}
    />
  );
}
