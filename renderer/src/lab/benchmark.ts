import { inputDims, type ModelInput } from './inputs';
import { checkpoint, type JobContext } from './job';
import { float32 } from './runtime';
import type { ModelSessions } from './sessions';

export interface BenchmarkResult {
  batch: number;
  runs: number;
  /** Median milliseconds per session run (after one warm-up run). */
  msPerRun: number;
  imagesPerSecond: number;
  provider: string;
}

/**
 * Inference speed of a session on this machine: `runs` timed runs of a batch of noise images after one
 * warm-up; the median run time gives images per second. Each run waits for the outputs to reach the host.
 */
export async function benchmark(
  sessions: ModelSessions,
  input: ModelInput,
  batch: number,
  runs: number,
  job: JobContext,
): Promise<BenchmarkResult> {
  const n = input.fixedBatch ?? batch;
  const session = await sessions.forBatch(n);
  const dims = inputDims(input, n);
  const data = Float32Array.from({ length: n * input.channels * input.side * input.side }, (_, i) =>
    Math.sin(i * 0.37),
  );
  const feeds = { [input.name]: float32(data, dims) };
  await session.run(feeds, [input.output]);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    await checkpoint(job.signal);
    const started = performance.now();
    await session.run(feeds, [input.output]);
    times.push(performance.now() - started);
    job.progress(r + 1, runs);
  }
  times.sort((a, b) => a - b);
  const msPerRun = times[Math.floor(times.length / 2)]!;
  return { batch: n, runs, msPerRun, imagesPerSecond: (1000 * n) / msPerRun, provider: session.provider };
}
