import * as ort from 'onnxruntime-node';
import { type HostTensor, mapTensors, type Runtime, type Session } from '../renderer/src/lab/runtime';
import type { PROVIDERS } from './args';

/** Execution providers onnxruntime-node can be asked for by name (the list is cli/args.ts's PROVIDERS). */
export type NodeProvider = (typeof PROVIDERS)[number];

/**
 * The lab's Runtime over onnxruntime-node: the CLI's engine and the tests' reference runtime.
 * `provider` other than cpu needs the matching onnxruntime-node binaries (CUDA: see the README).
 */
export function createNodeRuntime(
  options: { provider?: NodeProvider; batchSize?: number; threads?: number } = {},
): Runtime {
  const provider = options.provider ?? 'cpu';
  const supported = ort.listSupportedBackends?.() ?? [];
  const known = supported.find((b) => b.name === provider);
  if (provider !== 'cpu' && !known)
    throw new Error(
      `onnxruntime-node has no "${provider}" provider (it knows: ${supported.map((b) => b.name).join(', ')})`,
    );
  return {
    name: `onnxruntime-node ${ort.env.versions?.common ?? ''}`.trim(),
    batchSize: options.batchSize ?? (provider === 'cpu' ? 64 : 256),
    async createSession(model, sessionSettings = {}) {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
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
        throw new Error(
          `onnxruntime-node could not load this model: ${String((error as Error)?.message ?? error).split('\n')[0]}`,
        );
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
      const results = fetches ? await session.run(inputs, [...fetches]) : await session.run(inputs);
      const out: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(results))
        out[name] = { type: t.type as HostTensor['type'], data: t.data as HostTensor['data'], dims: t.dims };
      return out;
    },
    release: () => session.release(),
  };
}
