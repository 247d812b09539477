import type { AdapterFacts } from '../core/gpu';

// The pure classification lives in core (the 3D view uses it for WebGL too); the WebGPU side of it stays here.
export { type AdapterClass, type AdapterFacts, classifyAdapter } from '../core/gpu';

/** The parts of a GPUAdapter read here (no @webgpu/types in this project). */
export interface GpuAdapterLike {
  info?: AdapterFacts;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<AdapterFacts>;
}

/** The facts of an adapter: its `info` where the browser has it, else `requestAdapterInfo()`, else none. */
export async function adapterFacts(adapter: GpuAdapterLike): Promise<AdapterFacts> {
  let info: AdapterFacts | undefined = adapter.info;
  if (!info && typeof adapter.requestAdapterInfo === 'function')
    info = await adapter.requestAdapterInfo().catch(() => undefined);
  return {
    isFallbackAdapter: info?.isFallbackAdapter ?? adapter.isFallbackAdapter,
    vendor: info?.vendor,
    architecture: info?.architecture,
    device: info?.device,
    description: info?.description,
  };
}
