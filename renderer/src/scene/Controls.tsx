import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { NetworkLayout } from '../core/layout/layout';
import { type Pose, sceneBridge } from './bridge';
import { overviewPose } from './framing';

/** A camera move asked for by the UI; `seq` tells repeated requests apart. */
export type CameraMove =
  | { kind: 'fly'; block: number; seq: number }
  | { kind: 'reset'; seq: number }
  | { kind: 'pose'; pose: Pose; seq: number };

interface Props {
  /** The layout the overview frames (the network closed, no block opened). It changes only with the model. */
  frame: NetworkLayout;
  /** The current layout, for the positions of blocks to fly to. */
  layout: NetworkLayout;
  move: CameraMove | null;
}

const FLIGHT_MS = 750;

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
export function Controls({ frame, layout, move }: Props) {
  const camera = useThree((s) => s.camera) as THREE.PerspectiveCamera;
  const element = useThree((s) => s.gl.domElement);
  const invalidate = useThree((s) => s.invalidate);
  const regress = useThree((s) => s.performance.regress);
  const setEvents = useThree((s) => s.setEvents);
  const aspect = useThree((s) => s.size.width / Math.max(1, s.size.height));
  const controls = useRef<OrbitControls | null>(null);
  const flight = useRef<{ from: Pose; to: Pose; start: number } | null>(null);
  /** True while the overview is applied: placing the camera is not a motion (no lower resolution for it). */
  const placing = useRef(false);
  const layoutRef = useRef(layout);
  layoutRef.current = layout;
  const aspectRef = useRef(aspect);
  aspectRef.current = aspect;
  const frameRef = useRef(frame);
  frameRef.current = frame;
  /** True while the camera shows the overview (set when it is applied, cleared by any other move or a drag). */
  const atOverview = useRef(true);

  // One OrbitControls per canvas; the overview is applied whenever the model (its bounds) changes.
  useEffect(() => {
    const c = new OrbitControls(camera, element);
    c.enableDamping = false;
    controls.current = c;
    // A drag that moves the camera suspends hover picking until the button is released: picking casts a ray
    // through every block at every move, while nothing under the pointer can be hovered mid-orbit (measured with
    // llvmpipe: ResNet-1202 orbits at 27 fps instead of 20). A click that does not move the camera still picks.
    let dragging = false;
    let suspended = false;
    // While the camera moves, frames are drawn at a lower resolution (adaptive resolution); full when it stops.
    const onChange = () => {
      if (dragging && !suspended) {
        suspended = true;
        setEvents({ enabled: false });
      }
      if (!placing.current) regress();
      invalidate();
    };
    // Any drag or wheel interrupts a flight: the user is in charge.
    const onStart = () => {
      dragging = true;
      flight.current = null;
      atOverview.current = false;
    };
    const onEnd = () => {
      dragging = false;
      if (suspended) {
        suspended = false;
        setEvents({ enabled: true });
      }
    };
    c.addEventListener('change', onChange);
    c.addEventListener('start', onStart);
    c.addEventListener('end', onEnd);
    sceneBridge.pose = () => ({
      position: camera.position.toArray() as [number, number, number],
      target: c.target.toArray() as [number, number, number],
    });
    return () => {
      c.removeEventListener('change', onChange);
      c.removeEventListener('start', onStart);
      c.removeEventListener('end', onEnd);
      onEnd();
      c.dispose();
      controls.current = null;
      sceneBridge.pose = null;
    };
  }, [camera, element, invalidate, regress, setEvents]);

  // The overview is applied when the model changes, and again whenever the view changes shape (a resize, a side
  // panel closing, presentation) while the camera still shows it.
  const lastFrame = useRef<NetworkLayout | null>(null);
  useEffect(() => {
    const c = controls.current;
    if (!c) return;
    const changed = lastFrame.current !== frame;
    lastFrame.current = frame;
    if (!changed && !atOverview.current) return;
    const pose = overviewPose(frame, camera.fov, aspect);
    const distance = new THREE.Vector3(...pose.position).distanceTo(new THREE.Vector3(...pose.target));
    camera.near = Math.max(0.01, distance / 400);
    camera.far = distance * 20;
    camera.position.set(...pose.position);
    camera.updateProjectionMatrix();
    c.target.set(...pose.target);
    placing.current = true;
    c.update();
    placing.current = false;
    flight.current = null;
    atOverview.current = true;
    invalidate();
  }, [frame, aspect, camera, invalidate]);

  useEffect(() => {
    const c = controls.current;
    if (!move || !c) return;
    const to =
      move.kind === 'fly'
        ? blockPose(layoutRef.current, move.block)
        : move.kind === 'reset'
          ? overviewPose(frameRef.current, camera.fov, aspectRef.current)
          : move.pose;
    atOverview.current = move.kind === 'reset';
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
    // A flight is a moving view: drawn at the lower resolution, like an orbit.
    regress();
    // One more frame after the last step, so everything placed from the camera (the labels) sees its final pose.
    if (t >= 1) flight.current = null;
    invalidate();
  });
  return null;
}

/** Follows r3f's performance level: the pixel ratio drops to `min` × the still view's while the view is moving. */
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
