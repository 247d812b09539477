/**
 * Child process of library.kill.test.ts (not part of the app): opens the real library and runs a seeded,
 * endless sequence of imports, touches and removals until the test kills it with SIGKILL. Each step is
 * written to stdout before it starts ("begin …") and after it finished ("done …"), synchronously, so the
 * parent knows which step a kill interrupted; the library's own steps ("step data placed", …) are written
 * too, so the parent can aim kills between them. Stops by itself after 60 s, should the parent be gone.
 *
 * argv: <dataDir> <seed> <fixtures JSON: [{ path, bytes: boolean }]>
 */
import { readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { SeededRandom } from '../../renderer/src/core/build/random';
import { summarizeModel } from '../../renderer/src/core/summary';
import { openLibrary } from './library';

interface Fixture {
  path: string;
  /** Also imported as dropped bytes (self-contained models only). */
  bytes: boolean;
}

const [dataDir, seedText, fixturesJson] = process.argv.slice(2);
const say = (line: string) => writeSync(1, `${line}\n`);

async function main(): Promise<void> {
  setTimeout(() => process.exit(3), 60_000);
  const fixtures = JSON.parse(fixturesJson!) as Fixture[];
  const rng = new SeededRandom(Number(seedText));
  const next = () => rng.uniform();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  say('open');
  const library = await openLibrary({
    dataDir: dataDir!,
    inspect: summarizeModel,
    onStep: (step) => say(`step ${step}`),
  });
  say('ready');
  for (;;) {
    const roll = next();
    const ids = library.list().map((entry) => entry.id);
    if (roll < 0.35 || ids.length === 0) {
      const fixture = pick(fixtures);
      say(`begin import ${fixture.path}`);
      say(`done import ${(await library.importFile(fixture.path)).id}`);
    } else if (roll < 0.5) {
      const fixture = pick(fixtures.filter((f) => f.bytes));
      say(`begin import ${fixture.path}`);
      const entry = await library.importBytes(new Uint8Array(readFileSync(fixture.path)), basename(fixture.path));
      say(`done import ${entry.id}`);
    } else if (roll < 0.75) {
      const id = pick(ids);
      say(`begin touch ${id}`);
      await library.touch(id);
      say(`done touch ${id}`);
    } else {
      const id = pick(ids);
      say(`begin remove ${id}`);
      await library.remove(id);
      say(`done remove ${id}`);
    }
  }
}

main().catch((error: unknown) => {
  say(`error ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
