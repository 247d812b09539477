import { useThree } from '@react-three/fiber';
import { type RefObject, useEffect } from 'react';
import { sceneBridge } from './bridge';

/**
 * Lends the UI a capture of the 3D view at `scale` × the window's size: the scene is rendered once into the
 * drawing buffer at that size (the canvas keeps its place on screen), copied, and the labels are drawn on top.
 */
export function Capture({ labels }: { labels: RefObject<HTMLDivElement | null> }) {
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
      const ratio = gl.getPixelRatio();
      const out = document.createElement('canvas');
      out.width = width;
      out.height = height;
      const ctx = out.getContext('2d');
      if (!ctx) throw new Error('no 2D canvas to compose the image');
      try {
        gl.setPixelRatio(1);
        gl.setSize(width, height, false);
        gl.render(scene, camera);
        ctx.drawImage(gl.domElement, 0, 0, width, height);
      } finally {
        gl.setPixelRatio(ratio);
        gl.setSize(size.width, size.height, false);
        invalidate();
      }
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
    return () => {
      sceneBridge.capture = null;
    };
  }, [gl, scene, camera, size, invalidate, labels]);
  return null;
}
