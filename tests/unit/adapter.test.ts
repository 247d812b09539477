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
