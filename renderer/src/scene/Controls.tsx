import { useThree } from '@react-three/fiber';
import { useEffect } from 'react';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

/** Orbit camera (drag to rotate, wheel to zoom, right-drag to pan); renders on demand after each change. */
export function Controls({ target }: { target: [number, number, number] }) {
  const camera = useThree((s) => s.camera);
  const element = useThree((s) => s.gl.domElement);
  const invalidate = useThree((s) => s.invalidate);
  useEffect(() => {
    const controls = new OrbitControls(camera, element);
    controls.target.set(...target);
    controls.enableDamping = false;
    controls.update();
    const onChange = () => invalidate();
    controls.addEventListener('change', onChange);
    invalidate();
    return () => {
      controls.removeEventListener('change', onChange);
      controls.dispose();
    };
  }, [camera, element, invalidate, target]);
  return null;
}
