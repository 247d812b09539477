import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { mergeGeometries } from 'three/examples/jsm/utils/BufferGeometryUtils.js';
import { ARC_POINTS, type NetworkLayout } from '../core/layout/layout';
import type { ShortcutKind } from '../core/topology/types';
import { SceneMaterial } from './materials';
import type { Theme } from './theme';
import { mergePlaced, type PlacedTube, placedTube } from './tubes';

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
  /** The opened block: its shortcut's ops are drawn by BlockDetail, so no marker. */
  opened?: number | null;
}

/** Option-A shortcuts (zero-padded channels, subsampled) are drawn dashed: x passes, but only in part. */
function dashed(curve: THREE.Curve<THREE.Vector3>, radius: number): THREE.BufferGeometry {
  const dashes = 5;
  const out: THREE.BufferGeometry[] = [];
  for (let k = 0; k < dashes; k++) {
    const a = k / dashes;
    const b = a + 0.72 / dashes;
    const points = Array.from({ length: 6 }, (_, j) => curve.getPoint(a + ((b - a) * j) / 5));
    out.push(new THREE.TubeGeometry(new THREE.CatmullRomCurve3(points), 6, radius, 8, false));
  }
  const merged = mergeGeometries(out);
  for (const g of out) g.dispose();
  return merged;
}

/**
 * Skip connections as tubes, merged into one draw call per look: identity skips, shortcuts that transform x,
 * glowing skips of removed blocks, and faint cut skips.
 */
export function SkipArcs({ layout, shortcuts, theme, dropped, cutSkips, path = null, opened = null }: Props) {
  const [identity, transformed, glowing, cut] = useMemo(() => {
    const groups: PlacedTube[][] = [[], [], [], []];
    const removed = new Set(dropped);
    const severed = new Set(cutSkips);
    for (let i = 0; i < layout.arcs.length / (3 * ARC_POINTS); i++) {
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
      // Collapsed blocks (thin slices in a long network) get coarse tubes: they are a few pixels wide.
      const full = layout.fullSize[i] === 1;
      const dash = (shortcuts[i] === 'optionA' || shortcuts[i] === 'parameterFree') && group < 2;
      groups[group]!.push(
        placedTube(
          layout.arcs,
          3 * i * ARC_POINTS,
          ARC_POINTS,
          `${dash ? 'dash' : full ? 'full' : 'slice'} ${radius}`,
          (points) => {
            const curve = new THREE.CatmullRomCurve3(points);
            return dash
              ? dashed(curve, radius)
              : new THREE.TubeGeometry(curve, full ? 48 : 6, radius, full ? 8 : 3, false);
          },
        ),
      );
    }
    return groups.map(mergePlaced);
  }, [layout, shortcuts, theme.skipRadius, dropped, cutSkips, path]);
  // A projection shortcut carries a 1×1 convolution: a small box on the arc's crest; a pooled one (ResNet-D) a
  // frustum (average pooling) before it.
  const markers = useMemo(() => {
    const boxes: THREE.BufferGeometry[] = [];
    const frustums: THREE.BufferGeometry[] = [];
    for (let i = 0; i < layout.arcs.length / (3 * ARC_POINTS); i++) {
      const kind = shortcuts[i];
      if (i === opened || (kind !== 'projection' && kind !== 'pooled')) continue;
      const o = 3 * (i * ARC_POINTS + Math.floor(ARC_POINTS / 2));
      const x = layout.arcs[o]!;
      const y = layout.arcs[o + 1]!;
      const size = Math.min(0.32, 0.3 * layout.blockSizes[3 * i]! + 0.04);
      boxes.push(new THREE.BoxGeometry(size, size, size).translate(x + (kind === 'pooled' ? size * 0.6 : 0), y, 0));
      if (kind === 'pooled')
        frustums.push(
          new THREE.CylinderGeometry(size * 0.35, size * 0.5, size, 4, 1)
            .rotateZ(Math.PI / 2)
            .translate(x - size * 0.6, y, 0),
        );
    }
    const merge = (g: THREE.BufferGeometry[]) => {
      const m = g.length ? mergeGeometries(g) : null;
      for (const x of g) x.dispose();
      return m;
    };
    return { boxes: merge(boxes), frustums: merge(frustums) };
  }, [layout, shortcuts, opened]);
  useEffect(
    () => () => {
      markers.boxes?.dispose();
      markers.frustums?.dispose();
    },
    [markers],
  );
  // A DenseNet's concatenation skips: thin tubes in the projection colour, all in one draw call.
  const dense = useMemo(() => {
    const tubes: PlacedTube[] = [];
    const radius = theme.skipRadius * 0.7;
    for (let i = 0; i < layout.denseArcs.length / (3 * ARC_POINTS); i++)
      tubes.push(
        placedTube(
          layout.denseArcs,
          3 * i * ARC_POINTS,
          ARC_POINTS,
          `dense ${radius}`,
          (points) => new THREE.TubeGeometry(new THREE.CatmullRomCurve3(points), 32, radius, 6, false),
        ),
      );
    return mergePlaced(tubes);
  }, [layout, theme.skipRadius]);
  useEffect(() => () => dense?.dispose(), [dense]);
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
          <SceneMaterial color={theme.skip} emissive={theme.skip} emissiveIntensity={0.25} />
        </mesh>
      )}
      {transformed && (
        <mesh geometry={transformed}>
          <SceneMaterial color={theme.skipProjection} emissive={theme.skipProjection} emissiveIntensity={0.25} />
        </mesh>
      )}
      {glowing && (
        <mesh geometry={glowing}>
          <SceneMaterial color={theme.glow} emissive={theme.glow} emissiveIntensity={0.9} />
        </mesh>
      )}
      {markers.boxes && (
        <mesh geometry={markers.boxes}>
          <SceneMaterial color={theme.skipProjection} roughness={0.5} />
        </mesh>
      )}
      {markers.frustums && (
        <mesh geometry={markers.frustums}>
          <SceneMaterial color={theme.skipProjection} roughness={0.5} />
        </mesh>
      )}
      {dense && (
        <mesh geometry={dense}>
          <SceneMaterial color={theme.skipProjection} emissive={theme.skipProjection} emissiveIntensity={0.25} />
        </mesh>
      )}
      {cut && (
        <mesh geometry={cut}>
          <SceneMaterial color={theme.ghost} transparent opacity={0.5} />
        </mesh>
      )}
    </>
  );
}
