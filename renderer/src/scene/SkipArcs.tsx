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
}

/** Skip connections as tubes, merged into two draw calls: identity skips and shortcuts that transform x. */
export function SkipArcs({ layout, shortcuts, theme }: Props) {
  const [identity, transformed] = useMemo(() => {
    const groups: THREE.BufferGeometry[][] = [[], []];
    for (let i = 0; i < layout.arcs.length / (3 * ARC_POINTS); i++) {
      const points: THREE.Vector3[] = [];
      for (let k = 0; k < ARC_POINTS; k++) {
        const o = 3 * (i * ARC_POINTS + k);
        points.push(new THREE.Vector3(layout.arcs[o], layout.arcs[o + 1], layout.arcs[o + 2]));
      }
      const curve = new THREE.CatmullRomCurve3(points);
      const radius = shortcuts[i] === 'identity' ? theme.skipRadius : theme.skipRadius * 1.6;
      groups[shortcuts[i] === 'identity' ? 0 : 1]!.push(new THREE.TubeGeometry(curve, 48, radius, 8, false));
    }
    const merged = groups.map((g) => (g.length ? mergeGeometries(g) : null));
    for (const g of groups.flat()) g.dispose();
    return merged;
  }, [layout, shortcuts, theme.skipRadius]);
  // GPU buffers of the previous tubes are freed when new ones replace them or the scene goes away.
  useEffect(
    () => () => {
      identity?.dispose();
      transformed?.dispose();
    },
    [identity, transformed],
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
    </>
  );
}
