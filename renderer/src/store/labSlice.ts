import type { StateCreator } from 'zustand';
import { errorLine } from '../core/text';
import { isCancelled, type Progress } from '../lab/job';
import { JobTable } from '../lab/jobTable';
import { CallControl } from '../worker/client';
import { isControllable, type JobPartials } from '../worker/protocol';
import { lesionBatch } from './lesionSlice';
import { modelRequest } from './requests';
import type { AppState, LabSlice, Services } from './types';

/** Progress reports arrive faster than people read; by default the store takes at most one per this many ms. */
const PROGRESS_INTERVAL_MS = 100;

/** Jobs that go on when the user opens another model: the landscape workspace lists them, with their model. */
const OUTLIVE_MODEL = new Set<string>(['landscape', 'interpolate']);

/**
 * The one job mechanism: every long experiment, the training race included, runs through startJob — progress
 * (throttled, with a trailing update), time left, cancel, pause / resume / stop where the method supports it,
 * and the result in the cache under the job's key.
 */
export const createLabSlice =
  ({ lab, cache }: Services): StateCreator<AppState, [], [], LabSlice> =>
  (set, get) => {
    /** Running jobs by key; `model`: the open model's key the job runs on (params.model), when it runs on one. */
    const running = new Map<string, { abort: AbortController; control: CallControl; model: string | null }>();
    lab.onRestart(() => set({ labRestarts: lab.restarts }));
    return {
      jobs: JobTable.empty<JobPartials>(),
      labRestarts: lab.restarts,
      async startJob(key, method, params, options = {}) {
        if (cache.has(key) || get().jobs.any(key)?.status === 'running') return;
        const abort = new AbortController();
        const control = new CallControl();
        // Landscapes are listed with their model's name in their own workspace, running or not: they go on.
        const model = (params as { model?: unknown }).model;
        const onModel = typeof model === 'string' && !OUTLIVE_MODEL.has(method) ? model : null;
        running.set(key, { abort, control, model: onModel });
        set((s) => ({
          jobs: s.jobs.put({
            key,
            method,
            status: 'running',
            progress: null,
            partials: options.keepPartials ? [] : null,
            paused: false,
            held: false,
            stopping: false,
            error: null,
            startedAt: Date.now(),
          }),
        }));
        // Progress is collected here as it comes and handed to the store at most every `redrawMs`.
        const kept: JobPartials[typeof method][] = [];
        let latest: Progress<JobPartials[typeof method]> | null = null;
        let lastDraw = 0;
        let trailing: ReturnType<typeof setTimeout> | null = null;
        // Still this run's job: not cancelled (the store marked that at once) and not started again since.
        const current = () => running.get(key)?.abort === abort;
        const flush = () => {
          if (trailing) clearTimeout(trailing);
          trailing = null;
          if (!current()) return;
          lastDraw = performance.now();
          set((s) => ({ jobs: s.jobs.progress(method, key, latest, options.keepPartials ? kept.slice() : null) }));
        };
        control.onState = (state) => {
          set((s) => ({ jobs: s.jobs.patch(key, state) }));
          // Held: every step before the pause has arrived; draw them all.
          if (state.held) flush();
        };
        const interval = options.redrawMs ?? PROGRESS_INTERVAL_MS;
        try {
          const value = await lab.call(method, params, {
            signal: abort.signal,
            control,
            onProgress: (progress) => {
              if (options.keepPartials && progress.partial !== undefined) kept.push(progress.partial);
              latest = progress;
              if (performance.now() - lastDraw >= interval || progress.done >= progress.total) flush();
              else trailing ??= setTimeout(flush, interval);
            },
          });
          flush();
          cache.set(method, key, value);
          set((s) => ({ jobs: s.jobs.patch(key, { status: 'done', paused: false, held: false, stopping: false }) }));
        } catch (error) {
          if (!current()) return;
          flush();
          const patch = isCancelled(error)
            ? { status: 'cancelled' as const, paused: false, held: false, worker: lab.restarts }
            : { status: 'error' as const, error: errorLine(error), paused: false, held: false };
          set((s) => ({ jobs: s.jobs.patch(key, patch) }));
        } finally {
          if (trailing) clearTimeout(trailing);
          // A cancelled job may be started again before this one has wound down: remove only this one.
          if (running.get(key)?.abort === abort) running.delete(key);
        }
      },
      cancelJob(key) {
        const job = running.get(key);
        if (!job) return;
        running.delete(key);
        // Cancelled now, in the store, whatever the worker does (the client replaces one that never answers).
        set((s) => ({
          jobs: s.jobs.patch(key, {
            status: 'cancelled',
            paused: false,
            held: false,
            stopping: false,
            worker: lab.restarts,
          }),
        }));
        job.abort.abort();
      },
      cancelModelJobs(model) {
        for (const [key, job] of [...running]) if (job.model === model) get().cancelJob(key);
      },
      controlJob(key, action) {
        running.get(key)?.control.send(action);
      },
      togglePauseJobs() {
        const pausable = get()
          .jobs.running()
          .filter((job) => isControllable(job.method) && !job.stopping);
        const action = pausable.every((job) => job.paused) ? 'resume' : 'pause';
        for (const job of pausable) if (job.paused !== (action === 'pause')) get().controlJob(job.key, action);
      },
      evaluationKey() {
        return modelRequest(get())?.key('evaluate') ?? null;
      },
      async evaluate() {
        const request = modelRequest(get());
        if (!request) return;
        await get().startJob(request.key('evaluate'), 'evaluate', {
          ...request.on,
          // The lesion engine's batch: the evaluation runs through it and leaves its cache warm (worker/handlers.ts).
          options: { preprocessing: request.preprocessing, batchSize: lesionBatch(get().provider) },
        });
      },
    };
  };
