import type { ProviderPreference } from '../core/catalog';
import { errorLine } from '../core/text';
import { translateOrtMessage } from '../lab/ortMessages';
import { type HostTensor, mapTensors, type Runtime, type Session, type SessionOptions } from '../lab/runtime';
import { type AdapterClass, adapterFacts, classifyAdapter, type GpuAdapterLike } from './adapter';

/**
 * The lab's Runtime over onnxruntime-web, the only module that imports it. Under Auto, WebGPU when the browser
 * has a hardware adapter, WASM threads otherwise (no adapter, a software one such as SwiftShader — see
 * chooseProvider) or when WebGPU cannot run a graph; every session says which provider really runs it and why. Runs in the lab worker in the app, and in Node for tests.
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
    // Threads need SharedArrayBuffer, which browsers grant only to cross-origin-isolated pages (COOP/COEP). See
    // wasmThreads for how many.
    ort.env.wasm.numThreads = isolated ? wasmThreads(cores, settings.threads) : 1;
    ort.env.logLevel = 'error';
    return ort;
  });
  return loaded[provider];
}

/**
 * WASM threads for a machine with `cores` cores, at most `max` (default 4): every core of a 2-core machine, else one
 * left to the page (React, three.js) and the rest of the machine. Measured with scripts/bench-wasm-options.ts
 * (resnet56 in a Chromium worker, images/s at batch 1 / 8 / 32): on an idle 2-core machine 2 threads gave 44–64 /
 * 84–139 / 102–170 against one thread's 73–79 / 76–83 / 81–87 (three runs), so batch work (lesion studies,
 * evaluation) runs up to twice as fast and a single image a few ms slower. With the same cores loaded 8–14 deep by
 * other jobs, one thread won (27–33 / 16–38 / 18–25 against 7–8 / 14–18 / 13–24): a pool's threads wait on each
 * other after every small op when the cores are not theirs. A lecturer's or student's laptop is the idle case.
 */
export function wasmThreads(cores: number, max = 4): number {
  return Math.max(1, Math.min(max, cores <= 2 ? cores : cores - 1));
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<(GpuAdapterLike & object) | null> };
}

/** The browser's WebGPU adapter (asked once per worker) and what kind it is. */
export interface WebGpuProbe {
  adapter: object | null;
  adapterClass: AdapterClass;
}
let probe: Promise<WebGpuProbe> | null = null;

/** Asks this browser (page or worker) for its WebGPU adapter once, and classifies it (runtime/adapter.ts). */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probe ??= (async () => {
    const nav = (typeof navigator !== 'undefined' ? navigator : undefined) as GpuNavigator | undefined;
    const none = { adapter: null, adapterClass: { kind: 'none' as const } };
    if (!nav?.gpu) return none;
    try {
      const adapter = await nav.gpu.requestAdapter();
      if (!adapter) return none;
      return { adapter, adapterClass: classifyAdapter(await adapterFacts(adapter)) };
    } catch {
      return none;
    }
  })();
  return probe;
}

/** True when this browser (page or worker) exposes a WebGPU adapter (a GPU, or SwiftShader in tests). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  return (await probeWebGpu()).adapter !== null;
}

/**
 * The provider rule: WASM when asked; WebGPU when asked and there is any adapter (software ones included: the
 * user chose it); under Auto, WebGPU only on a hardware adapter — a fallback or software adapter (SwiftShader)
 * emulates the GPU on the CPU, slower than the WASM build, so Auto runs WASM and says why. `{threads}` in a
 * reason stands for WASM's thread count.
 */
export function chooseProvider(
  preference: ProviderPreference,
  adapterClass: AdapterClass,
): { provider: Provider; reason: string } {
  if (preference === 'wasm') return { provider: 'wasm', reason: 'WebGPU not requested ({threads})' };
  if (adapterClass.kind === 'none')
    return { provider: 'wasm', reason: 'no WebGPU adapter in this browser; using WASM ({threads})' };
  if (preference === 'webgpu')
    return {
      provider: 'webgpu',
      reason:
        adapterClass.kind === 'software'
          ? `WebGPU chosen on a software adapter (${adapterClass.name}): the GPU is emulated on the CPU`
          : `WebGPU chosen (${adapterClass.name})`,
    };
  if (adapterClass.kind === 'software')
    return {
      provider: 'wasm',
      reason: `the only WebGPU adapter is software (${adapterClass.name}), so Auto uses WASM ({threads}); choose WebGPU to force it`,
    };
  return { provider: 'webgpu', reason: `WebGPU adapter found (${adapterClass.name})` };
}

export function createWebRuntime(preference: ProviderPreference = 'auto'): Runtime {
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
      const found = preference === 'wasm' ? null : await probeWebGpu();
      let { provider, reason } = chooseProvider(preference, found?.adapterClass ?? { kind: 'none' });
      if (provider === 'webgpu' && found?.adapter) {
        const ort = await ortFor('webgpu');
        // The adapter classified above is the one ORT creates its device on (set before its first WebGPU session).
        if (!ort.env.webgpu.adapter) (ort.env.webgpu as { adapter: unknown }).adapter = found.adapter;
        try {
          const session = await ort.InferenceSession.create(model, {
            ...sessionOptions,
            executionProviders: ['webgpu'],
          });
          return wrap(ort, session, 'webgpu', reason);
        } catch (error) {
          reason = `WebGPU failed (${errorLine(error, 200)}); using WASM ({threads})`;
        }
      }
      const ort = await ortFor('wasm');
      try {
        const session = await ort.InferenceSession.create(model, { ...sessionOptions, executionProviders: ['wasm'] });
        const threads = ort.env.wasm.numThreads ?? 1;
        return wrap(ort, session, 'wasm', reason.replace('{threads}', `${threads} thread${threads === 1 ? '' : 's'}`));
      } catch (error) {
        throw new Error(`onnxruntime could not load this model: ${translateOrtMessage(rawMessage(error))}`);
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
      let results: import('onnxruntime-web').InferenceSession.ReturnType;
      try {
        results = fetches ? await session.run(inputs, [...fetches]) : await session.run(inputs);
      } catch (error) {
        // In our words, as the CLI says them ("its input … has a fixed size …"); onnxruntime's first line alone
        // said neither the axis nor the size.
        throw new Error(`onnxruntime could not run this model: ${translateOrtMessage(rawMessage(error))}`);
      }
      try {
        const out: Record<string, HostTensor> = {};
        for (const [name, t] of Object.entries(results)) {
          // Outputs arrive in host memory (no preferredOutputLocation is set): onnxruntime-web copies each one out of
          // WASM memory or off the GPU into a typed array of its own, which dispose() lets go of without touching.
          // So the array is ours as it is; a second copy cost ~250 MB per Evaluate of resnet56 (its recorded blocks).
          out[name] = {
            type: t.type as HostTensor['type'],
            data: (await t.getData()) as HostTensor['data'],
            dims: t.dims,
          };
        }
        return out;
      } finally {
        for (const t of Object.values(results)) t.dispose();
      }
    },
    release: () => session.release(),
  };
}

/** An error's whole message, every line: translateOrtMessage reads what follows onnxruntime's first line too. */
function rawMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
