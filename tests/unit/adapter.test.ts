import { describe, expect, it } from 'vitest';
import { adapterFacts, classifyAdapter } from '../../renderer/src/runtime/adapter';
import { chooseProvider } from '../../renderer/src/runtime/ortWeb';

/** What Chromium reports for its SwiftShader WebGPU adapter (--enable-unsafe-webgpu on a machine without a GPU). */
const SWIFTSHADER = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: '',
  description: 'SwiftShader Device (Subzero)',
  isFallbackAdapter: true,
};

describe('WebGPU adapter classification and the provider rule', () => {
  it('software: a fallback adapter, SwiftShader by any of its names, llvmpipe/lavapipe, WARP', () => {
    expect(classifyAdapter(SWIFTSHADER)).toEqual({ kind: 'software', name: 'SwiftShader' });
    expect(classifyAdapter({ vendor: 'google', architecture: 'swiftshader' })).toEqual({
      kind: 'software',
      name: 'SwiftShader',
    });
    expect(classifyAdapter({ description: 'Google SwiftShader' }).kind).toBe('software');
    expect(classifyAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toEqual({
      kind: 'software',
      name: 'llvmpipe',
    });
    expect(classifyAdapter({ description: 'Microsoft Basic Render Driver' }).kind).toBe('software');
    // A fallback adapter whose names say nothing is still software.
    expect(classifyAdapter({ vendor: 'acme', isFallbackAdapter: true })).toEqual({
      kind: 'software',
      name: 'a fallback adapter',
    });
  });

  it('hardware: a GPU that is not a fallback adapter (empty names too); none: no adapter', () => {
    expect(
      classifyAdapter({
        vendor: 'nvidia',
        architecture: 'ada',
        description: 'NVIDIA RTX 4070',
        isFallbackAdapter: false,
      }),
    ).toEqual({ kind: 'hardware', name: 'nvidia NVIDIA RTX 4070' });
    expect(classifyAdapter({ vendor: 'apple', architecture: 'metal-3' })).toEqual({
      kind: 'hardware',
      name: 'apple metal-3',
    });
    // Browsers may hide every name (privacy): still a GPU unless it says it is a fallback.
    expect(classifyAdapter({ vendor: '', architecture: '', description: '' })).toEqual({
      kind: 'hardware',
      name: 'a GPU',
    });
    expect(classifyAdapter(null)).toEqual({ kind: 'none' });
    expect(classifyAdapter(undefined)).toEqual({ kind: 'none' });
  });

  it('reads adapter.info, else requestAdapterInfo(), else the adapter’s own isFallbackAdapter', async () => {
    expect(classifyAdapter(await adapterFacts({ info: SWIFTSHADER })).kind).toBe('software');
    expect(classifyAdapter(await adapterFacts({ requestAdapterInfo: async () => SWIFTSHADER })).kind).toBe('software');
    expect(classifyAdapter(await adapterFacts({ isFallbackAdapter: true, info: { vendor: 'x' } })).kind).toBe(
      'software',
    );
    expect(classifyAdapter(await adapterFacts({ info: { vendor: 'amd', architecture: 'rdna-3' } })).kind).toBe(
      'hardware',
    );
    const failing = { requestAdapterInfo: () => Promise.reject(new Error('no')) };
    expect(classifyAdapter(await adapterFacts(failing))).toEqual({ kind: 'hardware', name: 'a GPU' });
  });

  it('Auto never picks a software adapter and says why in one line; a chosen WebGPU uses any adapter', () => {
    const software = classifyAdapter(SWIFTSHADER);
    const gpu = classifyAdapter({ vendor: 'nvidia', description: 'RTX' });
    const none = classifyAdapter(null);
    const auto = chooseProvider('auto', software);
    expect(auto.provider).toBe('wasm');
    expect(auto.reason).toBe(
      'the only WebGPU adapter is software (SwiftShader), so Auto uses WASM ({threads}); choose WebGPU to force it',
    );
    expect(chooseProvider('auto', gpu)).toEqual({ provider: 'webgpu', reason: 'WebGPU adapter found (nvidia RTX)' });
    expect(chooseProvider('auto', none).provider).toBe('wasm');
    expect(chooseProvider('webgpu', software).provider).toBe('webgpu');
    expect(chooseProvider('webgpu', software).reason).toContain('software adapter (SwiftShader)');
    expect(chooseProvider('webgpu', gpu).provider).toBe('webgpu');
    expect(chooseProvider('webgpu', none).provider).toBe('wasm');
    expect(chooseProvider('wasm', gpu).provider).toBe('wasm');
    for (const p of ['auto', 'webgpu', 'wasm'] as const)
      for (const c of [software, gpu, none]) expect(chooseProvider(p, c).reason).not.toMatch(/\n/);
  });
});

describe('the WebGL renderer strings the 3D view classifies (scene/glProbe.ts, WEBGL_debug_renderer_info)', () => {
  it("ANGLE's unmasked renderer names the CPU rasterisers and the GPUs", () => {
    // Debian's Chromium with --use-gl=angle --use-angle=gl-egl on a machine without a GPU (this one).
    expect(
      classifyAdapter({
        vendor: 'Google Inc. (Mesa)',
        description: 'ANGLE (Mesa, llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5)',
      }),
    ).toEqual({ kind: 'software', name: 'llvmpipe' });
    expect(
      classifyAdapter({
        vendor: 'Google Inc. (Google)',
        description: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
      }),
    ).toEqual({ kind: 'software', name: 'SwiftShader' });
    expect(
      classifyAdapter({
        vendor: 'Google Inc. (Microsoft)',
        description: 'ANGLE (Microsoft, Microsoft Basic Render Driver (0x0000008C) Direct3D11 vs_5_0 ps_5_0, D3D11)',
      }).kind,
    ).toBe('software');
    expect(
      classifyAdapter({
        vendor: 'Google Inc. (NVIDIA)',
        description: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002504) Direct3D11 vs_5_0 ps_5_0, D3D11)',
      }).kind,
    ).toBe('hardware');
    expect(classifyAdapter({ vendor: 'Apple', description: 'Apple M2' }).kind).toBe('hardware');
  });
});
