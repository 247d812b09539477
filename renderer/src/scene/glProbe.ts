import { type AdapterClass, classifyAdapter } from '../core/gpu';

let probed: AdapterClass | null = null;

/**
 * The WebGL renderer the browser draws with, classified like a WebGPU adapter: a CPU rasteriser (llvmpipe,
 * SwiftShader, WARP) or a GPU. Read once, from a throwaway context that is released at once.
 */
export function webglRenderer(): AdapterClass {
  if (probed) return probed;
  probed = { kind: 'none' };
  try {
    const canvas = document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const vendor = String(gl.getParameter(info ? info.UNMASKED_VENDOR_WEBGL : gl.VENDOR) ?? '');
      const description = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
      gl.getExtension('WEBGL_lose_context')?.loseContext();
      probed = classifyAdapter({ vendor, description });
    }
  } catch {
    // No WebGL at all: the scene reports its own error when it cannot create a context.
  }
  return probed;
}

/**
 * How the 3D view draws. On a GPU: multisampling (MSAA) and physically based shading, both free there. On a CPU
 * rasteriser each costs more than the network itself (measured with llvmpipe, ResNet-1202 turning: 19 fps with MSAA,
 * 33 without; 23 fps with physically based shading, 29 with Lambert's), so MSAA is off, surfaces are shaded diffusely
 * (Lambert: no specular highlight), and a still view is drawn at `still` × the device pixel ratio instead
 * (supersampling, paid once per still frame, never while the camera moves). `?render=full` or `?render=light` in the
 * address overrides the choice.
 */
export interface RenderQuality {
  msaa: boolean;
  /** Pixel ratio multiple of a still view. */
  still: number;
  /** Lambert (diffuse) materials instead of physically based ones. */
  lambert: boolean;
}

let quality: RenderQuality | null = null;

export function renderQuality(): RenderQuality {
  if (quality) return quality;
  const forced = new URLSearchParams(globalThis.location?.search ?? '').get('render');
  const light = forced ? forced === 'light' : webglRenderer().kind === 'software';
  quality = light ? { msaa: false, still: 1.5, lambert: true } : { msaa: true, still: 1, lambert: false };
  return quality;
}
