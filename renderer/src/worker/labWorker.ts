/// <reference lib="webworker" />
/**
 * The lab worker: experiments run here on onnxruntime-web (WebGPU, else WASM threads), so the page stays
 * responsive. This file is only the message glue; the methods live in handlers.ts.
 */
import { decodeImageBlob } from '../data/browserDecode';
import { trackProgress } from '../lab/job';
import { configureOrt, createWebRuntime } from '../runtime/ortWeb';
import { createLabHandlers } from './handlers';
import type { LabReply, LabRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handlers = createLabHandlers({
  createRuntime: createWebRuntime,
  decodeImage: (bytes, name) => decodeImageBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]), name),
  configure: (wasmBase) => configureOrt({ wasmBase }),
});
const running = new Map<number, AbortController>();

const post = (reply: LabReply, transfer: Transferable[] = []) => scope.postMessage(reply, transfer);

scope.onmessage = async (event: MessageEvent<LabRequest>) => {
  const request = event.data;
  if (request.kind === 'cancel') {
    running.get(request.id)?.abort();
    return;
  }
  const { id, method, params } = request;
  const controller = new AbortController();
  running.set(id, controller);
  const job = trackProgress(controller.signal, (progress) => post({ kind: 'progress', id, progress }));
  try {
    const handler = handlers[method] as (p: unknown, j: typeof job) => Promise<unknown>;
    const value = await handler(params, job);
    post({ kind: 'done', id, value }, transferables(value));
  } catch (error) {
    const cancelled = error instanceof Error && error.name === 'CancelledError';
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    post({ kind: 'failed', id, message, cancelled });
  } finally {
    running.delete(id);
  }
};

/** Large typed arrays in a result move to the page instead of being copied. */
function transferables(value: unknown): Transferable[] {
  if (!value || typeof value !== 'object') return [];
  const out: Transferable[] = [];
  for (const v of Object.values(value))
    if (ArrayBuffer.isView(v) && v.byteLength > 4096) out.push(v.buffer as ArrayBuffer);
  return [...new Set(out)];
}
