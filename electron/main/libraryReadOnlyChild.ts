/**
 * Child process of library.test.ts (not part of the app): a library folder its user made read-only, opened when
 * its index needs a repair that cannot be saved. Run as a user other than root (root writes anyway): the test
 * starts it under setpriv when it runs as root. Prints one JSON line: what the reopened library reports and lists.
 *
 * argv: <model file>
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeModel } from '../../renderer/src/core/summary';
import { openLibrary } from './library';

async function main(): Promise<void> {
  const model = process.argv[2]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'skipscope-readonly-'));
  const options = { dataDir, inspect: summarizeModel };
  const library = await openLibrary(options);
  try {
    const entry = await library.importBytes(new Uint8Array(await readFile(model)), 'mine.onnx');
    await writeFile(join(library.dir, 'index.json'), '{"version":1,"entries":[');
    await chmod(library.dir, 0o555);
    const reopened = await openLibrary(options);
    process.stdout.write(
      `${JSON.stringify({
        uid: process.getuid?.(),
        setAside: reopened.report.setAside,
        listed: reopened.list().map((e) => e.id === entry.id),
        notice: reopened.report.notice,
      })}\n`,
    );
  } finally {
    await chmod(library.dir, 0o755).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

void main();
