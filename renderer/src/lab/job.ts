/** Long work in the lab: progress with time left, cancellation, partial results. */

export interface Progress<P = unknown> {
  /** Units done and in total (images, lesions, grid points…). */
  done: number;
  total: number;
  /** Milliseconds since the job started, and the estimated milliseconds left (null until it can be estimated). */
  elapsedMs: number;
  etaMs: number | null;
  /** One line on what is happening now. */
  message?: string;
  /** Results so far, when the experiment can give them (e.g. a running accuracy estimate). */
  partial?: P;
}

export interface JobContext<P = unknown> {
  signal: AbortSignal;
  progress(done: number, total: number, partial?: P, message?: string): void;
}

/** The error a cancelled job rejects with; callers tell it apart from failures by `name`. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

export function isCancelled(error: unknown): boolean {
  return error instanceof Error && error.name === 'CancelledError';
}

/** Throws CancelledError when the job was cancelled. */
export function checkCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

/**
 * Experiments await this between batches: it lets the event loop run (a worker only sees the page's "cancel"
 * message, and Node only sees Ctrl+C, between macrotasks; awaiting the runtime alone never yields to them),
 * then throws CancelledError when the job was cancelled.
 */
export async function checkpoint(signal: AbortSignal): Promise<void> {
  await yieldToEvents();
  checkCancelled(signal);
}

/**
 * One trip through the event loop without timer clamping (setTimeout(0) costs ≥ 1 ms in Node and 4 ms when nested
 * in browsers, which adds up over a sweep's thousands of steps): setImmediate in Node, a MessageChannel elsewhere.
 */
const yieldToEvents: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : (() => {
        const channel = new MessageChannel();
        const waiting: (() => void)[] = [];
        channel.port1.onmessage = () => waiting.shift()?.();
        return () =>
          new Promise<void>((resolve) => {
            waiting.push(resolve);
            channel.port2.postMessage(null);
          });
      })();

/** A JobContext that turns done/total into progress reports with elapsed time and an estimate of time left. */
export function trackProgress<P>(
  signal: AbortSignal,
  report: (p: Progress<P>) => void,
  now: () => number = () => performance.now(),
): JobContext<P> {
  const started = now();
  return {
    signal,
    progress(done, total, partial, message) {
      const elapsedMs = now() - started;
      const etaMs = done > 0 && total > done ? (elapsedMs / done) * (total - done) : done >= total ? 0 : null;
      report({
        done,
        total,
        elapsedMs,
        etaMs,
        ...(partial !== undefined ? { partial } : {}),
        ...(message ? { message } : {}),
      });
    },
  };
}

/** A context for callers that need neither progress nor cancellation (tests, one-off runs). */
export function quietJob<P>(): JobContext<P> {
  return { signal: new AbortController().signal, progress() {} };
}
