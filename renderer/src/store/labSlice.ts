import type { StateCreator } from 'zustand';
import { errorLine } from '../core/text';
import { cacheKey } from '../lab/cache';
import { isCancelled, type Progress } from '../lab/job';
import type { LabMethod, LabParams, LabPartial } from '../worker/protocol';
import type { AppState, Services } from './store';

/** A long experiment the user started; its result goes to the cache under `key`. */
export interface JobState {
  key: string;
  method: LabMethod;
  status: 'running' | 'done' | 'cancelled' | 'error';
  progress: Progress | null;
  error: string | null;
}

export interface LabSlice {
  /** Jobs by result key: at most one running per key. */
  jobs: Record<string, JobState>;
  /**
   * Runs a lab method as a job whose result is cached under `key`; does nothing when the result is cached or
   * the job is already running.
   */
  startJob<M extends LabMethod>(key: string, method: M, params: LabParams<M>): Promise<void>;
  cancelJob(key: string): void;
  /** The cache key of "evaluate the open model on the current image set", or null when that is not possible. */
  evaluationKey(): string | null;
  evaluate(): Promise<void>;
}

/** Progress reports arrive faster than people read; the store takes at most one per this many ms. */
const PROGRESS_INTERVAL_MS = 100;

export const createLabSlice =
  ({ lab, cache }: Services): StateCreator<AppState, [], [], LabSlice> =>
  (set, get) => {
    const controllers = new Map<string, AbortController>();
    const update = (key: string, patch: Partial<JobState>) =>
      set((s) => (s.jobs[key] ? { jobs: { ...s.jobs, [key]: { ...s.jobs[key]!, ...patch } } } : {}));
    return {
      jobs: {},
      async startJob(key, method, params) {
        if (cache.has(key) || get().jobs[key]?.status === 'running') return;
        const controller = new AbortController();
        controllers.set(key, controller);
        set((s) => ({ jobs: { ...s.jobs, [key]: { key, method, status: 'running', progress: null, error: null } } }));
        let last = 0;
        try {
          const value = await lab.call(method, params, {
            signal: controller.signal,
            onProgress: (progress: Progress<LabPartial<typeof method>>) => {
              const now = performance.now();
              if (now - last < PROGRESS_INTERVAL_MS && progress.done < progress.total) return;
              last = now;
              update(key, { progress });
            },
          });
          cache.set(key, value);
          update(key, { status: 'done' });
        } catch (error) {
          update(key, isCancelled(error) ? { status: 'cancelled' } : { status: 'error', error: errorLine(error) });
        } finally {
          controllers.delete(key);
        }
      },
      cancelJob(key) {
        controllers.get(key)?.abort();
      },
      evaluationKey() {
        const { model, sha256, imageSet, preprocessing } = get();
        if (!model?.input || !sha256 || !imageSet || !preprocessing) return null;
        return cacheKey({ model: sha256, experiment: 'evaluate', params: { preprocessing }, data: imageSet.id });
      },
      async evaluate() {
        const key = get().evaluationKey();
        const { model, imageSet, preprocessing } = get();
        if (!key || !model || !imageSet || !preprocessing) return;
        await get().startJob(key, 'evaluate', {
          model: model.key,
          set: imageSet.id,
          options: { preprocessing, batchSize: 32 },
        });
      },
    };
  };
