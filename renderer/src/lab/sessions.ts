import { batchSessionOptions, type ModelInput } from './inputs';
import type { Runtime, Session } from './runtime';

/**
 * The sessions of one model, one per batch size: with the batch axis fixed, onnxruntime plans static shapes and
 * runs markedly faster (see runtime.ts). Created on demand; at most `keep` batch sizes stay loaded (each holds
 * the weights once more), the least recently used is released.
 */
export interface ModelSessions {
  /** A session for feeds of exactly `batch` images (any batch, when the model's batch axis cannot be fixed). */
  forBatch(batch: number): Promise<Session>;
  /** Whether feeds must be padded to the session's batch (its batch axis is fixed). */
  readonly fixed: boolean;
  release(): Promise<void>;
}

export function modelSessions(runtime: Runtime, model: Uint8Array, input: ModelInput | null, keep = 2): ModelSessions {
  const sessions = new Map<number, Promise<Session>>();
  const fixable = !!input?.batchDim;
  const releaseOne = (s: Promise<Session>) => void s.then((x) => x.release()).catch(() => {});
  return {
    fixed: fixable || input?.fixedBatch != null,
    forBatch(batch) {
      const key = fixable ? batch : 0;
      let session = sessions.get(key);
      if (session) {
        sessions.delete(key);
      } else {
        session = runtime.createSession(model, input && fixable ? batchSessionOptions(input, batch) : {});
        session.catch(() => sessions.delete(key));
      }
      sessions.set(key, session);
      while (sessions.size > keep) {
        const [oldest, value] = sessions.entries().next().value!;
        sessions.delete(oldest);
        releaseOne(value);
      }
      return session;
    },
    async release() {
      for (const s of sessions.values()) releaseOne(s);
      sessions.clear();
    },
  };
}
