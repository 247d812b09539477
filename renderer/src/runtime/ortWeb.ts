import * as ort from 'onnxruntime-web';
import { errorLine } from '../core/text';
import type { HostTensor, Runtime, Session } from '../lab/runtime';

/**
 * The lab's Runtime over onnxruntime-web, the only module that imports it. WebGPU first when the browser has an
 * adapter, WASM (threads when cross-origin isolated) otherwise or when WebGPU cannot run a graph; every session
 * says which provider really runs it and why. Runs inside the lab worker in the app, and in Node for tests.
 */
export type Provider = 'webgpu' | 'wasm';
export type ProviderPreference = 'auto' | Provider;

let configured = false;

/** Points ORT at its .wasm files (served next to the app) and sizes the thread pool. Idempotent. */
export function configureOrt(options: { wasmBase?: string; threads?: number } = {}): void {
  if (configured) return;
  configured = true;
  if (options.wasmBase) ort.env.wasm.wasmPaths = options.wasmBase;
  const isolated = typeof globalThis.crossOriginIsolated === 'boolean' ? globalThis.crossOriginIsolated : true;
  const cores = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
  // Threads need SharedArrayBuffer, which browsers grant only to cross-origin-isolated pages (COOP/COEP).
  ort.env.wasm.numThreads = isolated ? Math.max(1, Math.min(options.threads ?? 4, cores)) : 1;
  ort.env.logLevel = 'error';
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown | null> };
}

/** True when this browser (page or worker) exposes a WebGPU adapter (a GPU, or SwiftShader in tests). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const nav = (typeof navigator !== 'undefined' ? navigator : undefined) as GpuNavigator | undefined;
  if (!nav?.gpu) return false;
  try {
    return (await nav.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

export function createWebRuntime(preference: ProviderPreference = 'auto'): Runtime {
  configureOrt();
  let adapter: Promise<boolean> | null = null;
  return {
    name: `onnxruntime-web ${ort.env.versions?.web ?? ''}`.trim(),
    batchSize: 32,
    async createSession(model) {
      let fallback = 'WebGPU not requested';
      if (preference !== 'wasm') {
        adapter ??= hasWebGpuAdapter();
        if (await adapter) {
          try {
            const session = await ort.InferenceSession.create(model, {
              executionProviders: ['webgpu'],
              graphOptimizationLevel: 'all',
            });
            return wrap(session, 'webgpu', 'WebGPU adapter found');
          } catch (error) {
            fallback = `WebGPU failed (${errorLine(error, 200)}); using WASM`;
          }
        } else fallback = 'no WebGPU adapter in this browser; using WASM';
      }
      try {
        const session = await ort.InferenceSession.create(model, {
          executionProviders: ['wasm'],
          graphOptimizationLevel: 'all',
        });
        const threads = ort.env.wasm.numThreads ?? 1;
        return wrap(session, 'wasm', `${fallback} (${threads} thread${threads === 1 ? '' : 's'})`);
      } catch (error) {
        throw new Error(`onnxruntime could not load this model: ${errorLine(error, 200)}`);
      }
    },
  };
}

function wrap(session: ort.InferenceSession, provider: Provider, reason: string): Session {
  return {
    provider,
    reason,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.type, t.data, t.dims);
      const results = fetches ? await session.run(inputs, [...fetches]) : await session.run(inputs);
      try {
        const out: Record<string, HostTensor> = {};
        for (const [name, t] of Object.entries(results)) {
          // Copy off the device (or out of WASM memory) before the tensor is disposed.
          const data = (await t.getData()) as HostTensor['data'];
          out[name] = { type: t.type as HostTensor['type'], data: data.slice() as HostTensor['data'], dims: t.dims };
        }
        return out;
      } finally {
        for (const t of Object.values(results)) t.dispose();
      }
    },
    release: () => session.release(),
  };
}
