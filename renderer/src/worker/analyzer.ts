/**
 * Reading a model file off the page's thread. Decoding the protobuf, finding the residual structure and splitting
 * each block into its ops take a few hundred milliseconds for the deepest networks (ResNet-1202: ~0.25 s of a 0.5 s
 * freeze; a 12,000-node graph ~0.6 s). Here that work runs in its own worker; the page gets the analysis back as
 * data. The same `answer` runs in the worker (analyzeWorker.ts) and, through a real structured clone, in the Node
 * store harness. (A worker is no shield against a file that exhausts memory: Chromium runs dedicated workers in the
 * page's process, and V8's out-of-memory crash takes the tab down with it, checked. The decoder's own limits are.)
 */
import { type BlockParts, blockParts } from '../core/layout/parts';
import { ModelError } from '../core/onnx/model';
import { type Analysis, analyzeModel } from '../core/summary';
import { errorLine } from '../core/text';

/** A model file as the page draws it: its analysis and each block's ops. */
export interface Analyzed {
  analysis: Analysis;
  parts: BlockParts[];
  /** The file's bytes, a copy for the lab worker (the analysis keeps zero-copy views into its own). */
  copy: ArrayBuffer;
}

export interface AnalyzeRequest {
  id: number;
  name: string;
  /** Handed over: the analysis comes back with views into it. */
  bytes: ArrayBuffer;
  /** The image side for a file that leaves it open; absent: Skipscope's choice (core/rewrite/inputSize.ts). */
  side?: number | null;
}

export type AnalyzeReply =
  | { id: number; ok: true; analyzed: Analyzed }
  /** `model`: the file was refused (ModelError), as opposed to a bug of ours. */
  | { id: number; ok: false; message: string; model: boolean };

/** The worker's side of one request: the reply and what it hands back (the bytes the analysis views, the copy). */
export function answer(request: AnalyzeRequest): { reply: AnalyzeReply; transfer: ArrayBuffer[] } {
  try {
    const analysis = analyzeModel(new Uint8Array(request.bytes), request.name, undefined, request.side ?? null);
    const parts = blockParts(analysis.model, analysis.topology);
    const copy = request.bytes.slice(0);
    return {
      reply: { id: request.id, ok: true, analyzed: { analysis, parts, copy } },
      transfer: [request.bytes, copy],
    };
  } catch (error) {
    return {
      reply: { id: request.id, ok: false, message: errorLine(error), model: error instanceof ModelError },
      transfer: [],
    };
  }
}

/** What the client needs of a Worker (the Node harness hands it an in-process stand-in). */
export type AnalyzeWorker = Pick<Worker, 'postMessage' | 'addEventListener' | 'terminate'>;

export interface Analyzer {
  /**
   * Analyses a model file. `bytes` is handed over (detached here). A call made while another is running supersedes
   * it: only the latest file opens, so the earlier one's worker is stopped and its call rejected.
   */
  analyze(bytes: ArrayBuffer, name: string, side?: number | null): Promise<Analyzed>;
}

/** Thrown to a call whose file was superseded by a later one. */
export class SupersededError extends Error {
  override name = 'SupersededError';
}

/**
 * The page's handle on the analysis worker: one worker, started when first needed and kept for the next file; one
 * that fails (its script did not load, or it stopped) or is stopped for a later file is replaced on the next call.
 */
export class AnalyzerClient implements Analyzer {
  private worker: AnalyzeWorker | null = null;
  private next = 0;
  private current: { id: number; name: string; resolve(a: Analyzed): void; reject(e: Error): void } | null = null;

  constructor(private readonly start: () => AnalyzeWorker) {}

  analyze(bytes: ArrayBuffer, name: string, side: number | null = null): Promise<Analyzed> {
    if (this.current) {
      // The earlier file is no longer wanted: its worker may be deep in a big graph, so it is stopped, not waited for.
      this.current.reject(new SupersededError(`${this.current.name} was superseded by ${name}`));
      this.current = null;
      this.stop();
    }
    const worker = this.ensure();
    const id = ++this.next;
    return new Promise<Analyzed>((resolve, reject) => {
      // Posted first: a buffer that cannot be handed over throws here, and no call is left pending behind it.
      worker.postMessage({ id, name, bytes, side } satisfies AnalyzeRequest, [bytes]);
      this.current = { id, name, resolve, reject };
    });
  }

  private ensure(): AnalyzeWorker {
    if (this.worker) return this.worker;
    const worker = this.start();
    worker.addEventListener('message', (event) => {
      if (this.worker !== worker) return;
      const reply = (event as MessageEvent<AnalyzeReply>).data;
      const call = this.current;
      if (!call || call.id !== reply.id) return;
      this.current = null;
      if (reply.ok) call.resolve(reply.analyzed);
      else call.reject(reply.model ? new ModelError(reply.message) : new Error(reply.message));
    });
    const died = (why: string) => {
      if (this.worker !== worker) return;
      this.stop();
      const call = this.current;
      this.current = null;
      call?.reject(new ModelError(`${call.name} could not be analysed: ${why}`));
    };
    worker.addEventListener('error', (event) => {
      (event as ErrorEvent).preventDefault?.();
      died((event as ErrorEvent).message || 'the analysis worker stopped');
    });
    worker.addEventListener('messageerror', () => died('its result could not be read back'));
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}

/** The analysis in this thread, behind the same structured clone a worker's reply goes through (Node, tests). */
export const analyzeInProcess: Analyzer = {
  async analyze(bytes, name, side = null) {
    const { reply, transfer } = answer({ id: 0, name, bytes, side });
    const received = structuredClone(reply, { transfer });
    if (received.ok) return received.analyzed;
    throw received.model ? new ModelError(received.message) : new Error(received.message);
  },
};
