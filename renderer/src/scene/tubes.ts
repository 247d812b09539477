import * as THREE from 'three';

/**
 * Tubes along the layout's arcs, built once per shape and reused. A network's skips repeat a handful of shapes (the
 * same spacing in a stage, the same collapsed slice), so building each distinct shape once and copying it into
 * place costs a fraction of a TubeGeometry per arc (Frenet frames and curve samples in JS: about 40 ms for
 * ResNet-56's 27 arcs, paid again on every lesion click, which regroups the arcs).
 */

/** A built shape (its first point at the origin) and where it goes. */
export interface PlacedTube {
  shape: THREE.BufferGeometry;
  x: number;
  y: number;
  z: number;
}

const SHAPES = new Map<string, THREE.BufferGeometry>();
/** Distinct shapes kept; past this the cache starts over (a new model brings new spacings). */
const MAX_SHAPES = 512;

/**
 * The tube of `count` points at `offset` (xyz triples) of `arcs`, built by `build` from those points moved so the
 * first is at the origin. `kind` names everything else `build` depends on (segments, radius, dashes). Points are
 * keyed to 1e-5 of a scene unit, far below a pixel.
 */
export function placedTube(
  arcs: ArrayLike<number>,
  offset: number,
  count: number,
  kind: string,
  build: (points: THREE.Vector3[]) => THREE.BufferGeometry,
): PlacedTube {
  const x = arcs[offset]!;
  const y = arcs[offset + 1]!;
  const z = arcs[offset + 2]!;
  const rel: number[] = [];
  for (let k = 0; k < 3 * count; k += 3)
    rel.push(
      Math.round((arcs[offset + k]! - x) * 1e5),
      Math.round((arcs[offset + k + 1]! - y) * 1e5),
      Math.round((arcs[offset + k + 2]! - z) * 1e5),
    );
  const key = `${kind}|${rel.join(',')}`;
  let shape = SHAPES.get(key);
  if (!shape) {
    const points: THREE.Vector3[] = [];
    for (let k = 0; k < rel.length; k += 3)
      points.push(new THREE.Vector3(rel[k]! / 1e5, rel[k + 1]! / 1e5, rel[k + 2]! / 1e5));
    shape = build(points);
    if (SHAPES.size >= MAX_SHAPES) SHAPES.clear();
    SHAPES.set(key, shape);
  }
  return { shape, x, y, z };
}

/**
 * One geometry holding every placed tube (one draw call): positions moved into place, normals and uvs copied,
 * indices rebased. Every shape must be indexed with position, normal and uv, as TubeGeometry is.
 */
export function mergePlaced(parts: readonly PlacedTube[]): THREE.BufferGeometry | null {
  if (!parts.length) return null;
  let vertices = 0;
  let indices = 0;
  for (const p of parts) {
    vertices += p.shape.getAttribute('position').count;
    indices += p.shape.getIndex()!.count;
  }
  const position = new Float32Array(3 * vertices);
  const normal = new Float32Array(3 * vertices);
  const uv = new Float32Array(2 * vertices);
  const index = vertices > 65535 ? new Uint32Array(indices) : new Uint16Array(indices);
  let v = 0;
  let i = 0;
  for (const p of parts) {
    const pos = p.shape.getAttribute('position').array as Float32Array;
    const n = pos.length / 3;
    for (let k = 0; k < pos.length; k += 3) {
      position[3 * v + k] = pos[k]! + p.x;
      position[3 * v + k + 1] = pos[k + 1]! + p.y;
      position[3 * v + k + 2] = pos[k + 2]! + p.z;
    }
    normal.set(p.shape.getAttribute('normal').array as Float32Array, 3 * v);
    uv.set(p.shape.getAttribute('uv').array as Float32Array, 2 * v);
    const src = p.shape.getIndex()!.array;
    for (let k = 0; k < src.length; k++) index[i + k] = src[k]! + v;
    v += n;
    i += src.length;
  }
  const merged = new THREE.BufferGeometry();
  merged.setAttribute('position', new THREE.BufferAttribute(position, 3));
  merged.setAttribute('normal', new THREE.BufferAttribute(normal, 3));
  merged.setAttribute('uv', new THREE.BufferAttribute(uv, 2));
  merged.setIndex(new THREE.BufferAttribute(index, 1));
  return merged;
}
