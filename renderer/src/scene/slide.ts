/** A slide export of the whole network: framed on it (not on the camera), at a chosen aspect and size. */
export interface SlideOptions {
  width: number;
  height: number;
  /** Transparent background (PNG alpha; SVG with no background rectangle), else the theme's background. */
  transparent: boolean;
}

/** The slide as PNG, and as SVG (the rendered scene as an image, the labels as real text on top). */
export interface Slide {
  png: Blob;
  svg: string;
  width: number;
  height: number;
}

/** Aspects offered for slides. */
export const SLIDE_ASPECTS = { '16:9': 16 / 9, '4:3': 4 / 3, square: 1 } as const;
export type SlideAspect = keyof typeof SLIDE_ASPECTS;

/** The slide's pixel size for an aspect and a width. */
export function slideSize(aspect: SlideAspect, width: number): { width: number; height: number } {
  return { width, height: Math.round(width / SLIDE_ASPECTS[aspect]) };
}

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** An SVG holding the rendered scene (a PNG data URL) with labels as text, so slides keep crisp, editable text. */
export function slideSvg(
  pngDataUrl: string,
  size: { width: number; height: number },
  labels: readonly { text: string; x: number; y: number; font: string; px: number; color: string; back: string }[],
): string {
  const text = labels
    .map((l) => {
      const w = l.text.length * l.px * 0.58 + l.px * 0.6;
      const h = l.px * 1.35;
      return `<g><rect x="${(l.x - w / 2).toFixed(1)}" y="${(l.y - h / 2).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" rx="${(l.px / 4).toFixed(1)}" fill="${escapeXml(l.back)}"/><text x="${l.x.toFixed(1)}" y="${l.y.toFixed(1)}" font-family="${escapeXml(l.font)}" font-size="${l.px.toFixed(1)}" fill="${escapeXml(l.color)}" text-anchor="middle" dominant-baseline="central">${escapeXml(l.text)}</text></g>`;
    })
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${size.width}" height="${size.height}" viewBox="0 0 ${size.width} ${size.height}"><image width="${size.width}" height="${size.height}" href="${pngDataUrl}"/>${text}</svg>\n`;
}
