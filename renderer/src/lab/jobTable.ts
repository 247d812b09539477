import type { Progress } from './job';

/** One long experiment as its owner sees it: status, progress (and every partial, when kept), pause and stop. */
export interface JobRecord<M extends PropertyKey = string, P = unknown> {
  key: string;
  method: M;
  status: 'running' | 'done' | 'cancelled' | 'error';
  progress: Progress<P> | null;
  /** Every progress partial so far, in order, for jobs that keep them (the race's steps); else null. */
  partials: P[] | null;
  /** Pause asked (controllable methods only); `held`: the job's loop is waiting between two units now, so nothing
   *  moves until it resumes; `stopping`: finishing early on request. */
  paused: boolean;
  held: boolean;
  stopping: boolean;
  error: string | null;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /**
   * Cancelled: how many times the lab worker had been replaced by then. What a cancelled run kept lives in that
   * worker: once it is replaced, the run cannot go on (a lesion study starts again).
   */
  worker?: number;
}

/** What may change in a job without knowing its method. */
export type JobPatch = Partial<Pick<JobRecord, 'status' | 'paused' | 'held' | 'stopping' | 'error' | 'worker'>>;

/**
 * Jobs by key, immutable (every change returns a new table, so a store can hold it and views re-render), typed
 * like the ResultCache: `P` maps each experiment to its progress partial, and a read that names the experiment
 * gets that experiment's partial type.
 */
export class JobTable<P extends object> {
  private constructor(private readonly rows: ReadonlyMap<string, JobRecord<keyof P, unknown>>) {}

  static empty<P extends object>(): JobTable<P> {
    return new JobTable<P>(new Map());
  }

  /** The job under `key` if it runs `method` (else undefined), with that method's partial type. */
  get<M extends keyof P>(method: M, key: string | null | undefined): JobRecord<M, P[M]> | undefined {
    const row = key ? this.rows.get(key) : undefined;
    if (!row || row.method !== method) return undefined;
    // The one place a job meets its type: rows are only written by put() with the same method.
    return row as JobRecord<M, P[M]>;
  }

  /** The job under `key` whatever its method: status, progress counts and errors. */
  any(key: string | null | undefined): JobRecord<keyof P, unknown> | undefined {
    return key ? this.rows.get(key) : undefined;
  }

  /** Every job still running, oldest first. */
  running(): JobRecord<keyof P, unknown>[] {
    return [...this.rows.values()].filter((row) => row.status === 'running');
  }

  put<M extends keyof P>(record: JobRecord<M, P[M]>): JobTable<P> {
    const rows = new Map(this.rows);
    rows.delete(record.key);
    rows.set(record.key, record);
    return new JobTable<P>(rows);
  }

  /** Progress and kept partials of a job of `method` (nothing changes when the key holds another method's job). */
  progress<M extends keyof P>(method: M, key: string, progress: Progress<P[M]> | null, partials: P[M][] | null) {
    const row = this.get(method, key);
    return row ? this.put({ ...row, progress, partials }) : this;
  }

  patch(key: string, patch: JobPatch): JobTable<P> {
    const row = this.rows.get(key);
    if (!row) return this;
    const rows = new Map(this.rows);
    rows.set(key, { ...row, ...patch });
    return new JobTable<P>(rows);
  }
}
