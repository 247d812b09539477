/**
 * The app's store as the page builds it, with its services made for Node (as netron's test host stands in for the
 * browser): a Host over the checkout's real models/ and assets/ folders, the real lab handlers on
 * onnxruntime-node behind the real message loop (dispatch.ts) and LabClient, and a real ResultCache. Nothing is
 * mocked but the Worker boundary, which becomes an in-process message queue.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage } from '../../cli/decode';
import { createNodeRuntime } from '../../cli/ortNode';
import { defaultSettings, type ModelEntry, parseManifestModels, type Settings } from '../../renderer/src/core/catalog';
import type { Host } from '../../renderer/src/host/host';
import { ResultCache } from '../../renderer/src/lab/cache';
import { createAssets } from '../../renderer/src/store/assets';
import { createAppStore } from '../../renderer/src/store/store';
import type { AppState, AppStore, Services } from '../../renderer/src/store/types';
import {
  type AnalyzeReply,
  type AnalyzeRequest,
  type Analyzer,
  type AnalyzeWorker,
  analyzeInProcess,
  answer,
} from '../../renderer/src/worker/analyzer';
import { LabClient } from '../../renderer/src/worker/client';
import { createDispatcher } from '../../renderer/src/worker/dispatch';
import { createLabHandlers, type LabHandlers } from '../../renderer/src/worker/handlers';
import type { LabReply, LabRequest, LabResults } from '../../renderer/src/worker/protocol';
import { ROOT } from './files';

const toBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** A Host over the checkout's files: the bundled models and assets, settings in memory, no dialogs. */
export function fileHost(root = ROOT): Host {
  const bundled = () =>
    parseManifestModels(JSON.parse(readFileSync(join(root, 'models/manifest.json'), 'utf8'))).models;
  const session = new Map<string, { entry: ModelEntry; bytes: ArrayBuffer }>();
  let settings: Settings = { ...defaultSettings };
  let added = 0;
  return {
    kind: 'web',
    async listModels() {
      return [...bundled().map((m) => m.entry), ...[...session.values()].map((s) => s.entry)];
    },
    async readModel(id) {
      const found = session.get(id);
      if (found) return found.bytes;
      const model = bundled().find((m) => m.entry.id === id);
      if (!model) throw new Error(`no model with id ${id}`);
      return toBuffer(readFileSync(join(root, 'models', model.file)));
    },
    readAsset: async (path) => toBuffer(readFileSync(join(root, 'assets', path))),
    openModel: async () => null,
    async importDropped(file) {
      const entry: ModelEntry = {
        id: `session-${++added}`,
        name: file.name,
        source: 'session',
        bytes: file.size,
        openedAt: Date.now(),
      };
      session.set(entry.id, { entry, bytes: await file.arrayBuffer() });
      return entry;
    },
    removeModel: async (id) => {
      session.delete(id);
    },
    revealModel: async () => {},
    getSettings: async () => settings,
    async setSettings(patch) {
      settings = { ...settings, ...patch };
      return settings;
    },
    onOpenModel: () => () => {},
  };
}

/** The lab worker in this process: requests and replies cross an asynchronous queue, as messages would. */
export function inProcessLab(handlers: LabHandlers): LabClient {
  const listeners: ((event: Event) => void)[] = [];
  const reply = (message: LabReply) =>
    setImmediate(() => {
      for (const l of listeners) l(new MessageEvent('message', { data: message }));
    });
  const dispatch = createDispatcher(handlers, reply);
  return new LabClient({
    postMessage: (request: LabRequest) => setImmediate(() => void dispatch(request)),
    addEventListener: (type: string, listener: (event: Event) => void) => {
      if (type === 'message') listeners.push(listener);
    },
  } as Pick<Worker, 'postMessage' | 'addEventListener'>);
}

/**
 * The analysis worker in this process (analyzer.ts `answer` behind a real structured clone, replies on a later turn
 * of the event loop). `hold` keeps the requests whose file name it matches unanswered (a big file still being
 * analysed) until `release`; `die` makes the worker fail on them as a worker that stopped does: an `error` event with no message.
 */
export function inProcessAnalyzeWorker(options: { hold?: RegExp; die?: RegExp } = {}) {
  const started: { requests: string[]; terminated: boolean }[] = [];
  /** Held requests, answered by `release` (unless their worker was stopped meanwhile). */
  const held: (() => void)[] = [];
  const start = (): AnalyzeWorker => {
    const listeners = new Map<string, ((event: Event) => void)[]>();
    const emit = (type: string, event: Event) => {
      for (const l of listeners.get(type) ?? []) l(event);
    };
    const record = { requests: [] as string[], terminated: false };
    started.push(record);
    return {
      postMessage(message: AnalyzeRequest, transfer: Transferable[] = []) {
        // Handed over as a browser does: the sender's buffers are detached at once.
        const request = structuredClone(message, { transfer: transfer as ArrayBuffer[] });
        record.requests.push(request.name);
        const reply = () => {
          if (record.terminated) return;
          if (options.die?.test(request.name)) {
            emit('error', Object.assign(new Event('error'), { message: '' }));
            return;
          }
          const { reply, transfer } = answer(request);
          emit('message', new MessageEvent<AnalyzeReply>('message', { data: structuredClone(reply, { transfer }) }));
        };
        if (options.hold?.test(request.name)) held.push(reply);
        else setImmediate(reply);
      },
      addEventListener(type: string, listener: (event: Event) => void) {
        listeners.set(type, [...(listeners.get(type) ?? []), listener]);
      },
      terminate() {
        record.terminated = true;
      },
    } as AnalyzeWorker;
  };
  const release = () => {
    for (const reply of held.splice(0)) setImmediate(reply);
  };
  return { start, started, release };
}

export interface TestApp {
  store: AppStore;
  services: Services;
  handlers: LabHandlers;
  cache: ResultCache<LabResults>;
  /** Resolves when `ready` holds for the store's state (checked on every change); rejects when the model fails. */
  until(ready: (state: AppState) => boolean): Promise<AppState>;
}

/** The store with real services; `openModel` a bundled model id to start. */
export function createTestApp(options: { analyzer?: Analyzer } = {}): TestApp {
  const handlers = createLabHandlers({ createRuntime: () => createNodeRuntime(), decodeImage });
  const host = fileHost();
  const cache = new ResultCache<LabResults>();
  const services: Services = {
    host,
    assets: createAssets(host),
    lab: inProcessLab(handlers),
    analyzer: options.analyzer ?? analyzeInProcess,
    cache,
  };
  const store = createAppStore(services);
  const failure = (s: AppState) => (s.status === 'error' ? s.error : s.runtime === 'error' ? s.runtimeError : null);
  const until = (ready: (state: AppState) => boolean) =>
    new Promise<AppState>((resolve, reject) => {
      const check = (state: AppState) => {
        const failed = failure(state);
        if (failed) reject(new Error(failed));
        else if (ready(state)) resolve(state);
        else return false;
        return true;
      };
      if (check(store.getState())) return;
      const stop = store.subscribe((state) => {
        if (check(state)) stop();
      });
    });
  return { store, services, handlers, cache, until };
}
