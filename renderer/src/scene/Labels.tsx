import { useFrame, useThree } from '@react-three/fiber';
import { type RefObject, useEffect, useMemo } from 'react';
import * as THREE from 'three';

/** A text label pinned to a point of the scene. */
export interface LabelAnchor {
  text: string;
  position: [number, number, number];
  kind: 'stage' | 'end' | 'part' | 'block' | 'note';
}

/** Which label keeps its place when two would overlap: a lesion's number and the selected block first, then the ends, stages, ops. */
const PRIORITY: Record<LabelAnchor['kind'], number> = { note: 0, block: 0, end: 1, stage: 2, part: 3 };
/** Space kept between two labels, in px. */
const PAD = 3;

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlaps = (a: Box, b: Box) => a.x0 < b.x1 + PAD && b.x0 < a.x1 + PAD && a.y0 < b.y1 + PAD && b.y0 < a.y1 + PAD;

/**
 * Places labels so that none overlaps another: in priority order, each label takes its anchor's place or, when that
 * is taken, the nearest free place up to four lines below or above it; a label with no free place is hidden. Labels
 * are kept inside the view. Pure (boxes in, offsets out), so it is tested without a browser.
 */
export function placeLabels(
  items: readonly { x: number; y: number; width: number; height: number; priority: number }[],
  view: { width: number; height: number },
  /** Boxes no label may cover (the legends and the view bar over the scene). */
  obstacles: readonly Box[] = [],
): ({ x: number; y: number } | null)[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.priority - items[b]!.priority || a - b);
  const placed: Box[] = [...obstacles];
  const out: ({ x: number; y: number } | null)[] = items.map(() => null);
  for (const i of order) {
    const it = items[i]!;
    const halfW = it.width / 2;
    const halfH = it.height / 2;
    const x = Math.min(view.width - halfW - 2, Math.max(halfW + 2, it.x));
    for (const step of [0, 1, -1, 2, -2, 3, -3, 4]) {
      const y = it.y + step * (it.height + PAD);
      if (y - halfH < 0 || y + halfH > view.height) continue;
      const box = { x0: x - halfW, y0: y - halfH, x1: x + halfW, y1: y + halfH };
      if (placed.some((p) => overlaps(p, box))) continue;
      placed.push(box);
      out[i] = { x, y };
      break;
    }
  }
  return out;
}

/**
 * Keeps DOM labels on their anchors: after every frame the anchors are projected to the screen and the labels moved
 * there, without overlaps (placeLabels). DOM text stays sharp at any zoom, uses the theme's colours and fonts, and
 * reads in screenshots.
 */
export function LabelTracker({
  anchors,
  container,
}: {
  anchors: readonly LabelAnchor[];
  container: RefObject<HTMLDivElement | null>;
}) {
  const invalidate = useThree((s) => s.invalidate);
  // New anchors need a frame to be placed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: anchors is the trigger, not an input
  useEffect(() => {
    invalidate();
  }, [anchors, invalidate]);
  // The frame loop reuses its arrays, writes a style only when it changes, and reads the labels' sizes after all its
  // writes (one layout of the page per frame at most, not one per label). Sizes are read every frame: a label's
  // type can change without its text (presentation mode, fonts loading), and a size kept from before overlaps.
  const point = useMemo(() => new THREE.Vector3(), []);
  const scratch = useMemo(
    () => ({
      items: [] as { x: number; y: number; width: number; height: number; priority: number }[],
      index: [] as number[],
    }),
    [],
  );
  useFrame(({ camera, size }) => {
    const root = container.current;
    if (!root) return;
    // The camera may have moved since the last render (a refit, a flight step): its inverse matrix is otherwise
    // only updated by the render that follows, and the labels would lag one camera pose behind the scene.
    camera.updateMatrixWorld();
    const children = root.children;
    const count = children.length;
    const { items, index } = scratch;
    items.length = 0;
    index.length = 0;
    for (let i = 0; i < count; i++) {
      const el = children[i] as HTMLElement;
      // Each label carries its own anchor (data-anchor, data-kind), so its text and its place cannot come from
      // two different renders: the labels live in the page's React root, this frame loop in the canvas's.
      const anchor = anchorOf(el) ?? anchors[i];
      if (!anchor) continue;
      point.set(...anchor.position).project(camera);
      const visible = point.z < 1 && Math.abs(point.x) < 1.1 && Math.abs(point.y) < 1.1;
      setStyle(el, 'display', visible ? '' : 'none');
      if (!visible) continue;
      index.push(i);
      items.push({
        x: ((point.x + 1) / 2) * size.width,
        y: ((1 - point.y) / 2) * size.height,
        width: 0,
        height: 0,
        priority: PRIORITY[anchor.kind],
      });
    }
    items.forEach((item, k) => {
      const el = children[index[k]!] as HTMLElement;
      item.width = el.offsetWidth;
      item.height = el.offsetHeight;
    });
    // The overlays on the scene (legends, the view bar, the lab's name in presentation) are obstacles: labels keep
    // clear of them.
    const origin = root.getBoundingClientRect();
    const obstacles: Box[] = [];
    for (const el of root
      .closest('.stage')
      ?.querySelectorAll('.legend .chip, .view-bar > *, .stage-lab, .stage-action') ?? []) {
      const r = el.getBoundingClientRect();
      if (r.width > 0)
        obstacles.push({
          x0: r.left - origin.left,
          y0: r.top - origin.top,
          x1: r.right - origin.left,
          y1: r.bottom - origin.top,
        });
    }
    const places = placeLabels(items, size, obstacles);
    places.forEach((p, k) => {
      const el = children[index[k]!] as HTMLElement;
      if (!p) setStyle(el, 'display', 'none');
      else setStyle(el, 'transform', `translate(-50%, -50%) translate(${p.x.toFixed(1)}px, ${p.y.toFixed(1)}px)`);
    });
  });
  return null;
}

/** Writes a style property only when it changes (every write invalidates the page's style). */
function setStyle(el: HTMLElement, property: 'display' | 'transform', value: string): void {
  if (el.style[property] !== value) el.style[property] = value;
}

/** The anchor a label element carries (data-anchor "x,y,z" and data-kind), or null when it carries none. */
function anchorOf(el: HTMLElement): LabelAnchor | null {
  const at = el.dataset.anchor;
  const kind = el.dataset.kind as LabelAnchor['kind'] | undefined;
  if (!at || !kind) return null;
  const [x, y, z] = at.split(',').map(Number) as [number, number, number];
  return { text: el.textContent ?? '', position: [x, y, z], kind };
}
