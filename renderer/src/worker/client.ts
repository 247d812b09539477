import { CancelledError, type ControlAction, type Progress } from '../lab/job';
import { AnalyzerClient } from './analyzer';
import type { JobPartials, LabMethod, LabParams, LabReply, LabRequest, LabResults } from './protocol';

export interface CallOptions<P> {
  onProgress?: (progress: Progress<P>) => void;
  signal?: AbortSignal;
  transfer?: Transferable[];
  /** Pause, resume and stop for a controllable method (protocol CONTROLLABLE): the client binds it to the call. */
  control?: CallControl;
}

/** The page's side of a call's pause / resume / stop: `send` asks, `onState` hears what took effect. */
export class CallControl {
  /** Set by the client when the call starts. */
  post: ((action: ControlAction) => void) | null = null;
  onState: ((state: { paused: boolean; stopping: boolean; held: boolean }) => void) | null = null;

  send(action: ControlAction): void {
    this.post?.(action);
  }
}

/** What the client needs of a Worker (tests hand it an in-process stand-in). */
export type LabWorker = Pick<Worker, 'postMessage' | 'addEventListener'> & { terminate?: () => void };

export interface LabClientOptions {
  /**
   * How long a cancelled call may take to answer before its worker counts as stuck and is replaced (at least this,
   * and at least twice the longest gap seen between the call's replies, so a slow batch is not taken for a hang).
   */
  cancelGraceMs?: number;
  /** Replacements in a row with no reply from the new worker before the client gives up (a worker that cannot start). */
  maxRestarts?: number;
}

const CANCEL_GRACE_MS = 8000;
const MAX_RESTARTS = 3;

interface Pending {
  method: LabMethod;
  params: unknown;
  /** Buffers handed over with the call (gone from the page: such a call cannot be sent again). */
  transferred: boolean;
  /** A job (cancellable): not sent again to a new worker, it fails and its owner starts it again. */
  job: boolean;
  resent: boolean;
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: Progress<never>) => void;
  control?: CallControl;
  lastReplyAt: number;
  longestGapMs: number;
}

/**
 * The page's handle on the lab worker: typed calls, progress callbacks, cancellation through AbortSignal, and the
 * worker's replacement when it cannot be trusted any more — an error that may have corrupted its memory (the
 * worker's `fatal` failure: a WebAssembly trap, out of memory), its `error` or `messageerror` event, or a cancelled
 * call it does not answer (stuck). Cancel settles the call at once (CancelledError) whatever the worker does.
 *
 * A new worker gets the state the page gave the old one — the configuration, the image sets, the open models (the
 * client keeps their bytes for this; they are copied to the worker, not transferred) — so the next call runs as
 * before. Calls in flight in the old worker: a job fails with one line (its owner starts it again); other calls
 * are sent once more, except the one blamed.
 */
export class LabClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Cancelled calls not yet answered, with the timer that replaces a worker that never answers. */
  private readonly cancelling = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly create: (() => LabWorker) | null;
  private worker!: LabWorker;
  private readonly options: Required<LabClientOptions>;
  /** What the page gave the worker, replayed into a new one. */
  private configured: unknown = null;
  private readonly sets = new Map<string, unknown>();
  private readonly models = new Map<string, unknown>();
  private restartsInARow = 0;
  private broken: string | null = null;
  private readonly restartListeners = new Set<(reason: string) => void>();
  /** How many times the worker was replaced, and why the last time. */
  restarts = 0;
  lastRestart: string | null = null;

  /** `worker`: a factory (a new worker can replace a broken one), or one worker (failures only fail calls). */
  constructor(worker: LabWorker | (() => LabWorker), options: LabClientOptions = {}) {
    this.options = {
      cancelGraceMs: options.cancelGraceMs ?? CANCEL_GRACE_MS,
      maxRestarts: options.maxRestarts ?? MAX_RESTARTS,
    };
    this.create = typeof worker === 'function' ? worker : null;
    this.attach(typeof worker === 'function' ? worker() : worker);
  }

  /** Calls `listener` with the reason each time the worker is replaced; returns the unsubscribe. */
  onRestart(listener: (reason: string) => void): () => void {
    this.restartListeners.add(listener);
    return () => this.restartListeners.delete(listener);
  }

  call<M extends LabMethod>(
    method: M,
    params: LabParams<M>,
    options: CallOptions<JobPartials[M]> = {},
  ): Promise<LabResults[M]> {
    const id = this.nextId++;
    return new Promise<LabResults[M]>((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new CancelledError());
        return;
      }
      if (this.broken) {
        reject(new Error(this.broken));
        return;
      }
      let transfer = options.transfer ?? [];
      if (method === 'openModel') {
        // Kept for a new worker: copied to this one instead of transferred.
        const { bytes } = params as LabParams<'openModel'>;
        transfer = transfer.filter((t) => t !== bytes);
      }
      this.remember(method, params);
      this.pending.set(id, {
        method,
        params,
        transferred: transfer.length > 0,
        job: !!options.signal,
        resent: false,
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: options.onProgress as ((p: Progress<never>) => void) | undefined,
        ...(options.control ? { control: options.control } : {}),
        lastReplyAt: performance.now(),
        longestGapMs: 0,
      });
      if (options.control) options.control.post = (action) => this.post({ kind: 'control', id, action });
      options.signal?.addEventListener('abort', () => this.cancel(id), { once: true });
      this.post({ kind: 'call', id, method, params }, transfer);
    });
  }

  /** Settles the call as cancelled now, asks the worker to stop it, and replaces the worker if it never answers. */
  private cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.control) p.control.post = null;
    p.reject(new CancelledError());
    this.post({ kind: 'cancel', id });
    if (!this.create) return;
    const grace = Math.max(this.options.cancelGraceMs, 2 * p.longestGapMs);
    this.cancelling.set(
      id,
      setTimeout(() => {
        this.cancelling.delete(id);
        this.replace(`a cancelled ${p.method} did not stop`);
      }, grace),
    );
  }

  private remember(method: LabMethod, params: unknown): void {
    if (method === 'configure') {
      this.configured = params;
      this.models.clear(); // the worker closes every model when configured
    } else if (method === 'addImageSet') this.sets.set((params as LabParams<'addImageSet'>).id, params);
    else if (method === 'openModel') this.models.set((params as LabParams<'openModel'>).key, params);
    else if (method === 'closeModel') this.models.delete((params as LabParams<'closeModel'>).key);
  }

  private attach(worker: LabWorker): void {
    this.worker = worker;
    worker.addEventListener('message', (event: Event) => {
      if (this.worker === worker) this.receive((event as MessageEvent<LabReply>).data);
    });
    worker.addEventListener('error', (event: Event) => {
      if (this.worker !== worker) return;
      event.preventDefault?.();
      this.replace(`the lab worker failed: ${(event as ErrorEvent).message || 'it did not start'}`);
    });
    worker.addEventListener('messageerror', () => {
      if (this.worker === worker) this.replace('a reply of the lab worker could not be read');
    });
  }

  private post(request: LabRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private receive(reply: LabReply): void {
    if (reply.kind === 'done' || reply.kind === 'failed') {
      const timer = this.cancelling.get(reply.id);
      if (timer !== undefined) clearTimeout(timer);
      this.cancelling.delete(reply.id);
    }
    const p = this.pending.get(reply.id);
    if (reply.kind === 'failed' && reply.fatal) {
      if (p) this.settle(reply.id, p, true);
      const reason = `${reply.message}; the lab worker was replaced (its memory may be corrupt)`;
      p?.reject(new Error(this.create ? reason : reply.message));
      if (this.create) this.replace(reason);
      return;
    }
    if (!p) return;
    // The page's own calls answered: this worker works (the state replayed into it does not count).
    this.restartsInARow = 0;
    const now = performance.now();
    p.longestGapMs = Math.max(p.longestGapMs, now - p.lastReplyAt);
    p.lastReplyAt = now;
    if (reply.kind === 'progress') {
      p.onProgress?.(reply.progress as Progress<never>);
      return;
    }
    if (reply.kind === 'control') {
      p.control?.onState?.({ paused: reply.paused, stopping: reply.stopping, held: reply.held });
      return;
    }
    this.settle(reply.id, p, reply.kind === 'failed');
    if (reply.kind === 'done') p.resolve(reply.value);
    else p.reject(reply.cancelled ? new CancelledError() : new Error(reply.message));
  }

  private settle(id: number, p: Pending, failed: boolean): void {
    this.pending.delete(id);
    if (p.control) p.control.post = null;
    if (failed && p.method === 'openModel') {
      // A model that failed to open (or broke the worker opening) is not reopened in a new worker.
      const params = p.params as LabParams<'openModel'>;
      if (this.models.get(params.key) === params) this.models.delete(params.key);
    }
  }

  /**
   * Ends the worker and starts another with the page's state; calls in flight fail (jobs, calls whose buffers
   * were transferred, calls already sent twice) or go to the new worker once. Without a factory, or after
   * `maxRestarts` replacements whose worker never answered, every call fails with the reason instead.
   */
  private replace(reason: string): void {
    for (const timer of this.cancelling.values()) clearTimeout(timer);
    this.cancelling.clear();
    try {
      this.worker.terminate?.();
    } catch {
      // already gone
    }
    this.restartsInARow++;
    let next: LabWorker | null = null;
    try {
      if (this.create && this.restartsInARow <= this.options.maxRestarts) next = this.create();
    } catch {
      next = null;
    }
    if (!next) {
      // One worker and no factory: the calls in flight fail, and later calls still go to it.
      const message = this.create ? `${reason} (the lab stopped; reload the app)` : reason;
      if (this.create) this.broken = message;
      for (const p of this.pending.values()) p.reject(new Error(message));
      this.pending.clear();
      return;
    }
    this.restarts++;
    this.lastRestart = reason;
    this.attach(next);
    // The page's state first (messages run in order): calls that follow find their models and sets. A fault is
    // never sent again.
    const resending = [...this.pending.values()].filter(
      (p) => !p.job && !p.transferred && !p.resent && p.method !== 'fault',
    );
    const again = new Set(resending.map((p) => p.params));
    const replay = (method: LabMethod, params: unknown) => {
      if (!again.has(params)) this.post({ kind: 'call', id: this.nextId++, method, params });
    };
    if (this.configured) replay('configure', this.configured);
    for (const params of this.sets.values()) replay('addImageSet', params);
    for (const params of this.models.values()) replay('openModel', params);
    for (const [id, p] of [...this.pending.entries()]) {
      if (again.has(p.params)) {
        p.resent = true;
        p.lastReplyAt = performance.now();
        this.post({ kind: 'call', id, method: p.method, params: p.params });
        continue;
      }
      this.pending.delete(id);
      if (p.control) p.control.post = null;
      p.reject(new Error(`the lab worker was replaced (${reason}); start it again`));
    }
    for (const listener of this.restartListeners) listener(reason);
  }
}

/** Where onnxruntime-web's .wasm and glue files are served: ./ort/ beside the app (scripts/viteStaticFiles.ts). */
export function ortBase(): string {
  return new URL('ort/', document.baseURI).href;
}

/**
 * Starts the lab worker (bundled by Vite as its own module), and a new one whenever it must be replaced. The page's
 * `?lab-faults` lets the tests reach the worker's `fault` method; nothing in the UI sets it.
 */
export function startLabWorker(): LabClient {
  const faults = new URLSearchParams(location.search).has('lab-faults');
  return new LabClient(
    () =>
      new Worker(new URL('./labWorker.ts', import.meta.url), {
        type: 'module',
        name: faults ? 'skipscope-lab faults' : 'skipscope-lab',
      }),
  );
}

/** Starts the analysis worker (its own module, like the lab's) on the first model opened. */
export function startAnalyzer(): AnalyzerClient {
  return new AnalyzerClient(
    () => new Worker(new URL('./analyzeWorker.ts', import.meta.url), { type: 'module', name: 'skipscope-analysis' }),
  );
}
