/** A camera pose in world units: where the camera stands and the point it orbits. */
export interface Pose {
  position: [number, number, number];
  target: [number, number, number];
}

/**
 * What the scene lends the UI imperatively (the canvas owns the camera and the renderer): the current camera pose
 * for bookmarks, and a capture of the 3D view at a multiple of its size. Null while no scene is mounted.
 */
export const sceneBridge: {
  pose: (() => Pose) | null;
  capture: ((scale: number) => Promise<{ png: Blob; width: number; height: number }>) | null;
  /** The whole network as a slide, framed on it whatever the camera shows (scene/slide.ts). */
  slide: ((options: import('./slide').SlideOptions) => Promise<import('./slide').Slide>) | null;
  /** Frames rendered so far (the scene renders on demand): the benchmark's frame-rate counter. */
  frames: number;
  /** The last frame's draw calls and triangles. */
  info: (() => { calls: number; triangles: number }) | null;
} = { pose: null, capture: null, slide: null, frames: 0, info: null };
