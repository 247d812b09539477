/**
 * Kills a real child process (SIGKILL) at random points while it imports, touches and removes models in the
 * real library, then reopens the library and checks it: the index matches the files, no temp files are left,
 * every listed model and data file reads back with its sha256, every step the child finished is kept, and a
 * second open finds nothing to repair. Seeded and replayable: SKIPSCOPE_KILL_SEED, SKIPSCOPE_KILLS (default
 * 30, at most 60). Kill delays are drawn from the seed; where they land depends on the machine's speed.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../renderer/src/core/build/random';
import { summarizeModel } from '../../renderer/src/core/summary';
import { openLibrary } from './library';
import { externalize, libraryProblems, writeExternalModel } from './libraryFixtures';

const SEED = Number(process.env.SKIPSCOPE_KILL_SEED ?? 2323);
const KILLS = Math.min(60, Math.max(1, Math.floor(Number(process.env.SKIPSCOPE_KILLS ?? 30))));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

let work: string;
let childScript: string;
let fixtures: { path: string; bytes: boolean }[];
/** The library id each fixture gets (for a model with external data, the id of its relocated copy). */
const idOf = new Map<string, string>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'skipscope-kill-'));
  // One bundle, so each of the many children starts in a fraction of a second.
  childScript = join(work, 'child.cjs');
  await build({
    entryPoints: [here('./libraryKillChild.ts')],
    outfile: childScript,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  const dir = join(work, 'fixtures');
  await mkdir(dir);
  const models = here('../../models/cifar10/');
  fixtures = [];
  for (const name of ['resnet20.onnx', 'resnet32.onnx']) {
    await copyFile(join(models, name), join(dir, name));
    fixtures.push({ path: join(dir, name), bytes: true });
  }
  const shared = externalize(await readFile(join(models, 'resnet20.onnx')));
  fixtures.push({ path: await writeExternalModel(join(dir, 'shared'), 'ext20.onnx', shared), bytes: false });
  // One data file per tensor: many files, many points for a kill to land between.
  const perTensor = externalize(await readFile(join(models, 'resnet32.onnx')), (index) => `t${index}.bin`);
  fixtures.push({ path: await writeExternalModel(join(dir, 'split'), 'ext32.onnx', perTensor), bytes: false });
  const scratch = await openLibrary({ dataDir: join(work, 'scratch'), inspect: summarizeModel });
  for (const fixture of fixtures) idOf.set(fixture.path, (await scratch.importFile(fixture.path)).id);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Where a kill is aimed: `delay` ms (0 to `spread`) after the first output line that starts with `line`. */
const TRIGGERS = [
  { line: 'open', spread: 40, weight: 0.15 }, // while the child opens (and repairs) the library
  { line: 'ready', spread: 400, weight: 0.2 }, // anywhere among its steps
  { line: 'begin import', spread: 150, weight: 0.15 },
  { line: 'begin remove', spread: 20, weight: 0.1 },
  { line: 'begin touch', spread: 20, weight: 0.05 },
  // Right after one of the library's own steps: the narrow windows between renames and index writes.
  { line: 'step data staged', spread: 5, weight: 0.05 },
  { line: 'step data placed', spread: 3, weight: 0.1 },
  { line: 'step model staged', spread: 3, weight: 0.05 },
  { line: 'step model placed', spread: 3, weight: 0.05 },
  { line: 'step model deleted', spread: 3, weight: 0.05 },
  { line: 'step index saved', spread: 3, weight: 0.05 },
] as const;

/** The trigger whose share of [0, 1) holds `roll`. */
function pickTrigger(roll: number): (typeof TRIGGERS)[number] {
  let below = 0;
  for (const trigger of TRIGGERS) {
    below += trigger.weight;
    if (roll < below) return trigger;
  }
  return TRIGGERS[0];
}

/** Runs the child and SIGKILLs it `delayMs` after the first line starting with `trigger`; resolves with its output. */
function runAndKill(args: string[], trigger: string, delayMs: number) {
  return new Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [childScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let armed = false;
      // Bounded: a child that never gets to its trigger line is killed anyway and the test fails on it.
      const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (!armed && stdout.split('\n').some((line) => line.startsWith(trigger))) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(watchdog);
        resolve({ lines: stdout.split('\n').filter(Boolean), signal, code, stderr });
      });
    },
  );
}

describe('library under SIGKILL', () => {
  it(`stays consistent through ${KILLS} kills during import, touch and remove (seed ${SEED})`, async () => {
    const rng = new SeededRandom(SEED); // the same mulberry32 stream as the child's
    const next = () => rng.uniform();
    const dataDir = join(work, 'data');
    const fixturesJson = JSON.stringify(fixtures);
    /** Ids that must be listed (their last finished step was an import) and ids that may be (a step was cut). */
    let expected = new Set<string>();
    let maybe = new Set<string>();
    let finishedSteps = 0;
    let cutSteps = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const where = `seed ${SEED}, kill ${kill + 1} of ${KILLS}`;
      const childSeed = Math.floor(next() * 2 ** 32);
      const trigger = pickTrigger(next());
      const delay = Math.floor(next() * trigger.spread);
      const run = await runAndKill([dataDir, String(childSeed), fixturesJson], trigger.line, delay);
      expect(run.signal, `${where}: child ended by itself (code ${run.code}): ${run.stderr}`).toBe('SIGKILL');

      let inFlight: { op: string; arg: string } | null = null;
      for (const line of run.lines) {
        const step = /^(begin|done) (\w+) (.+)$/.exec(line);
        if (!step) {
          expect(line, `${where}: unexpected output`).toMatch(/^(open|ready|step [a-z ]+)$/);
          continue;
        }
        const [, phase, op, arg] = step as unknown as [string, string, string, string];
        if (phase === 'begin') {
          inFlight = { op, arg };
          continue;
        }
        inFlight = null;
        finishedSteps++;
        // A finished import or touch means the model is listed now; a finished removal, that it is gone.
        if (op === 'remove') expected.delete(arg);
        else expected.add(arg);
        maybe.delete(arg);
      }
      if (inFlight) {
        cutSteps++;
        // A cut removal may or may not have happened; so may a cut import of a model not yet listed.
        if (inFlight.op === 'remove' && expected.delete(inFlight.arg)) maybe.add(inFlight.arg);
        const id = idOf.get(inFlight.arg);
        if (inFlight.op === 'import' && id && !expected.has(id)) maybe.add(id);
      }

      // Every other kill is checked here; the others leave their debris to the next child's open.
      if (kill % 2 === 1 && kill !== KILLS - 1) continue;
      const library = await openLibrary({ dataDir, inspect: summarizeModel });
      expect(library.report.index, where).not.toBe('corrupt');
      expect(library.report.rejected, where).toEqual([]);
      expect(library.report.setAside, where).toBeNull();
      const listed = new Set(library.list().map((entry) => entry.id));
      const missing = [...expected].filter((id) => !listed.has(id));
      const unexpected = [...listed].filter((id) => !expected.has(id) && !maybe.has(id));
      expect({ missing, unexpected }, where).toEqual({ missing: [], unexpected: [] });
      expect(await libraryProblems(library), where).toEqual([]);
      const again = await openLibrary({ dataDir, inspect: summarizeModel });
      expect(again.report, where).toMatchObject({ index: 'ok', adopted: [], dropped: [], rejected: [], cleaned: [] });
      expected = listed;
      maybe = new Set();
    }
    // The kills must have interrupted real work, not just idle children.
    expect(finishedSteps).toBeGreaterThan(0);
    expect(cutSteps).toBeGreaterThanOrEqual(Math.ceil(KILLS / 3));
  }, 300_000);
});
