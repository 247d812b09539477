import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';
import { ARC_POINTS, type NetworkLayout } from '../core/layout/layout';
import type { ShortcutKind } from '../core/topology/types';
import type { Theme } from './theme';

interface Props {
  layout: NetworkLayout;
  shortcuts: ShortcutKind[];
  theme: Theme;
  /** Blocks whose branch is removed: their skip glows, the only path left. */
  dropped: readonly number[];
  /** Blocks whose skip is cut: drawn faint. */
  cutSkips: readonly number[];
  /** A lit path: its skips (false) glow, the skips it leaves for a branch (true) go faint. */
  path?: readonly boolean[] | null;
}

/**
 * Skip connections as tubes, merged into one draw call per look: identity skips, shortcuts that transform x,
 * glowing skips of removed blocks, and faint cut skips.
 */
export function SkipArcs({ layout, shortcuts, theme, dropped, cutSkips, path = null }: Props) {
  const [identity, transformed, glowing, cut] = useMemo(() => {
    const groups: THREE.BufferGeometry[][] = [[], [], [], []];
    const removed = new Set(dropped);
    const severed = new Set(cutSkips);
    for (let i = 0; i < layout.arcs.length / (3 * ARC_POINTS); i++) {
      const points: THREE.Vector3[] = [];
      for (let k = 0; k < ARC_POINTS; k++) {
        const o = 3 * (i * ARC_POINTS + k);
        points.push(new THREE.Vector3(layout.arcs[o], layout.arcs[o + 1], layout.arcs[o + 2]));
      }
      const curve = new THREE.CatmullRomCurve3(points);
      const group = path
        ? path[i]
          ? 3
          : 2
        : severed.has(i)
          ? 3
          : removed.has(i)
            ? 2
            : shortcuts[i] === 'identity'
              ? 0
              : 1;
      const radius =
        (shortcuts[i] === 'identity' ? 1 : 1.6) * theme.skipRadius * (group === 2 ? 1.8 : group === 3 ? 0.5 : 1);
      groups[group]!.push(new THREE.TubeGeometry(curve, 48, radius, 8, false));
    }
    const merged = groups.map((g) => (g.length ? mergeGeometries(g) : null));
    for (const g of groups.flat()) g.dispose();
    return merged;
  }, [layout, shortcuts, theme.skipRadius, dropped, cutSkips, path]);
  // GPU buffers of the previous tubes are freed when new ones replace them or the scene goes away.
  useEffect(
    () => () => {
      for (const g of [identity, transformed, glowing, cut]) g?.dispose();
    },
    [identity, transformed, glowing, cut],
  );

  return (
    <>
      {identity && (
        <mesh geometry={identity}>
          <meshStandardMaterial color={theme.skip} emissive={theme.skip} emissiveIntensity={0.25} />
        </mesh>
      )}
      {transformed && (
        <mesh geometry={transformed}>
          <meshStandardMaterial color={theme.skipProjection} emissive={theme.skipProjection} emissiveIntensity={0.25} />
        </mesh>
      )}
      {glowing && (
        <mesh geometry={glowing}>
          <meshStandardMaterial color={theme.glow} emissive={theme.glow} emissiveIntensity={0.9} />
        </mesh>
      )}
      {cut && (
        <mesh geometry={cut}>
          <meshStandardMaterial color={theme.ghost} transparent opacity={0.5} />
        </mesh>
      )}
    </>
  );
}
