import type { ThreeEvent } from '@react-three/fiber';
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import type { BlockDetail as Detail, PlacedPart } from '../core/layout/layout';
import type { PartKind } from '../core/layout/parts';
import { SceneMaterial } from './materials';
import type { Theme } from './theme';

interface Props {
  detail: Detail;
  theme: Theme;
  /** Colour of the block in the current colour mode (the convolutions take it). */
  color: string;
  /** The block's branch is removed: its ops are drawn as ghosts. */
  dropped: boolean;
}

/**
 * An opened block: each op of its branch as its own shape — convolutions as boxes (height by channels, depth by
 * feature-map side), norms as thin slabs, activations as plates, pooling as frustums — the Add as a sphere where the
 * skip lands, and the shortcut's ops on the crest of the arc.
 */
export function BlockDetail({ detail, theme, color, dropped }: Props) {
  const geometries = useMemo(
    () => ({
      box: new THREE.BoxGeometry(1, 1, 1),
      frustum: new THREE.CylinderGeometry(0.35, 0.5, 1, 4, 1).rotateZ(Math.PI / 2).rotateX(Math.PI / 4),
      sphere: new THREE.SphereGeometry(1, 24, 16),
    }),
    [],
  );
  useEffect(
    () => () => {
      for (const g of Object.values(geometries)) g.dispose();
    },
    [geometries],
  );
  // The opened block is the selected one: a click on its ops (or its Add) keeps it selected — it neither drops it
  // (a click on the selected block's box would) nor falls through to the background (which would deselect).
  const keepSelection = (e: ThreeEvent<MouseEvent>) => e.stopPropagation();
  const colorOf: Record<PartKind, string> = {
    conv: color,
    norm: theme.stem,
    activation: theme.hovered,
    pool: theme.skipProjection,
    other: theme.ghost,
  };
  // Removing F ghosts the branch only: the shortcut and the op after the Add (y = ReLU(x)) stay.
  const part = (p: PlacedPart, key: string, shortcut: boolean, ghost = dropped && !shortcut) => (
    <mesh
      key={key}
      position={p.center}
      scale={p.size}
      geometry={p.kind === 'pool' ? geometries.frustum : geometries.box}
      onClick={keepSelection}
    >
      <SceneMaterial
        color={shortcut ? theme.skipProjection : colorOf[p.kind]}
        roughness={p.kind === 'activation' ? 0.3 : 0.55}
        emissive={p.kind === 'activation' ? colorOf.activation : '#000000'}
        emissiveIntensity={p.kind === 'activation' ? 0.35 : 0}
        transparent={ghost}
        opacity={ghost ? theme.ghostOpacity : 1}
        depthWrite={!ghost}
      />
    </mesh>
  );
  return (
    <group>
      {detail.branch.map((p, i) => part(p, `b${i}`, false))}
      {detail.shortcut.map((p, i) => part(p, `s${i}`, true))}
      {detail.after.map((p, i) => part(p, `a${i}`, false, false))}
      <mesh position={detail.add} scale={detail.addRadius} geometry={geometries.sphere} onClick={keepSelection}>
        <SceneMaterial color={theme.skip} emissive={theme.skip} emissiveIntensity={0.3} roughness={0.3} />
      </mesh>
    </group>
  );
}
