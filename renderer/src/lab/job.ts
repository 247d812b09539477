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
  /**
   * `resumed`: this first report counts units done before the job started (a cancelled study continued): its pace
   * is known only from its next report.
   */
  progress(done: number, total: number, partial?: P, message?: string, resumed?: boolean): void;
  /** Pause, resume and stop, for the jobs that support them (see `between`); absent: they run through. */
  control?: JobControl;
}

/** What a job's owner can ask of it besides cancelling: pause and resume between units, or stop (keeping the work). */
export type ControlAction = 'pause' | 'resume' | 'stop';

/**
 * Pause, resume and stop for a running job. The job's loop calls `between(job)` before each unit: it holds there
 * while paused, and returns 'stop' once a stop was asked (the job then finishes with what it has, unlike cancel,
 * which throws and keeps nothing). `held()` resolves when the loop is really waiting at the gate, so a test (or a
 * caller) observes a pause without sleeping.
 */
export class JobControl {
  private resumeWaiters: (() => void)[] = [];
  private heldWaiters: (() => void)[] = [];
  private isPaused = false;
  private isStopping = false;
  private isHeld = false;
  /** Milliseconds spent held at the gate so far (time left estimates leave it out). */
  heldMs = 0;
  /** Called each time the loop starts waiting at the gate (the worker tells the page: the pause is in force). */
  onHeld: (() => void) | null = null;

  get paused(): boolean {
    return this.isPaused;
  }

  get stopping(): boolean {
    return this.isStopping;
  }

  /** The loop is waiting at the gate now. */
  get holding(): boolean {
    return this.isHeld;
  }

  /** Applies an action; a stopping job is not paused any more (a pause would hold it before it can finish). */
  apply(action: ControlAction): { paused: boolean; stopping: boolean } {
    if (action === 'pause' && !this.isStopping) this.isPaused = true;
    else if (action === 'resume') this.release();
    else if (action === 'stop') {
      this.isStopping = true;
      this.release();
    }
    return { paused: this.isPaused, stopping: this.isStopping };
  }

  pause(): void {
    this.apply('pause');
  }

  resume(): void {
    this.apply('resume');
  }

  /** Resolves when the job's loop is waiting at the gate (at once if it already is). */
  held(): Promise<void> {
    if (this.isHeld) return Promise.resolve();
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  /** Resolves at once when running; when paused, on resume, stop, or when `signal` aborts. */
  async wait(signal: AbortSignal, now: () => number = () => performance.now()): Promise<void> {
    if (!this.isPaused || signal.aborted) return;
    const started = now();
    this.isHeld = true;
    for (const wake of this.heldWaiters.splice(0)) wake();
    this.onHeld?.();
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.resumeWaiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
    this.isHeld = false;
    this.heldMs += now() - started;
  }

  private release(): void {
    this.isPaused = false;
    for (const wake of this.resumeWaiters.splice(0)) wake();
  }
}

/**
 * Between two units of a controllable job: lets messages in (cancel, pause, stop), holds while paused, throws
 * CancelledError when cancelled, and says 'stop' when the owner asked the job to finish early.
 */
export async function between(job: JobContext<never> | JobContext<unknown>): Promise<'go' | 'stop'> {
  await checkpoint(job.signal);
  const control = job.control;
  if (!control) return 'go';
  if (!control.stopping) await control.wait(job.signal);
  checkCancelled(job.signal);
  return control.stopping ? 'stop' : 'go';
}

/**
 * The model or the images cannot do what was asked (no residual blocks to lesion, no labelled image, an image that
 * is not one): the user's input, not a bug. The CLI exits 2 with its one line; the app shows it as it is.
 */
export class UnsupportedInput extends Error {
  override name = 'UnsupportedInput';
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

/**
 * A JobContext that turns done/total into progress reports with elapsed time and an estimate of time left. The
 * estimate is the measured pace of the units, less the time held paused: from the first report that counted any
 * units to now (so set-up before the first unit does not stretch it); while only one report has counted units,
 * from the last report that counted none (the end of the set-up, when the job says so) or else from the start,
 * and then only when those units are at least a tenth of the job. A first batch also pays one-off costs (a
 * session's first run on WASM took 230–630 ms against 130 ms after it), so a small first batch alone overshot 3–4×
 * (Evaluate on resnet56 said 1 min 9 s left after 8 of 932 images and took 21 s); the next report, soon after,
 * measures work only.
 */
export function trackProgress<P>(
  signal: AbortSignal,
  report: (p: Progress<P>) => void,
  now: () => number = () => performance.now(),
  control?: JobControl,
): JobContext<P> {
  const started = now();
  // The first report that counted units: its time, its count, and the time held paused by then.
  let first: { at: number; done: number; held: number } | null = null;
  // The last report before any unit was counted (set-up done so far), else the start; null for a job that goes on
  // from units done before it (its first report says so): its pace is known only from its next report.
  let zero: { at: number; held: number } | null = { at: started, held: 0 };
  return {
    signal,
    ...(control ? { control } : {}),
    progress(done, total, partial, message, resumed) {
      const at = now();
      const elapsedMs = at - started;
      const held = control?.heldMs ?? 0;
      if (resumed && first === null) zero = null;
      if (done <= 0 && first === null) zero = { at, held };
      if (done > 0 && (first === null || done < first.done)) first = { at, done, held };
      let etaMs: number | null = done >= total ? 0 : null;
      const from =
        first && done > first.done ? first : zero && done > 0 && done * 10 >= total ? { ...zero, done: 0 } : null;
      if (from && total > done) etaMs = ((at - from.at - (held - from.held)) / (done - from.done)) * (total - done);
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
export function quietJob<P>(control?: JobControl): JobContext<P> {
  return { signal: new AbortController().signal, progress() {}, ...(control ? { control } : {}) };
}
