import { useThree } from '@react-three/fiber';
import { useEffect } from 'react';
import type { PerspectiveCamera } from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

interface Props {
  /** Bounding box of what must fit in view: min xyz, max xyz (world units). */
  bounds: Float32Array;
}

/**
 * Orbit camera (drag to rotate, wheel to zoom, right-drag to pan) that starts framed on the whole network
 * from a three-quarter view; renders on demand after each change.
 */
export function Controls({ bounds }: Props) {
  const camera = useThree((s) => s.camera) as PerspectiveCamera;
  const element = useThree((s) => s.gl.domElement);
  const invalidate = useThree((s) => s.invalidate);
  const aspect = useThree((s) => s.size.width / Math.max(1, s.size.height));
  useEffect(() => {
    const [x0, y0, z0, x1, y1, z1] = bounds as unknown as number[];
    const center = [(x0! + x1!) / 2, (y0! + y1!) / 3, (z0! + z1!) / 2] as const;
    const halfWidth = (x1! - x0!) / 2;
    const vertical = Math.tan((camera.fov * Math.PI) / 360);
    // Distance at which the network's length fits the narrower of the two view angles, plus a margin.
    const distance = (1.12 * Math.max(halfWidth / (vertical * aspect), (y1! - y0!) / vertical)) / 0.92;
    camera.position.set(center[0] - distance * 0.22, center[1] + distance * 0.42, center[2] + distance * 0.88);
    camera.near = distance / 100;
    camera.far = distance * 10;
    camera.updateProjectionMatrix();
    const controls = new OrbitControls(camera, element);
    controls.target.set(...center);
    controls.update();
    const onChange = () => invalidate();
    controls.addEventListener('change', onChange);
    invalidate();
    return () => {
      controls.removeEventListener('change', onChange);
      controls.dispose();
    };
  }, [camera, element, invalidate, bounds, aspect]);
  return null;
}
