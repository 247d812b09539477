/**
 * Which GPU the browser offers, as Auto sees it (a WebGPU adapter) and as the 3D view sees it (the WebGL renderer,
 * scene/glProbe.ts): none, a software one (a fallback adapter, SwiftShader and its kin: the GPU emulated on the CPU,
 * slower than the WASM build), or a hardware GPU. Pure: the facts come from GPUAdapterInfo (`adapter.info`, or
 * `requestAdapterInfo()` in older browsers) or WebGL's unmasked vendor and renderer strings.
 */
export interface AdapterFacts {
  /** GPUAdapterInfo.isFallbackAdapter (older browsers: GPUAdapter.isFallbackAdapter). */
  isFallbackAdapter?: boolean | undefined;
  vendor?: string | undefined;
  architecture?: string | undefined;
  device?: string | undefined;
  description?: string | undefined;
}

export type AdapterClass =
  | { kind: 'none' }
  /** `name`: what to call it in one line, e.g. "SwiftShader". */
  | { kind: 'software'; name: string }
  | { kind: 'hardware'; name: string };

/** CPU renderers that stand in for a GPU, by the names they report (vendor, architecture, device, description). */
const SOFTWARE_RENDERERS: [RegExp, string][] = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/microsoft basic render|\bwarp\b/i, 'WARP'],
];

export function classifyAdapter(facts: AdapterFacts | null | undefined): AdapterClass {
  if (!facts) return { kind: 'none' };
  const names = [facts.vendor, facts.architecture, facts.device, facts.description].filter(
    (s): s is string => typeof s === 'string' && s.trim() !== '',
  );
  for (const [pattern, name] of SOFTWARE_RENDERERS)
    if (names.some((s) => pattern.test(s))) return { kind: 'software', name };
  if (facts.isFallbackAdapter === true) return { kind: 'software', name: 'a fallback adapter' };
  const vendor = facts.vendor?.trim();
  const detail = (facts.description || facts.architecture || '').trim();
  return { kind: 'hardware', name: [vendor, detail].filter(Boolean).join(' ') || 'a GPU' };
}
