import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { errorLine } from '../renderer/src/core/text';
import { UnsupportedInput } from '../renderer/src/lab/job';
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
    super(`onnxruntime-node could not ${stage} it: ${translateOrtMessage(errorLine(cause, 2000))}`);
  }
}

/** onnxruntime's error text in a user's words: what is wrong with the model, without its source-file positions. */
export function translateOrtMessage(raw: string): string {
  const custom = /(?:Fatal error: )?([\w.-]*):([\w.-]+)\((-?\d+)\) is not a registered function\/op/.exec(raw);
  if (custom) return `it uses the op ${custom[2]} of domain "${custom[1]}", which onnxruntime does not have`;
  const noOp = /Could not find an implementation for (\w+)\((\d+)\)/.exec(raw);
  if (noOp) return `onnxruntime has no implementation of ${noOp[1]} (opset ${noOp[2]}) for these types`;
  const missing = /input '([^']*)' is missing in 'feeds'/.exec(raw);
  if (missing) return `it needs the input "${missing[1]}" too; Skipscope feeds only the image`;
  // The last of nested "[ONNXRuntimeError] : 1 : FAIL : …" parts says what is wrong; the rest is how it got there.
  let text = raw.split(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/).at(-1)!;
  text = text.replace(/^Exception during initialization:\s*/, '').replace(/Load model from .*? failed:\s*/g, '');
  // Source positions (/onnxruntime_src/…/graph.cc:1555) and the function named after one.
  text = text.replace(/(?:\/[\w.+-]+)*\/?[\w.+-]+\.(?:cc|cpp|h|hpp):\d+\s*(?:[A-Z][a-z]+[A-Z]\w{6,}\s+)?/g, '');
  text = stripSignatures(text).replace(/\S+ was false\.\s*/g, '');
  // A C++ lambda's name and the failed check before the reason: "::<lambda()> adapter_result.status == Failed …".
  text = text.replace(/(?:\S*::)?<lambda\([^)]*\)>\s*(?:[\w.]+\s*==\s*)?/g, '');
  // "In Node, ("/conv1/Conv", Conv, "", -1) : (inputs) -> (outputs) , Error X": the node and X.
  const node = /In Node, \("([^"]*)", ([\w.]+), "([^"]*)", -?\d+\) : .*? , Error (.*)$/.exec(text);
  if (node)
    text = `${text.slice(0, node.index)}node "${node[1]}" (${node[2]}${node[3] ? ` of ${node[3]}` : ''}): ${node[4]}`;
  text = text.replace(/\s+/g, ' ').trim();
  return errorLine(text.length > 0 ? text : raw, 240);
}

/** Removes C++ signatures such as `void onnxruntime::Graph::Init(const std::string&) const [with T = …]`. */
function stripSignatures(text: string): string {
  for (let guard = 0; guard < 20; guard++) {
    const m = /(?:[\w:<>*&,]+ )*?(?:onnxruntime|onnx|std)::[\w:~<>]+\(/.exec(text);
    if (!m) break;
    let depth = 0;
    let i = m.index + m[0].length - 1;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) break;
    }
    const rest = text.slice(i + 1);
    const tail = /^(?: const)?(?: \[with [^\]]*\])?\s*/.exec(rest)![0];
    text = text.slice(0, m.index) + rest.slice(tail.length);
  }
  return text;
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
