import { createNodeRuntime } from '../../cli/ortNode';
import type { Runtime } from '../../renderer/src/lab/runtime';

/**
 * onnxruntime-node, counting the runs of every session it creates: `runs[k]` for the k-th session created, `total`
 * over all of them. The sessions themselves are onnxruntime-node's, unchanged.
 */
export function countingRuntime(): { runtime: Runtime; runs: number[]; total(): number } {
  const inner = createNodeRuntime();
  const runs: number[] = [];
  const runtime: Runtime = {
    ...inner,
    async createSession(model, options) {
      const session = await inner.createSession(model, options);
      const k = runs.push(0) - 1;
      return {
        ...session,
        run: (feeds, fetches) => {
          runs[k]!++;
          return session.run(feeds, fetches);
        },
        release: () => session.release(),
      };
    },
  };
  return { runtime, runs, total: () => runs.reduce((a, b) => a + b, 0) };
}
