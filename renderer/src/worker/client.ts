import { CancelledError, type ControlAction, type Progress } from '../lab/job';
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

/** The page's handle on the lab worker: typed calls, progress callbacks, cancellation through AbortSignal. */
export class LabClient {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    {
      resolve(v: unknown): void;
      reject(e: Error): void;
      onProgress?: (p: Progress<never>) => void;
      control?: CallControl;
    }
  >();

  constructor(private readonly worker: Pick<Worker, 'postMessage' | 'addEventListener'>) {
    worker.addEventListener('message', (event: Event) => this.receive((event as MessageEvent<LabReply>).data));
    worker.addEventListener('error', (event: Event) => {
      const message = (event as ErrorEvent).message || 'the lab worker failed to start';
      for (const p of this.pending.values()) p.reject(new Error(message));
      this.pending.clear();
    });
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
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: options.onProgress as ((p: Progress<never>) => void) | undefined,
        ...(options.control ? { control: options.control } : {}),
      });
      if (options.control) options.control.post = (action) => this.post({ kind: 'control', id, action });
      options.signal?.addEventListener('abort', () => this.post({ kind: 'cancel', id }), { once: true });
      this.post({ kind: 'call', id, method, params }, options.transfer);
    });
  }

  private post(request: LabRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private receive(reply: LabReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    if (reply.kind === 'progress') {
      p.onProgress?.(reply.progress as Progress<never>);
      return;
    }
    if (reply.kind === 'control') {
      p.control?.onState?.({ paused: reply.paused, stopping: reply.stopping, held: reply.held });
      return;
    }
    this.pending.delete(reply.id);
    if (p.control) p.control.post = null;
    if (reply.kind === 'done') p.resolve(reply.value);
    else p.reject(reply.cancelled ? new CancelledError() : new Error(reply.message));
  }
}

/** Where onnxruntime-web's .wasm and glue files are served: ./ort/ beside the app (scripts/viteStaticFiles.ts). */
export function ortBase(): string {
  return new URL('ort/', document.baseURI).href;
}

/** Starts the lab worker (bundled by Vite as its own module). */
export function startLabWorker(): LabClient {
  const worker = new Worker(new URL('./labWorker.ts', import.meta.url), { type: 'module', name: 'skipscope-lab' });
  return new LabClient(worker);
}
