import { useFrame, useThree } from '@react-three/fiber';
import { type RefObject, useEffect } from 'react';
import * as THREE from 'three';

/** A text label pinned to a point of the scene. */
export interface LabelAnchor {
  text: string;
  position: [number, number, number];
  kind: 'stage' | 'end' | 'part' | 'block';
}

/**
 * Keeps DOM labels on their anchors: after every frame the anchors are projected to the screen and the labels moved
 * there. DOM text stays sharp at any zoom, uses the theme's colours and fonts, and reads in screenshots.
 */
export function LabelTracker({
  anchors,
  container,
}: {
  anchors: readonly LabelAnchor[];
  container: RefObject<HTMLDivElement | null>;
}) {
  const invalidate = useThree((s) => s.invalidate);
  // New anchors need a frame to be placed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: anchors is the trigger, not an input
  useEffect(() => {
    invalidate();
  }, [anchors, invalidate]);
  const point = new THREE.Vector3();
  useFrame(({ camera, size }) => {
    const root = container.current;
    if (!root) return;
    const children = root.children;
    for (let i = 0; i < anchors.length && i < children.length; i++) {
      const el = children[i] as HTMLElement;
      point.set(...anchors[i]!.position).project(camera);
      const visible = point.z < 1 && Math.abs(point.x) < 1.1 && Math.abs(point.y) < 1.1;
      el.style.display = visible ? '' : 'none';
      if (visible) {
        const x = ((point.x + 1) / 2) * size.width;
        const y = ((1 - point.y) / 2) * size.height;
        el.style.transform = `translate(-50%, -50%) translate(${x.toFixed(1)}px, ${y.toFixed(1)}px)`;
      }
    }
  });
  return null;
}
