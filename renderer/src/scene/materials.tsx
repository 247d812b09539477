import * as THREE from 'three';
import { renderQuality } from './glProbe';

type Params = THREE.MeshStandardMaterialParameters;

/** A surface material of the scene: physically based on a GPU, Lambert on a CPU rasteriser (glProbe.ts). */
export function sceneMaterial(params: Params): THREE.Material {
  if (!renderQuality().lambert) return new THREE.MeshStandardMaterial(params);
  const { roughness: _r, metalness: _m, ...rest } = params;
  return new THREE.MeshLambertMaterial(rest);
}

interface Props {
  color?: string;
  emissive?: string;
  emissiveIntensity?: number;
  roughness?: number;
  transparent?: boolean;
  opacity?: number;
  depthWrite?: boolean;
}

/** sceneMaterial as a JSX child of a mesh. */
export function SceneMaterial({ roughness, ...rest }: Props) {
  return renderQuality().lambert ? (
    <meshLambertMaterial {...rest} />
  ) : (
    <meshStandardMaterial roughness={roughness ?? 1} {...rest} />
  );
}
