import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { ResultCache } from '../../renderer/src/lab/cache';
import { CancelledError } from '../../renderer/src/lab/job';
import { createAssets } from '../../renderer/src/store/assets';
import { createAppStore } from '../../renderer/src/store/store';
import type { AppState, Services } from '../../renderer/src/store/types';
import { analyzeInProcess } from '../../renderer/src/worker/analyzer';
import { LabClient, type LabWorker } from '../../renderer/src/worker/client';
import { createDispatcher, mayCorruptWorker } from '../../renderer/src/worker/dispatch';
import { createLabHandlers } from '../../renderer/src/worker/handlers';
import type { LabReply, LabRequest, LabResults } from '../../renderer/src/worker/protocol';
import { fileHost } from '../helpers/storeHarness';

/**
 * A lab "worker" in this process: a fresh set of real handlers (onnxruntime-node) behind the real message loop,
 * messages crossing an asynchronous queue; terminate() ends it (it hears and says nothing more), and `crash`
 * raises its `error` event as a Worker does for an uncaught error. Only the Worker boundary is stood in for.
 */
function inProcessWorkers() {
  const workers: { terminated: boolean; crash(message: string): void }[] = [];
  const factory = (): LabWorker => {
    const listeners = new Map<string, ((event: Event) => void)[]>();
    const emit = (type: string, event: Event) => {
      for (const l of listeners.get(type) ?? []) l(event);
    };
    const self = {
      terminated: false,
      crash: (message: string) => emit('error', Object.assign(new Event('error'), { message })),
    };
    workers.push(self);
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage, faults: true });
    const dispatch = createDispatcher(handlers, (reply: LabReply) =>
      setImmediate(() => {
        if (!self.terminated) emit('message', new MessageEvent('message', { data: reply }));
      }),
    );
    return {
      postMessage: (request: LabRequest) =>
        setImmediate(() => {
          if (!self.terminated) void dispatch(request);
        }),
      addEventListener: (type: string, listener: (event: Event) => void) => {
        listeners.set(type, [...(listeners.get(type) ?? []), listener]);
      },
      terminate: () => {
        self.terminated = true;
      },
    } as LabWorker;
  };
  return { workers, factory };
}

async function openApp(options: { cancelGraceMs?: number } = {}) {
  const { workers, factory } = inProcessWorkers();
  const lab = new LabClient(factory, options);
  const host = fileHost();
  const services: Services = {
    host,
    assets: createAssets(host),
    lab,
    analyzer: analyzeInProcess,
    cache: new ResultCache<LabResults>(),
  };
  const store = createAppStore(services);
  const until = (ready: (s: AppState) => boolean) =>
    new Promise<void>((resolve) => {
      if (ready(store.getState())) return resolve();
      const stop = store.subscribe((s) => {
        if (ready(s)) {
          stop();
          resolve();
        }
      });
    });
  await lab.call('configure', { wasmBase: '', preference: 'wasm' });
  await store.getState().refreshModels();
  await store.getState().openModel('cifar10-resnet20');
  await until((s) => s.runtime === 'ready' && s.imageSet !== null);
  const restarted = () => new Promise<string>((resolve) => lab.onRestart(resolve));
  const predict = async (index: number) => {
    store.getState().setImageIndex(index);
    await store.getState().runImage();
    const { run, runError } = store.getState();
    if (!run) throw new Error(runError ?? 'no run');
    return run.logits;
  };
  return { store, lab, workers, restarted, predict };
}

describe('the lab worker fails, hangs and is replaced; the app goes on', () => {
  it('mayCorruptWorker: WebAssembly traps and out-of-memory errors, not ordinary ones', () => {
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 7, 1, 3, 114, 117, 110, 0, 0, 10, 5, 1, 3, 0, 0,
      11,
    ]);
    const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run as () => void;
    const trap = (() => {
      try {
        run();
      } catch (error) {
        return error;
      }
    })();
    expect(trap).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(mayCorruptWorker(trap)).toBe(true);
    expect(mayCorruptWorker(new Error('RuntimeError: memory access out of bounds'))).toBe(true);
    expect(mayCorruptWorker(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(mayCorruptWorker(new Error('Aborted(OOM). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(mayCorruptWorker(new Error('std::bad_alloc'))).toBe(true);
    expect(mayCorruptWorker(new Error('the model is not open in the lab (open it again)'))).toBe(false);
    expect(mayCorruptWorker(new CancelledError())).toBe(false);
    // onnxruntime's ordinary failures name it, and are not traps.
    const ortError = '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running Conv';
    expect(mayCorruptWorker(new Error(ortError))).toBe(false);
    expect(mayCorruptWorker(new Error('failed to call OrtRun(). RuntimeError: memory access out of bounds'))).toBe(
      true,
    );
    expect(mayCorruptWorker(new Error('expects 3×64×64 input'))).toBe(false);
  });

  it('a job that throws fails with one line; a trap also replaces the worker and the open model still runs', async () => {
    const { store, lab, workers, restarted, predict } = await openApp();
    const before = await predict(3);

    // An ordinary error: the job fails, the worker stays.
    await store.getState().startJob('fault:error', 'fault', { mode: 'error' });
    expect(store.getState().jobs.get('fault', 'fault:error')).toMatchObject({
      status: 'error',
      error: 'a deliberate failure inside the lab worker',
    });
    expect(lab.restarts).toBe(0);

    // A WebAssembly trap: the job fails with one line, and the worker is replaced by a fresh one.
    const replaced = restarted();
    await store.getState().startJob('fault:trap', 'fault', { mode: 'trap' });
    const job = store.getState().jobs.get('fault', 'fault:trap')!;
    expect(job.status).toBe('error');
    expect(job.error).toMatch(/unreachable.*the lab worker was replaced/);
    expect(job.error).not.toMatch(/\n/);
    expect(await replaced).toMatch(/unreachable/);
    expect(lab.restarts).toBe(1);
    expect(workers.map((w) => w.terminated)).toEqual([true, false]);
    // The new worker was given the configuration, the image set and the open model: the same answer.
    expect(await predict(3)).toEqual(before);
    expect(await predict(4)).not.toEqual(before);
  }, 120_000);

  it('Cancel clears a job at once though the worker never answers; the stuck worker is replaced', async () => {
    const { store, lab, workers, restarted, predict } = await openApp({ cancelGraceMs: 0 });
    const before = await predict(5);
    const replaced = restarted();
    const started = store.getState().startJob('fault:stall', 'fault', { mode: 'stall' });
    expect(store.getState().jobs.get('fault', 'fault:stall')?.status).toBe('running');
    store.getState().cancelJob('fault:stall');
    // At once, in the store: not after the worker answers (it never will).
    expect(store.getState().jobs.get('fault', 'fault:stall')?.status).toBe('cancelled');
    await started;
    expect(store.getState().jobs.get('fault', 'fault:stall')?.status).toBe('cancelled');
    expect(await replaced).toBe('a cancelled fault did not stop');
    expect(lab.restarts).toBe(1);
    expect(workers[0]!.terminated).toBe(true);
    expect(await predict(5)).toEqual(before);
    // The same job can start again at once after a cancel.
    const again = store.getState().startJob('fault:stall', 'fault', { mode: 'stall' });
    expect(store.getState().jobs.get('fault', 'fault:stall')?.status).toBe('running');
    store.getState().cancelJob('fault:stall');
    await again;
    expect(store.getState().jobs.get('fault', 'fault:stall')?.status).toBe('cancelled');
  }, 120_000);

  it("the worker's error event replaces it: a call in flight is sent again once, a job in flight fails", async () => {
    const { store, lab, workers, restarted, predict } = await openApp();
    const before = await predict(6);
    const replaced = restarted();
    const job = store.getState().startJob('fault:stall', 'fault', { mode: 'stall' });
    const pixels = lab.call('pixels', { set: store.getState().imageSet!.id, index: 6, side: 32, resize: null });
    workers[0]!.crash('boom');
    expect(await replaced).toBe('the lab worker failed: boom');
    await job;
    expect(store.getState().jobs.get('fault', 'fault:stall')).toMatchObject({
      status: 'error',
      error: 'the lab worker was replaced (the lab worker failed: boom); start it again',
    });
    expect((await pixels).pixels).toHaveLength(3 * 32 * 32);
    expect(await predict(6)).toEqual(before);
    expect(lab.restarts).toBe(1);
  }, 120_000);

  it('a study cancelled in one worker is said to go on only while that worker lives (its kept state is there)', async () => {
    const { store, workers, restarted } = await openApp();
    const request = { kind: 'single', remove: 'branch' } as const;
    const key = store.getState().sweepKey(request)!;
    const study = store.getState().startSweep(request);
    // Cancelled once its first batch is counted.
    await new Promise<void>((resolve) => {
      const stop = store.subscribe((s) => {
        if ((s.jobs.get('lesionSweep', key)?.progress?.done ?? 0) > 0) {
          stop();
          resolve();
        }
      });
    });
    store.getState().cancelJob(key);
    await study;
    const cancelled = store.getState().jobs.get('lesionSweep', key)!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.worker).toBe(store.getState().labRestarts);
    const replaced = restarted();
    workers[0]!.crash('boom');
    await replaced;
    expect(store.getState().labRestarts).toBe(1);
    expect(store.getState().jobs.get('lesionSweep', key)!.worker).not.toBe(store.getState().labRestarts);
  }, 120_000);

  it('a worker that fails every time it starts: a few replacements, then every call fails with one line', async () => {
    let started = 0;
    const failing = (): LabWorker => {
      started++;
      const listeners: ((event: Event) => void)[] = [];
      return {
        postMessage: () =>
          setImmediate(() => {
            for (const l of listeners) l(Object.assign(new Event('error'), { message: 'SyntaxError in labWorker.js' }));
          }),
        addEventListener: (type: string, listener: (event: Event) => void) => {
          if (type === 'error') listeners.push(listener);
        },
        terminate: () => {},
      } as LabWorker;
    };
    const lab = new LabClient(failing, { maxRestarts: 2 });
    const failed = 'the lab worker failed: SyntaxError in labWorker.js';
    // Sent once more to the second worker, which fails too: the call fails.
    await expect(lab.call('echo', { payload: new Float32Array(1) })).rejects.toThrow(
      `the lab worker was replaced (${failed}); start it again`,
    );
    expect(started).toBe(3);
    // The third fails as well: no fourth worker, this call and every later one fail with the reason.
    const stopped = `${failed} (the lab stopped; reload the app)`;
    await expect(lab.call('echo', { payload: new Float32Array(1) })).rejects.toThrow(stopped);
    await expect(lab.call('echo', { payload: new Float32Array(1) })).rejects.toThrow(stopped);
    expect(started).toBe(3);
    expect(lab.restarts).toBe(2);
  });

  it('fault injection is refused unless the worker was started with it', async () => {
    const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
    await expect(
      handlers.fault({ mode: 'trap' }, { signal: new AbortController().signal, progress() {} }),
    ).rejects.toThrow('fault injection is off in this lab');
  });
});
