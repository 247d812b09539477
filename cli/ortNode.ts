import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { errorLine } from '../renderer/src/core/text';
import { UnsupportedInput } from '../renderer/src/lab/job';
import { translateOrtMessage } from '../renderer/src/lab/ortMessages';
import { type HostTensor, mapTensors, type Runtime, type Session } from '../renderer/src/lab/runtime';
import type { PROVIDERS } from './args';

// onnxruntime's process-wide log (before any session's own level applies, e.g. a provider library that fails to
// load) would print multi-line errors that the CLI says once, in one line, itself.
ort.env.logLevel = 'fatal';

/**
 * onnxruntime refused a model: it would not load it, or failed running it. The message is onnxruntime's, made
 * readable (`translateOrtMessage`). Whether that is bad input or Skipscope's bug is decided by who made the model
 * (cli/work.ts: the user's file, or a graph Skipscope derived from it).
 */
export class RuntimeRefusal extends Error {
  override name = 'RuntimeRefusal';
  constructor(
    readonly stage: 'load' | 'run',
    cause: unknown,
  ) {
    super(
      `onnxruntime-node could not ${stage} it: ${translateOrtMessage(cause instanceof Error ? cause.message : String(cause))}`,
    );
  }
}

/** Execution providers onnxruntime-node can be asked for by name (the list is cli/args.ts's PROVIDERS). */
export type NodeProvider = (typeof PROVIDERS)[number];

/**
 * Whether onnxruntime-node's CUDA provider is installed beside its binding (libonnxruntime_providers_cuda.so, fetched
 * with `--onnxruntime-node-install=cuda12`; README): `train` and `race` then default to it.
 */
export function cudaPresent(): boolean {
  try {
    const binding = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    const dir = join(dirname(binding), 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(
      join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'),
    );
  } catch {
    return false;
  }
}

/** The provider itself failed to start (its shared library, driver or device), not the model on it. */
function providerFailed(error: unknown): boolean {
  return /AppendExecutionProvider|providers_shared|Failed to load shared library|CUDA|cudnn|TensorRT|WebGPU adapter|No supported adapters|DirectML|CoreML/i.test(
    errorLine(error, 2000),
  );
}

/** Images per run when --batch is not given: 64 on the CPU, 256 on an accelerator. */
export const defaultBatchSize = (provider: NodeProvider = 'cpu') => (provider === 'cpu' ? 64 : 256);

/**
 * The lab's Runtime over onnxruntime-node: the CLI's engine and the tests' reference runtime.
 * `provider` other than cpu needs the matching onnxruntime-node binaries (CUDA: see the README).
 */
export function createNodeRuntime(
  options: { provider?: NodeProvider; batchSize?: number; threads?: number; fallback?: boolean } = {},
): Runtime {
  let provider = options.provider ?? 'cpu';
  const supported = ort.listSupportedBackends?.() ?? [];
  const known = supported.find((b) => b.name === provider);
  if (provider !== 'cpu' && !known)
    throw new Error(
      `onnxruntime-node has no "${provider}" provider (it knows: ${supported.map((b) => b.name).join(', ')})`,
    );
  return {
    name: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(),
    batchSize: options.batchSize ?? defaultBatchSize(provider),
    async createSession(model, sessionSettings = {}) {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        // onnxruntime's own log lines (warnings about old opsets, errors it also returns) would break the CLI's
        // one-line messages: what it refuses comes back as an error and is said once, translated.
        logSeverityLevel: 4,
        // Idle intra-op threads must not spin: the lab keeps several sessions (tails, batch sizes) side by side,
        // and spinning pools of idle sessions took the cores from the running one (measured: lesion sweeps 10 % faster).
        extra: { session: { intra_op: { allow_spinning: '0' } } },
        ...(sessionSettings.freeDimensions ? { freeDimensionOverrides: sessionSettings.freeDimensions } : {}),
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      };
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, sessionOptions);
      } catch (error) {
        // `fallback`: a provider that cannot start here (no GPU, no driver) gives way to the CPU, once for all.
        // Asked for by name, it is the user's setting that cannot be met here: bad input (exit 2), not a bug.
        if (!options.fallback && provider !== 'cpu' && providerFailed(error))
          throw new UnsupportedInput(
            `--provider ${provider}: onnxruntime-node could not start it here (${translateOrtMessage(errorLine(error, 400))}); without --provider, train and race use CUDA where its provider is installed and the CPU otherwise`,
          );
        if (!(options.fallback && provider !== 'cpu')) throw new RuntimeRefusal('load', error);
        provider = 'cpu';
        try {
          session = await ort.InferenceSession.create(model, { ...sessionOptions, executionProviders: ['cpu'] });
        } catch (again) {
          throw new RuntimeRefusal('load', again);
        }
      }
      return wrap(session, provider);
    },
  };
}

function wrap(session: ort.InferenceSession, provider: string): Session {
  return {
    provider,
    reason: provider === 'cpu' ? 'onnxruntime-node CPU' : `onnxruntime-node ${provider}`,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const inputs = mapTensors(feeds, (t) => new ort.Tensor(t.type, t.data, t.dims));
      let results: ort.InferenceSession.ReturnType;
      try {
        results = fetches ? await session.run(inputs, [...fetches]) : await session.run(inputs);
      } catch (error) {
        throw new RuntimeRefusal('run', error);
      }
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(results))
        out[name] = { type: t.type as HostTensor['type'], data: t.data as HostTensor['data'], dims: t.dims };
      return out;
    },
    release: () => session.release(),
  };
}
