import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { FuzzResult } from '../fuzz/fuzzer';
import { ROOT } from '../helpers/files';

/**
 * Runs the fuzzer in a child process under a watchdog: a mutant that makes decode or topology loop forever is
 * caught (the child is killed and the last case it reached is named) instead of freezing the test run.
 * No timing is asserted: the watchdog's limit is generous and only there to end a real hang.
 */
function runFuzzer(
  seed: number,
  cases: number,
  limitMs: number,
  options: { fromFirstReport?: boolean; from?: number } = {},
): Promise<FuzzResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/fuzz/run.ts', String(seed), String(cases), String(options.from ?? 0)],
      {
        cwd: ROOT,
      },
    );
    let stdout = '';
    let lastCase = 'none';
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      watchdog = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(
            `seed ${seed}: no answer within ${limitMs / 1000} s (a hang?) — last reached ${lastCase} (reported every 200)`,
          ),
        );
      }, limitMs);
    };
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      const cases = String(d).match(/case \d+/g);
      if (!cases) return;
      lastCase = cases.at(-1)!;
      if (!watchdog) arm();
    });
    // Counted from the start, unless fromFirstReport: then from the child's first report of a case (it reports
    // case 0 before running it), however long a busy machine takes to start it.
    if (!options.fromFirstReport) arm();
    child.on('close', (code) => {
      clearTimeout(watchdog);
      if (code === 0) resolve(JSON.parse(stdout) as FuzzResult);
      else reject(new Error(`seed ${seed}: the fuzzer exited with ${code} after ${lastCase}`));
    });
  });
}

/** Seeds that once found bugs or cover the classic corruptions; they run every time. */
const PINNED = [20261122, 1, 7, 424242];
/** Single cases of random runs that found bugs: [seed, case]. */
const PINNED_CASES = [
  [2099178418, 4760],
  [772448514, 4248],
  [221683520, 6572],
] as const;
/** The watchdog of the 10,000-mutant run: a run this long is a hang, not a slow machine. */
const FUZZ_LIMIT_MS = 600_000;
/** A new seed each run, printed so a failure can be replayed with FUZZ_SEED. */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe('fuzzing decode + topology with mutated copies of real models (child process under a watchdog)', () => {
  it(
    `this run's random seed (FUZZ_SEED=${SEED}): 10,000 mutants, no crash, no hang, every failure a one-line ModelError`,
    async () => {
      console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npx vitest run tests/unit/fuzz.test.ts)`);
      const result = await runFuzzer(SEED, 10_000, FUZZ_LIMIT_MS);
      expect(result.problems.slice(0, 20)).toEqual([]);
      // The mutations must actually hurt: most mutants are refused (bit flips inside weights legitimately pass).
      expect(result.refused).toBeGreaterThan(result.cases / 4);
      // The run is counted in mutants, not in seconds: the watchdog (a hang) is the limit, not Vitest's default
      // 120 s, which a busy 2-core machine can pass on 10,000 honest mutants (about 40 s idle).
    },
    FUZZ_LIMIT_MS + 30_000,
  );

  for (const seed of PINNED) {
    it(`pinned seed ${seed}: 2,000 mutants`, async () => {
      const result = await runFuzzer(seed, 2_000, 300_000);
      expect(result.problems).toEqual([]);
      expect(result.refused).toBeGreaterThan(result.cases / 4);
    }, 330_000);
  }

  // Single mutants the random run found, replayed alone. 2099178418 case 4760 (resnet20): an int64 step of ~7e16
  // gave a ConstantOfShape a huge length; shape inference kept 6 folded values for a [3.5e16, 2] tensor, and a
  // reversing Slice walked its 3.5e16 rows (CI hung). 772448514 case 4248 (resnet20, bit flips): a folded [0, 2.3e18]
  // tensor, transposed column by column; and a Reshape's inferred shape [3.5e-18, 2.3e18] (dims must be whole).
  // 221683520 case 6572 (resnet20, bit flips): a Slice axis of 2^31 + 2 wrote index 2^31 of a shape array, whose 2^31
  // holes every later walk visited.
  for (const [seed, at] of PINNED_CASES) {
    it(`pinned case ${at} of seed ${seed}`, async () => {
      const result = await runFuzzer(seed, at + 1, 120_000, { from: at, fromFirstReport: true });
      expect(result).toMatchObject({ cases: 1, problems: [] });
    }, 150_000);
  }

  // The limit runs from the child's first report: counted from the spawn, a loaded machine could take longer than
  // 3 s just to start the child, and the message would name no case.
  it('the watchdog ends a run that does not answer', async () => {
    await expect(runFuzzer(1, 1_000_000_000, 3_000, { fromFirstReport: true })).rejects.toThrow(
      /no answer within 3 s \(a hang\?\) — last reached case \d+/,
    );
  });
});
