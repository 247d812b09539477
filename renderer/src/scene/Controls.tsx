import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { NetworkLayout } from '../core/layout/layout';
import { type Pose, sceneBridge } from './bridge';

/** A camera move asked for by the UI; `seq` tells repeated requests apart. */
export type CameraMove =
  | { kind: 'fly'; block: number; seq: number }
  | { kind: 'reset'; seq: number }
  | { kind: 'pose'; pose: Pose; seq: number };

interface Props {
  /** Bounding box the overview frames: min xyz, max xyz (world units). It changes only with the model. */
  bounds: Float32Array;
  /** The current layout, for the positions of blocks to fly to. */
  layout: NetworkLayout;
  move: CameraMove | null;
}

const FLIGHT_MS = 750;

/** The overview: the whole network from a three-quarter view, fitted to the window's aspect. */
function overview(bounds: Float32Array, fov: number, aspect: number): Pose {
  const [x0, y0, z0, x1, y1, z1] = bounds as unknown as number[];
  const center: [number, number, number] = [(x0! + x1!) / 2, (y0! + y1!) / 3, (z0! + z1!) / 2];
  const halfWidth = (x1! - x0!) / 2;
  const vertical = Math.tan((fov * Math.PI) / 360);
  // Distance at which the network's length fits the narrower of the two view angles, plus a margin.
  const distance = (1.12 * Math.max(halfWidth / (vertical * aspect), (y1! - y0!) / vertical)) / 0.92;
  return {
    position: [center[0] - distance * 0.22, center[1] + distance * 0.42, center[2] + distance * 0.88],
    target: center,
  };
}

/** A close view of one block (opened or not) from the front and a little above, the block filling a third of the view. */
function blockPose(layout: NetworkLayout, block: number): Pose {
  const c = layout.blockCenters;
  const s = layout.blockSizes;
  const size = Math.max(s[3 * block]!, s[3 * block + 1]! * 1.8, 1.5);
  const target: [number, number, number] = [c[3 * block]!, c[3 * block + 1]! + 0.3, c[3 * block + 2]!];
  const d = 2.2 * size + 2;
  return { position: [target[0] - 0.15 * d, target[1] + 0.45 * d, target[2] + 0.9 * d], target };
}

const ease = (t: number) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);

/**
 * Orbit camera (drag to rotate, wheel to zoom, right-drag to pan), framed on the whole network when a model opens;
 * smooth flights to blocks, the overview and bookmarks, cut short by any drag or wheel. Renders on demand.
 */
export function Controls({ bounds, layout, move }: Props) {
  const camera = useThree((s) => s.camera) as THREE.PerspectiveCamera;
  const element = useThree((s) => s.gl.domElement);
  const invalidate = useThree((s) => s.invalidate);
  const regress = useThree((s) => s.performance.regress);
  const aspect = useThree((s) => s.size.width / Math.max(1, s.size.height));
  const controls = useRef<OrbitControls | null>(null);
  const flight = useRef<{ from: Pose; to: Pose; start: number } | null>(null);
  const layoutRef = useRef(layout);
  layoutRef.current = layout;
  const aspectRef = useRef(aspect);
  aspectRef.current = aspect;

  // One OrbitControls per canvas; the overview is applied whenever the model (its bounds) changes.
  useEffect(() => {
    const c = new OrbitControls(camera, element);
    c.enableDamping = false;
    controls.current = c;
    // While the camera moves, frames are drawn at a lower resolution (adaptive resolution); full when it stops.
    const onChange = () => {
      regress();
      invalidate();
    };
    // Any drag or wheel interrupts a flight: the user is in charge.
    const onStart = () => {
      flight.current = null;
    };
    c.addEventListener('change', onChange);
    c.addEventListener('start', onStart);
    sceneBridge.pose = () => ({
      position: camera.position.toArray() as [number, number, number],
      target: c.target.toArray() as [number, number, number],
    });
    return () => {
      c.removeEventListener('change', onChange);
      c.removeEventListener('start', onStart);
      c.dispose();
      controls.current = null;
      sceneBridge.pose = null;
    };
  }, [camera, element, invalidate, regress]);

  useEffect(() => {
    const c = controls.current;
    if (!c) return;
    const pose = overview(bounds, camera.fov, aspectRef.current);
    const distance = new THREE.Vector3(...pose.position).distanceTo(new THREE.Vector3(...pose.target));
    camera.near = Math.max(0.01, distance / 400);
    camera.far = distance * 20;
    camera.position.set(...pose.position);
    camera.updateProjectionMatrix();
    c.target.set(...pose.target);
    c.update();
    flight.current = null;
    invalidate();
  }, [bounds, camera, invalidate]);

  useEffect(() => {
    const c = controls.current;
    if (!move || !c) return;
    const to =
      move.kind === 'fly'
        ? blockPose(layoutRef.current, move.block)
        : move.kind === 'reset'
          ? overview(layoutRef.current.bounds, camera.fov, aspectRef.current)
          : move.pose;
    flight.current = {
      from: { position: camera.position.toArray() as Pose['position'], target: c.target.toArray() as Pose['target'] },
      to,
      start: performance.now(),
    };
    invalidate();
  }, [move, camera, invalidate]);

  useFrame(() => {
    const f = flight.current;
    const c = controls.current;
    if (!f || !c) return;
    const t = Math.min(1, (performance.now() - f.start) / FLIGHT_MS);
    const k = ease(t);
    const lerp = (a: readonly number[], b: readonly number[]) =>
      a.map((v, i) => v + (b[i]! - v) * k) as Pose['position'];
    camera.position.set(...lerp(f.from.position, f.to.position));
    c.target.set(...lerp(f.from.target, f.to.target));
    c.update();
    if (t >= 1) flight.current = null;
    else invalidate();
  });
  return null;
}

/** Follows r3f's performance level: the pixel ratio drops to `min` × the device's while the view is moving. */
export function AdaptiveResolution() {
  const current = useThree((s) => s.performance.current);
  const initial = useThree((s) => s.viewport.initialDpr);
  const setDpr = useThree((s) => s.setDpr);
  const invalidate = useThree((s) => s.invalidate);
  useEffect(() => {
    setDpr(current * initial);
    invalidate();
  }, [current, initial, setDpr, invalidate]);
  return null;
}
