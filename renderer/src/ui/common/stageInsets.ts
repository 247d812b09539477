import { type RefObject, useEffect, useLayoutEffect, useRef, useState } from 'react';

/**
 * Keeps the stage's overlays clear of each other whatever their wrapping: the view bar's bottom edge and the
 * legend's height (both wrap to more rows on a narrow stage, beside the tour or at 1024 px) as CSS variables on the
 * stage, `--view-bar-bottom` and `--legend-height`, which the block card and the colour legend are placed by.
 * Checked after every render (the overlays mount and unmount with the model and the workspace); the observer is
 * re-attached only when they did.
 */
export function useStageInsets(stage: RefObject<HTMLElement | null>): void {
  const watched = useRef<{ observer: ResizeObserver; elements: (Element | null)[] } | null>(null);
  useLayoutEffect(() => {
    const root = stage.current;
    if (!root) return;
    const bar = root.querySelector<HTMLElement>('.view-bar');
    const legend = root.querySelector<HTMLElement>('.legend:not(.overlay-legend)');
    const elements = [root, bar, legend];
    const current = watched.current;
    if (current?.elements.every((e, i) => e === elements[i])) return;
    current?.observer.disconnect();
    const measure = () => {
      const top = root.getBoundingClientRect().top;
      const set = (name: string, px: number | null) =>
        px === null ? root.style.removeProperty(name) : root.style.setProperty(name, `${Math.round(px)}px`);
      set('--view-bar-bottom', bar ? bar.getBoundingClientRect().bottom - top : null);
      set('--legend-height', legend ? legend.getBoundingClientRect().height : null);
    };
    measure();
    const observer = new ResizeObserver(measure);
    for (const element of elements) if (element) observer.observe(element);
    watched.current = { observer, elements };
  });
  useEffect(() => () => watched.current?.observer.disconnect(), []);
}

/**
 * Which edges of the chart dock have charts beyond them, `"right"`, `"left"`, `"both"` or null (three charts side by
 * side need more than the stage's width at 1280×720): the dock carries it as `data-more`, whose CSS fades that
 * edge, and a button there scrolls to the next chart, instead of a chart cut off in the middle.
 */
export function useDockOverflow(dock: HTMLElement | null): DockOverflow {
  const [more, setMore] = useState<DockOverflow>(null);
  useEffect(() => {
    if (!dock) {
      setMore(null);
      return;
    }
    const mark = () => {
      const left = dock.scrollLeft > 1;
      const right = dock.scrollLeft + dock.clientWidth < dock.scrollWidth - 1;
      setMore(left && right ? 'both' : left ? 'left' : right ? 'right' : null);
    };
    mark();
    const resized = new ResizeObserver(mark);
    resized.observe(dock);
    const changed = new MutationObserver(() => {
      // Charts come and go (portals): watch each one's size too.
      for (const child of dock.children) resized.observe(child);
      mark();
    });
    changed.observe(dock, { childList: true });
    for (const child of dock.children) resized.observe(child);
    dock.addEventListener('scroll', mark, { passive: true });
    return () => {
      resized.disconnect();
      changed.disconnect();
      dock.removeEventListener('scroll', mark);
    };
  }, [dock]);
  return more;
}

/** Which edges of the chart dock have charts beyond them. */
export type DockOverflow = 'left' | 'right' | 'both' | null;

/**
 * Scrolls the chart dock by one chart towards `side`: the next chart beyond that edge comes fully into view
 * (a chart is ≥ 300 px wide; three of them do not fit beside both side panels at 1280 px).
 */
export function scrollDock(dock: HTMLElement, side: 'left' | 'right'): void {
  const box = dock.getBoundingClientRect();
  const charts = [...dock.children].map((c) => c.getBoundingClientRect());
  const target =
    side === 'right' ? charts.find((c) => c.right > box.right + 1) : charts.findLast((c) => c.left < box.left - 1);
  if (!target) return;
  const by = side === 'right' ? target.right - box.right + 10 : target.left - box.left - 10;
  dock.scrollBy({ left: by, behavior: 'smooth' });
}

/**
 * The size of an element's content box (inside its padding and border), whole pixels, kept up to date as it
 * resizes; null until it has one. Things drawn to fit a box (a docked chart, a tour figure) are sized by it.
 */
export function useBoxSize(box: RefObject<HTMLElement | null>): { width: number; height: number } | null {
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => {
      const r = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      const px = (property: string) => Number.parseFloat(style.getPropertyValue(property)) || 0;
      const width =
        r.width - px('padding-left') - px('padding-right') - px('border-left-width') - px('border-right-width');
      const height =
        r.height - px('padding-top') - px('padding-bottom') - px('border-top-width') - px('border-bottom-width');
      if (width > 0 && height > 0) setSize({ width: Math.floor(width), height: Math.floor(height) });
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [box]);
  return size;
}
