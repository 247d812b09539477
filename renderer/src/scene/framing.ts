import * as THREE from 'three';
import { ARC_POINTS, type NetworkLayout } from '../core/layout/layout';
import type { Pose } from './bridge';

/**
 * Framing: the camera poses that show the whole network. The overview is fitted to what is drawn (every block's
 * corners, the arcs' crests, stem and head), not to a loose bounding box, so the network fills the stage.
 */

/** Share of the stage the network's projected box fills along its binding side. */
export const FILL = 0.9;

/** Points whose projection is the drawn network's extent: box corners, arc crests. */
export function framePoints(layout: NetworkLayout): Float32Array {
  const out: number[] = [];
  const box = (cx: number, cy: number, cz: number, sx: number, sy: number, sz: number) => {
    for (const a of [-0.5, 0.5])
      for (const b of [-0.5, 0.5]) for (const c of [-0.5, 0.5]) out.push(cx + a * sx, cy + b * sy, cz + c * sz);
  };
  const s = layout.stem;
  const h = layout.head;
  box(s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!);
  box(h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!);
  const c = layout.blockCenters;
  const z = layout.blockSizes;
  for (let i = 0; i < layout.blockCount; i++)
    box(c[3 * i]!, c[3 * i + 1]!, c[3 * i + 2]!, z[3 * i]!, z[3 * i + 1]!, z[3 * i + 2]!);
  // The crest of each skip arc (its highest point).
  for (let i = 0; i < layout.arcs.length / (3 * ARC_POINTS); i++) {
    const o = 3 * (i * ARC_POINTS + Math.floor(ARC_POINTS / 2));
    out.push(layout.arcs[o]!, layout.arcs[o + 1]!, layout.arcs[o + 2]!);
  }
  // The stage plates' corners (they are 2.6 deep, on the floor).
  for (let st = 0; 2 * st < layout.stageBounds.length; st++) {
    const x0 = layout.stageBounds[2 * st]!;
    const x1 = layout.stageBounds[2 * st + 1]!;
    out.push(x0, 0, -1.3, x1, 0, -1.3, x0, 0, 1.3, x1, 0, 1.3);
  }
  return Float32Array.from(out);
}

/** The camera's height over the network in the overview, as an angle above the floor (degrees). */
const ELEVATION = 27;
/** The largest turn of the overview away from the front (degrees), for the longest networks. */
const MAX_AZIMUTH = 36;

/** The direction from the target to the camera: in front, `azimuth` degrees to the left, ELEVATION above. */
export function viewDirection(azimuth: number, elevation = ELEVATION): THREE.Vector3 {
  const a = (azimuth * Math.PI) / 180;
  const e = (elevation * Math.PI) / 180;
  return new THREE.Vector3(-Math.sin(a) * Math.cos(e), Math.sin(e), Math.cos(a) * Math.cos(e));
}

/** Projected extent of `points` in normalised device coordinates: [minX, maxX, minY, maxY]. */
export function projectedBox(points: Float32Array, camera: THREE.Camera): [number, number, number, number] {
  const v = new THREE.Vector3();
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < points.length; i += 3) {
    v.set(points[i]!, points[i + 1]!, points[i + 2]!).project(camera);
    x0 = Math.min(x0, v.x);
    x1 = Math.max(x1, v.x);
    y0 = Math.min(y0, v.y);
    y1 = Math.max(y1, v.y);
  }
  return [x0, x1, y0, y1];
}

/**
 * The pose looking along `direction` whose projection of `points` is centred and fills `fill` of the view along its
 * binding side (width or height). Perspective is not linear in distance, so the fit iterates: centre the projected
 * box by moving the target in the view plane, then scale the distance by the box's size; it settles in a few rounds.
 */
export function fitPose(
  points: Float32Array,
  direction: THREE.Vector3,
  fov: number,
  aspect: number,
  fill = FILL,
): Pose {
  const camera = new THREE.PerspectiveCamera(fov, aspect, 0.01, 1e6);
  const target = new THREE.Vector3();
  let x0 = Infinity;
  let x1 = -Infinity;
  for (let i = 0; i < points.length; i += 3) {
    target.x += points[i]!;
    target.y += points[i + 1]!;
    target.z += points[i + 2]!;
    x0 = Math.min(x0, points[i]!);
    x1 = Math.max(x1, points[i]!);
  }
  target.divideScalar(Math.max(1, points.length / 3));
  let distance = Math.max(1, x1 - x0) * 1.5;
  const dir = direction.clone().normalize();
  const right = new THREE.Vector3();
  const up = new THREE.Vector3();
  const place = () => {
    camera.position.copy(target).addScaledVector(dir, distance);
    camera.lookAt(target);
    camera.updateMatrixWorld();
    camera.updateProjectionMatrix();
  };
  for (let round = 0; round < 12; round++) {
    place();
    const [a, b, c, d] = projectedBox(points, camera);
    // NDC half-extent of the view at the target's distance, in world units.
    const halfH = distance * Math.tan((fov * Math.PI) / 360);
    const halfW = halfH * aspect;
    right.setFromMatrixColumn(camera.matrixWorld, 0);
    up.setFromMatrixColumn(camera.matrixWorld, 1);
    target.addScaledVector(right, ((a + b) / 2) * halfW).addScaledVector(up, ((c + d) / 2) * halfH);
    const size = Math.max((b - a) / 2, (d - c) / 2);
    if (!Number.isFinite(size) || size <= 0) break;
    const scale = size / fill;
    distance *= round < 2 ? scale : Math.sqrt(scale);
    if (Math.abs(scale - 1) < 0.002 && Math.abs(a + b) < 0.004 && Math.abs(c + d) < 0.004) break;
  }
  place();
  return {
    position: camera.position.toArray() as [number, number, number],
    target: target.toArray() as [number, number, number],
  };
}

/** Share of the stage's area the network's projected box should cover at least (a long network turns for it). */
export const MIN_AREA = 0.3;

/**
 * The overview: the network fitted to fill the stage's width, seen nearly from the front so that the blocks of a
 * stage stand side by side. A long network seen from the front is a thin strip; it turns (up to MAX_AZIMUTH) until
 * its diagonal also fills MIN_AREA of the stage, the least turn that does.
 */
export function overviewPose(layout: NetworkLayout, fov: number, aspect: number, fill = FILL): Pose {
  const points = framePoints(layout);
  let pose: Pose | null = null;
  for (let azimuth = 6; azimuth <= MAX_AZIMUTH; azimuth += 3) {
    pose = fitPose(points, viewDirection(azimuth), fov, aspect, fill);
    const [x0, x1, y0, y1] = projectedBox(points, cameraAt(pose, fov, aspect));
    if (((x1 - x0) / 2) * ((y1 - y0) / 2) >= MIN_AREA) break;
  }
  return pose!;
}

/** A perspective camera at a pose (for measuring what it shows). */
export function cameraAt(pose: Pose, fov: number, aspect: number): THREE.PerspectiveCamera {
  const camera = new THREE.PerspectiveCamera(fov, aspect, 0.01, 1e6);
  camera.position.set(...pose.position);
  camera.lookAt(new THREE.Vector3(...pose.target));
  camera.updateMatrixWorld();
  camera.updateProjectionMatrix();
  return camera;
}
