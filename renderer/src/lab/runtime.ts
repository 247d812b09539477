/**
 * The one interface every experiment runs on. Implementations: onnxruntime-web inside the lab worker
 * (runtime/ortWeb.ts: WebGPU, else WASM threads) and onnxruntime-node for the CLI and tests (cli/ortNode.ts).
 * Feeds and fetches are named, any number of each; tensors cross the interface as host (CPU) arrays.
 */
import type { RuntimeType } from '../core/onnx/dtypes';

export type TensorArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

export interface HostTensor {
  type: RuntimeType;
  data: TensorArray;
  dims: readonly number[];
}

export interface SessionInfo {
  /** The execution provider that really runs this session, e.g. 'webgpu', 'wasm', 'cpu', 'cuda'. */
  provider: string;
  /** Why this provider (shown next to its name). */
  reason: string;
}

export interface Session extends SessionInfo {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the graph; returns the requested outputs (all when `fetches` is omitted) in host memory, each in an array
   * of its own that the runtime does not touch again.
   */
  run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /**
   * Values for symbolic dimensions (e.g. { N: 32 }): a graph with static shapes runs markedly faster on
   * onnxruntime-web (measured: resnet56 batch 1 on WASM, 73 → 140 images/s); feeds must then match exactly.
   */
  freeDimensions?: Record<string, number>;
}

export interface Runtime {
  /** e.g. 'onnxruntime-web 1.30.0' or 'onnxruntime-node 1.30.0'. */
  readonly name: string;
  /** Creates a session for ONNX model bytes on the runtime's preferred provider (falling back as it can). */
  createSession(model: Uint8Array, options?: SessionOptions): Promise<Session>;
  /** A good batch size for image experiments on this runtime. */
  readonly batchSize: number;
}

/** Where each runtime's last sessionForProvider session landed: whether it was WebGPU. */
const landedOnWebgpu = new WeakMap<Runtime, boolean>();

/**
 * A session of the graph `build(false)` makes; where it lands on WebGPU, of `build(true)` instead: a graph written
 * in a form onnxruntime-web's WebGPU computes right (the weight gradients' patches channel plane by channel plane,
 * core/ops/types.ts planePatches), which the CPU providers run slower. Which provider a session gets is known only
 * once it exists, so the first graph built is the form that fitted the runtime's last such session; when the
 * provider differs, the other form is built and placed again. The CPU form never ends on WebGPU (wrong numbers
 * there); the WebGPU form may end on the CPU after a fallback (right, only slower). At most three sessions.
 */
export async function sessionForProvider<G>(
  runtime: Runtime,
  build: (webgpu: boolean) => { graph: G; model: Uint8Array; options?: SessionOptions },
): Promise<{ graph: G; session: Session }> {
  let form = landedOnWebgpu.get(runtime) ?? false;
  for (let attempt = 0; ; attempt++) {
    const built = build(form);
    const session = await runtime.createSession(built.model, built.options);
    const webgpu = session.provider === 'webgpu';
    if (webgpu === form || (form && attempt > 0)) {
      landedOnWebgpu.set(runtime, webgpu);
      return { graph: built.graph, session };
    }
    await session.release();
    form = webgpu;
  }
}

/** A float32 host tensor. */
export function float32(data: Float32Array, dims: readonly number[]): HostTensor {
  return { type: 'float32', data, dims };
}

/** A runtime's own tensor objects for named host tensors (onnxruntime-web and -node each have a Tensor class). */
export function mapTensors<T>(tensors: Record<string, HostTensor>, make: (t: HostTensor) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, make(t)]));
}
