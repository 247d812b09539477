/// <reference lib="webworker" />
/**
 * The lab worker: experiments run here on onnxruntime-web (WebGPU, else WASM threads), so the page stays
 * responsive. This file is only the glue: the message loop is dispatch.ts, the methods handlers.ts.
 */
import { decodeImageBlob } from '../data/browserDecode';
import { configureOrt, createWebRuntime } from '../runtime/ortWeb';
import { createDispatcher } from './dispatch';
import { createLabHandlers } from './handlers';
import type { LabRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handlers = createLabHandlers({
  createRuntime: createWebRuntime,
  decodeImage: (bytes, name) => decodeImageBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]), name),
  configure: (wasmBase) => configureOrt({ wasmBase }),
  // Only a page opened with ?lab-faults starts its worker under this name (client.ts startLabWorker).
  faults: scope.name.includes('faults'),
});
const dispatch = createDispatcher(handlers, (reply, transfer = []) => scope.postMessage(reply, transfer));
scope.onmessage = (event: MessageEvent<LabRequest>) => void dispatch(event.data);
