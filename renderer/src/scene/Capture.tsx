import { useThree } from '@react-three/fiber';
import { type RefObject, useEffect } from 'react';
import * as THREE from 'three';
import type { NetworkLayout } from '../core/layout/layout';
import { sceneBridge } from './bridge';
import { cameraAt, overviewPose } from './framing';
import { type LabelAnchor, placeLabels } from './Labels';
import { slideSvg } from './slide';

/**
 * Lends the UI a capture of the 3D view at `scale` × the window's size: the scene is rendered once into the
 * drawing buffer at that size (the canvas keeps its place on screen), copied, and the labels are drawn on top.
 */
export function Capture({
  labels,
  frame,
  anchors,
  background,
}: {
  labels: RefObject<HTMLDivElement | null>;
  /** The overview layout a slide frames. */
  frame: NetworkLayout;
  /** The labels' anchors (a slide places them for its own camera). */
  anchors: readonly LabelAnchor[];
  background: string;
}) {
  const gl = useThree((s) => s.gl);
  const scene = useThree((s) => s.scene);
  const camera = useThree((s) => s.camera);
  const size = useThree((s) => s.size);
  const invalidate = useThree((s) => s.invalidate);
  useEffect(() => {
    sceneBridge.capture = async (scale) => {
      const width = Math.round(size.width * scale);
      const height = Math.round(size.height * scale);
      const limit = gl.capabilities.maxTextureSize;
      if (width > limit || height > limit)
        throw new Error(`${width} × ${height} is larger than this GPU draws (${limit} px): choose a smaller scale`);
      const out = renderAt(gl, scene, camera, { width, height }, null, size, invalidate);
      const ctx = out.getContext('2d');
      if (!ctx) throw new Error('no 2D canvas to compose the image');
      // The DOM labels, where they stand on screen, scaled.
      const root = labels.current;
      const frame = gl.domElement.getBoundingClientRect();
      for (const el of root ? [...root.children] : []) {
        const label = el as HTMLElement;
        if (label.style.display === 'none' || !label.textContent) continue;
        const r = label.getBoundingClientRect();
        const style = getComputedStyle(label);
        const x = (r.left - frame.left) * scale;
        const y = (r.top - frame.top) * scale;
        ctx.fillStyle = style.backgroundColor;
        ctx.fillRect(x, y, r.width * scale, r.height * scale);
        ctx.fillStyle = style.color;
        ctx.font = `${style.fontWeight} ${Number.parseFloat(style.fontSize) * scale}px ${style.fontFamily}`;
        ctx.textBaseline = 'middle';
        ctx.textAlign = 'center';
        ctx.fillText(label.textContent, x + (r.width * scale) / 2, y + (r.height * scale) / 2);
      }
      const png = await new Promise<Blob>((resolve, reject) =>
        out.toBlob((b) => (b ? resolve(b) : reject(new Error('the image could not be encoded'))), 'image/png'),
      );
      return { png, width, height };
    };
    // A slide: the overview pose for the slide's aspect (whatever the live camera shows), rendered at the slide's
    // size, labels placed anew for that view at a size that reads on a projected slide (18 px per 720 px of height).
    sceneBridge.slide = async ({ width, height, transparent }) => {
      const limit = gl.capabilities.maxTextureSize;
      if (width > limit || height > limit)
        throw new Error(`${width} × ${height} is larger than this GPU draws (${limit} px): choose a smaller size`);
      const live = camera as THREE.PerspectiveCamera;
      const view = cameraAt(overviewPose(frame, live.fov, width / height), live.fov, width / height);
      view.near = live.near;
      view.far = live.far;
      view.updateProjectionMatrix();
      // One render of the scene alone: the SVG embeds it as is, the PNG draws the labels on a copy of it.
      const bare = renderAt(gl, scene, view, { width, height }, transparent ? background : null, size, invalidate);
      const sceneUrl = bare.toDataURL('image/png');
      const out = document.createElement('canvas');
      out.width = width;
      out.height = height;
      const ctx = out.getContext('2d');
      if (!ctx) throw new Error('no 2D canvas to compose the image');
      ctx.drawImage(bare, 0, 0);
      const scale = height / 720;
      const px = 18 * scale;
      const style = labels.current?.firstElementChild ? getComputedStyle(labels.current.firstElementChild) : null;
      const font = style?.fontFamily ?? 'system-ui, sans-serif';
      const color = style?.color ?? '#ffffff';
      const back = transparent ? 'rgba(0,0,0,0)' : (style?.backgroundColor ?? background);
      ctx.font = `600 ${px}px ${font}`;
      const point = new THREE.Vector3();
      const items = anchors.map((a) => {
        point.set(...a.position).project(view);
        return {
          x: ((point.x + 1) / 2) * width,
          y: ((1 - point.y) / 2) * height,
          width: ctx.measureText(a.text).width + px * 0.6,
          height: px * 1.35,
          priority: a.kind === 'note' || a.kind === 'block' ? 0 : a.kind === 'end' ? 1 : a.kind === 'stage' ? 2 : 3,
        };
      });
      const places = placeLabels(items, { width, height });
      const placed: { text: string; x: number; y: number; font: string; px: number; color: string; back: string }[] =
        [];
      places.forEach((p, i) => {
        if (!p) return;
        const it = items[i]!;
        ctx.fillStyle = back;
        ctx.fillRect(p.x - it.width / 2, p.y - it.height / 2, it.width, it.height);
        ctx.fillStyle = color;
        ctx.textBaseline = 'middle';
        ctx.textAlign = 'center';
        ctx.fillText(anchors[i]!.text, p.x, p.y);
        placed.push({ text: anchors[i]!.text, x: p.x, y: p.y, font, px, color, back });
      });
      const png = await new Promise<Blob>((resolve, reject) =>
        out.toBlob((b) => (b ? resolve(b) : reject(new Error('the image could not be encoded'))), 'image/png'),
      );
      // The SVG: the scene without its labels as an image, the labels as text.
      return {
        png,
        svg: slideSvg(sceneUrl, { width, height }, placed),
        width,
        height,
      };
    };
    return () => {
      sceneBridge.capture = null;
      sceneBridge.slide = null;
    };
  }, [gl, scene, camera, size, invalidate, labels, frame, anchors, background]);
  return null;
}

/**
 * Renders the scene once at `target` size (pixel ratio 1) into the drawing buffer and copies it to a new 2D canvas;
 * `transparent` (the theme's background colour) clears to alpha 0 without the scene's background. The renderer's
 * size, pixel ratio, clear colour and the scene's background are restored, and a frame is requested.
 */
function renderAt(
  gl: THREE.WebGLRenderer,
  scene: THREE.Scene,
  view: THREE.Camera,
  target: { width: number; height: number },
  transparent: string | null,
  size: { width: number; height: number },
  invalidate: () => void,
): HTMLCanvasElement {
  const out = document.createElement('canvas');
  out.width = target.width;
  out.height = target.height;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas to compose the image');
  const ratio = gl.getPixelRatio();
  const clear = gl.getClearColor(new THREE.Color());
  const alpha = gl.getClearAlpha();
  const sceneBackground = scene.background;
  // Without multisampling (a CPU rasteriser, glProbe.ts), drawn at twice the size and scaled down: supersampled
  // edges, where the GPU's own limit allows and the doubled image stays under 25 M pixels (a 2× capture of a
  // 1440 × 860 window is 19.8 M; a 4× one is drawn as it is, its pixels already finer than any screen's).
  const limit = gl.capabilities.maxTextureSize;
  const doubled = 4 * target.width * target.height;
  const factor =
    !gl.getContextAttributes()?.antialias && 2 * Math.max(target.width, target.height) <= limit && doubled <= 25e6
      ? 2
      : 1;
  try {
    gl.setPixelRatio(1);
    gl.setSize(target.width * factor, target.height * factor, false);
    if (transparent !== null) {
      scene.background = null;
      gl.setClearColor(transparent, 0);
    }
    gl.render(scene, view);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(
      gl.domElement,
      0,
      0,
      target.width * factor,
      target.height * factor,
      0,
      0,
      target.width,
      target.height,
    );
  } finally {
    scene.background = sceneBackground;
    gl.setClearColor(clear, alpha);
    gl.setPixelRatio(ratio);
    gl.setSize(size.width, size.height, false);
    invalidate();
  }
  return out;
}
