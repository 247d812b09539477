import * as ort from 'onnxruntime-web';
import { errorLine } from '../core/text';

/** The only module that imports onnxruntime-web. WebGPU first, WASM fallback, and it says which one ran. */
export type Provider = 'webgpu' | 'wasm';
export type ProviderPreference = 'auto' | Provider;

export interface ProviderChoice {
  provider: Provider;
  /** Why this provider: shown in the UI next to the provider name. */
  reason: string;
}

let configured = false;

/** Points ORT at its .wasm files (served next to the app) and sizes the thread pool. Idempotent. */
export function configureRuntime(options: { wasmBase?: string } = {}): void {
  if (configured) return;
  configured = true;
  if (options.wasmBase) ort.env.wasm.wasmPaths = options.wasmBase;
  const isolated = typeof globalThis.crossOriginIsolated === 'boolean' ? globalThis.crossOriginIsolated : true;
  const cores = typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
  // Threads need SharedArrayBuffer, which browsers grant only to cross-origin-isolated pages (COOP/COEP).
  ort.env.wasm.numThreads = isolated ? Math.max(1, Math.min(4, cores)) : 1;
  ort.env.logLevel = 'error';
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown | null> };
}

/** True when this browser exposes a WebGPU adapter (a real GPU, or SwiftShader under --enable-unsafe-webgpu). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const nav = (typeof navigator !== 'undefined' ? navigator : undefined) as GpuNavigator | undefined;
  if (!nav?.gpu) return false;
  try {
    return (await nav.gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

export class ModelRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly choice: ProviderChoice,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  /** Creates a session on the preferred provider; falls back to WASM (with the reason) when WebGPU cannot run it. */
  static async create(bytes: Uint8Array, preference: ProviderPreference = 'auto'): Promise<ModelRunner> {
    configureRuntime();
    let fallbackReason = 'WebGPU not requested';
    if (preference !== 'wasm') {
      if (await hasWebGpuAdapter()) {
        try {
          const session = await ort.InferenceSession.create(bytes, {
            executionProviders: ['webgpu'],
            graphOptimizationLevel: 'all',
          });
          return ModelRunner.wrap(session, { provider: 'webgpu', reason: 'WebGPU adapter found' });
        } catch (error) {
          fallbackReason = `WebGPU failed (${errorLine(error, 200)}); using WASM`;
        }
      } else {
        fallbackReason = 'no WebGPU adapter in this browser; using WASM';
      }
    }
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      const threads = ort.env.wasm.numThreads ?? 1;
      return ModelRunner.wrap(session, {
        provider: 'wasm',
        reason: `${fallbackReason} (${threads} thread${threads === 1 ? '' : 's'})`,
      });
    } catch (error) {
      throw new Error(`onnxruntime could not load this model: ${errorLine(error, 200)}`);
    }
  }

  private static wrap(session: ort.InferenceSession, choice: ProviderChoice): ModelRunner {
    const inputName = session.inputNames[0];
    const outputName = session.outputNames[0];
    if (!inputName || !outputName) throw new Error('the model has no inputs or no outputs');
    return new ModelRunner(session, choice, inputName, outputName);
  }

  /** Runs one batch (NCHW float32) and returns the first output's values, copied off the device. */
  async run(data: Float32Array, dims: readonly number[]): Promise<{ values: Float32Array; dims: readonly number[] }> {
    const input = new ort.Tensor('float32', data, dims);
    const results = await this.session.run({ [this.inputName]: input });
    const output = results[this.outputName]!;
    try {
      const values = (await output.getData()) as Float32Array;
      return { values: Float32Array.from(values), dims: output.dims };
    } finally {
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
