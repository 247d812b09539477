/// <reference lib="webworker" />
/** The analysis worker: a model file is decoded and its residual structure found here, off the page's thread. */
import { type AnalyzeRequest, answer } from './analyzer';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (event: MessageEvent<AnalyzeRequest>) => {
  const { reply, transfer } = answer(event.data);
  scope.postMessage(reply, transfer);
};
