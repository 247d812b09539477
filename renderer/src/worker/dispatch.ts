import { errorLine } from '../core/text';
import { isCancelled, JobControl, trackProgress } from '../lab/job';
import type { LabHandlers } from './handlers';
import { isControllable, type LabReply, type LabRequest } from './protocol';

/**
 * The lab worker's message loop, free of the Worker itself (labWorker.ts posts and receives; tests drive it in
 * Node): each call runs as a job with progress, cancel, and — for the controllable methods — pause, resume and
 * stop. Replies go out through `post`.
 */
export function createDispatcher(
  handlers: LabHandlers,
  post: (reply: LabReply, transfer?: Transferable[]) => void,
): (request: LabRequest) => Promise<void> {
  const running = new Map<number, { abort: AbortController; control: JobControl | null }>();
  return async (request) => {
    if (request.kind === 'cancel') {
      running.get(request.id)?.abort.abort();
      return;
    }
    if (request.kind === 'control') {
      const control = running.get(request.id)?.control;
      const state = control ? control.apply(request.action) : { paused: false, stopping: false };
      post({ kind: 'control', id: request.id, ...state, held: control?.holding ?? false });
      return;
    }
    const { id, method, params } = request;
    const abort = new AbortController();
    const control = isControllable(method) ? new JobControl() : null;
    running.set(id, { abort, control });
    if (control)
      control.onHeld = () =>
        post({ kind: 'control', id, paused: control.paused, stopping: control.stopping, held: true });
    const job = trackProgress(
      abort.signal,
      (progress) => post({ kind: 'progress', id, progress }),
      undefined,
      control ?? undefined,
    );
    try {
      const handler = handlers[method] as (p: unknown, j: typeof job) => Promise<unknown>;
      const value = await handler(params, job);
      post({ kind: 'done', id, value }, transferables(value));
    } catch (error) {
      const cancelled = isCancelled(error);
      post({ kind: 'failed', id, message: errorLine(error), cancelled, fatal: !cancelled && mayCorruptWorker(error) });
    } finally {
      running.delete(id);
    }
  };
}

/** Large typed arrays in a result move to the page instead of being copied. */
function transferables(value: unknown): Transferable[] {
  if (!value || typeof value !== 'object') return [];
  const out: Transferable[] = [];
  for (const v of Object.values(value))
    if (ArrayBuffer.isView(v) && v.byteLength > 4096) out.push(v.buffer as ArrayBuffer);
  return [...new Set(out)];
}

/**
 * Whether an error may have left the worker's memory corrupt, so that the page should replace the worker rather
 * than run anything more in it: a WebAssembly trap (RuntimeError: memory access out of bounds, unreachable, …),
 * running out of memory (RangeError: allocation failed, Emscripten's "Aborted(OOM)", std::bad_alloc), or an
 * Emscripten abort — also when onnxruntime-web wraps them in its own message.
 */
export function mayCorruptWorker(error: unknown): boolean {
  if (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError) return true;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return /(?<![A-Za-z])RuntimeError|memory access out of bounds|\bunreachable\b|out of memory|\bOOM\b|bad_alloc|allocation failed|Aborted\(|Maximum call stack/i.test(
    text,
  );
}
