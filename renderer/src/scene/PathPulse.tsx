import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';
import { ARC_POINTS, type NetworkLayout } from '../core/layout/layout';
import { SceneMaterial } from './materials';

const LOOPS = 3;
const SECONDS_PER_LOOP = 4;

/**
 * A glowing pulse that travels a lit path from the stem to the head: through a block where the path takes its
 * branch, over the block's arc where it takes the skip. Runs a few loops after the path changes, then rests at the
 * head (the scene renders on demand, so an endless animation would keep the CPU busy).
 */
export function PathPulse({ layout, path, color }: { layout: NetworkLayout; path: readonly boolean[]; color: string }) {
  const invalidate = useThree((s) => s.invalidate);
  const mesh = useRef<THREE.Mesh>(null);
  const start = useRef(performance.now());
  const curve = useMemo(() => {
    const points: THREE.Vector3[] = [new THREE.Vector3(layout.stem[0], layout.stem[1]! * 2 + 0.1, 0)];
    const c = layout.blockCenters;
    const s = layout.blockSizes;
    for (let i = 0; i < layout.blockCount; i++) {
      const entry = new THREE.Vector3(c[3 * i]! - s[3 * i]! / 2, s[3 * i + 1]! + 0.1, 0);
      const exit = new THREE.Vector3(c[3 * i]! + s[3 * i]! / 2, s[3 * i + 1]! + 0.1, 0);
      if (path[i] || layout.arcs.length === 0)
        points.push(entry, new THREE.Vector3(c[3 * i]!, s[3 * i + 1]! + 0.1, 0), exit);
      else {
        // Over the arc: its start, crest and end.
        for (const k of [0, Math.floor(ARC_POINTS / 2), ARC_POINTS - 1]) {
          const o = 3 * (i * ARC_POINTS + k);
          points.push(new THREE.Vector3(layout.arcs[o], layout.arcs[o + 1], layout.arcs[o + 2]));
        }
      }
    }
    points.push(new THREE.Vector3(layout.head[0], layout.head[1]! * 2 + 0.1, 0));
    const curve = new THREE.CatmullRomCurve3(points, false, 'centripetal');
    curve.arcLengthDivisions = 4 * points.length;
    return curve;
  }, [layout, path]);
  const geometry = useMemo(() => new THREE.SphereGeometry(0.16, 16, 12), []);
  useEffect(() => () => geometry.dispose(), [geometry]);
  // Restart the animation whenever the path changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the curve is the trigger
  useEffect(() => {
    start.current = performance.now();
    invalidate();
  }, [curve, invalidate]);
  useFrame(() => {
    const m = mesh.current;
    if (!m) return;
    const t = (performance.now() - start.current) / 1000 / SECONDS_PER_LOOP;
    const done = t >= LOOPS;
    m.position.copy(curve.getPointAt(done ? 1 : t % 1));
    if (!done) invalidate();
  });
  return (
    <mesh ref={mesh} geometry={geometry}>
      <SceneMaterial color={color} emissive={color} emissiveIntensity={1.2} />
    </mesh>
  );
}
