import type { ProviderPreference } from '../core/catalog';
import { errorLine } from '../core/text';
import { type HostTensor, mapTensors, type Runtime, type Session, type SessionOptions } from '../lab/runtime';

/**
 * The lab's Runtime over onnxruntime-web, the only module that imports it. WebGPU when the browser has an
 * adapter (and the user allows it), WASM threads otherwise or when WebGPU cannot run a graph; every session says
 * which provider really runs it and why. Runs in the lab worker in the app, and in Node for tests.
 *
 * Two builds of ORT, loaded on demand: WASM sessions use the plain build, WebGPU sessions the JSEP build. The
 * JSEP build's WebAssembly is compiled with Asyncify, which slows every CPU kernel: measured in Chromium on
 * resnet56 with 2 threads, 24 vs 51 images/s at batch 1 and 113 vs 147 at batch 32 (plain build faster).
 */
export type Provider = 'webgpu' | 'wasm';
type Ort = typeof import('onnxruntime-web');

/** Node (the tests) has no WebGPU and gets onnxruntime-web's own Node build from the main export. */
const inNode = typeof process !== 'undefined' && !!process.versions?.node;
const loaders: Record<Provider, () => Promise<Ort>> = {
  wasm: () => (inNode ? import('onnxruntime-web') : import('onnxruntime-web/wasm')),
  webgpu: () => import('onnxruntime-web'),
};
const loaded: Partial<Record<Provider, Promise<Ort>>> = {};
let settings: { wasmBase?: string; threads?: number } = {};

/** Where ORT's .wasm files are served and how many threads WASM may use; applies to builds loaded later. */
export function configureOrt(options: { wasmBase?: string; threads?: number } = {}): void {
  settings = { ...settings, ...options };
}

function ortFor(provider: Provider): Promise<Ort> {
  loaded[provider] ??= loaders[provider]().then((ort) => {
    if (settings.wasmBase) ort.env.wasm.wasmPaths = settings.wasmBase;
    const isolated = typeof globalThis.crossOriginIsolated === 'boolean' ? globalThis.crossOriginIsolated : true;
    const cores = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
    // Threads need SharedArrayBuffer, which browsers grant only to cross-origin-isolated pages (COOP/COEP). One
    // core is left to the page (React, three.js) and everything else on the machine: on 2 cores a pool of 2 lost
    // to 1 thread at every batch size (scripts/bench-wasm-options.ts, resnet56 in a Chromium worker: 7 vs 27
    // images/s at batch 1, 13 vs 18 at batch 32), its threads waiting on each other after every small op.
    ort.env.wasm.numThreads = isolated ? wasmThreads(cores, settings.threads) : 1;
    ort.env.logLevel = 'error';
    return ort;
  });
  return loaded[provider];
}

/** WASM threads for a machine with `cores` cores: one left free, at most `max` (default 4), at least 1. */
export function wasmThreads(cores: number, max = 4): number {
  return Math.max(1, Math.min(max, cores - 1));
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
  let adapter: Promise<boolean> | null = null;
  return {
    name: 'onnxruntime-web',
    batchSize: 32,
    async createSession(model, options: SessionOptions = {}) {
      const sessionOptions = {
        graphOptimizationLevel: 'all' as const,
        // Idle intra-op threads must not spin: the lab keeps several sessions (tails, batch sizes) side by side.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
        ...(options.freeDimensions ? { freeDimensionOverrides: options.freeDimensions } : {}),
      };
      let fallback = 'WebGPU not requested';
      if (preference !== 'wasm') {
        adapter ??= hasWebGpuAdapter();
        if (await adapter) {
          const ort = await ortFor('webgpu');
          try {
            const session = await ort.InferenceSession.create(model, {
              ...sessionOptions,
              executionProviders: ['webgpu'],
            });
            return wrap(ort, session, 'webgpu', 'WebGPU adapter found');
          } catch (error) {
            fallback = `WebGPU failed (${errorLine(error, 200)}); using WASM`;
          }
        } else fallback = 'no WebGPU adapter in this browser; using WASM';
      }
      const ort = await ortFor('wasm');
      try {
        const session = await ort.InferenceSession.create(model, { ...sessionOptions, executionProviders: ['wasm'] });
        const threads = ort.env.wasm.numThreads ?? 1;
        return wrap(ort, session, 'wasm', `${fallback} (${threads} thread${threads === 1 ? '' : 's'})`);
      } catch (error) {
        throw new Error(`onnxruntime could not load this model: ${errorLine(error, 200)}`);
      }
    },
  };
}

function wrap(
  ort: Ort,
  session: import('onnxruntime-web').InferenceSession,
  provider: Provider,
  reason: string,
): Session {
  return {
    provider,
    reason,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const inputs = mapTensors(feeds, (t) => new ort.Tensor(t.type, t.data, t.dims));
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
