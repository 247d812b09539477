import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  open as open_,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelMeta } from '../../renderer/src/core/catalog';
import { type InspectModel, type Library, type LibraryOptions, openLibrary, readWhole } from './library';
import { externalize, libraryProblems, sha256Of, writeExternalModel } from './libraryFixtures';

const modelsDir = fileURLToPath(new URL('../../models/cifar10/', import.meta.url));
const model = (name: string) => join(modelsDir, name);
const manifest = JSON.parse(
  await readFile(fileURLToPath(new URL('../../models/manifest.json', import.meta.url)), 'utf8'),
);
const shaOf = (file: string): string =>
  manifest.models.find((m: { file: string }) => m.file === `cifar10/${file}`).sha256;

/** Stand-in used only while renderer/src/core/summary.ts does not exist yet: checks the ONNX protobuf start. */
const checkOnnxMagic: InspectModel = (bytes, fileName) => {
  // ModelProto starts with field 1 (ir_version, varint): tag byte 0x08.
  if (bytes.byteLength < 16 || bytes[0] !== 0x08) throw new Error(`${fileName} is not an ONNX model (bad header)`);
  return { architecture: 'ONNX model', parameters: 0, opset: 0, irVersion: bytes[1]!, producer: '', blocks: 0 };
};

const summaryModule = '../../renderer/src/core/summary.ts';
const realInspect = existsSync(fileURLToPath(new URL(summaryModule, import.meta.url)))
  ? ((await import(/* @vite-ignore */ summaryModule)) as { summarizeModel?: InspectModel }).summarizeModel
  : undefined;
const inspector = realInspect ? 'summarizeModel' : 'ONNX magic check (summary.ts missing)';

let dataDir: string;
let inspectCalls: number;
const inspect: InspectModel = (bytes, fileName, resolveExternal): ModelMeta => {
  inspectCalls += 1;
  return (realInspect ?? checkOnnxMagic)(bytes, fileName, resolveExternal);
};
let clock: number;
const open = (extra: Partial<LibraryOptions> = {}): Promise<Library> =>
  openLibrary({ dataDir, inspect, now: () => ++clock, ...extra });
const libraryFiles = async (library: Library) => (await readdir(library.dir)).sort();

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'skipscope-library-'));
  inspectCalls = 0;
  clock = 1_000;
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe(`library (inspector: ${inspector})`, () => {
  it('imports a model into a content-addressed file and lists it with cached metadata', async () => {
    const library = await open();
    expect(library.dir).toBe(join(dataDir, 'library'));
    const entry = await library.importFile(model('resnet20.onnx'));
    const sha = shaOf('resnet20.onnx');
    expect(entry).toMatchObject({ id: sha, sha256: sha, name: 'resnet20', fileName: 'resnet20.onnx', openedAt: null });
    expect(entry.bytes).toBe((await stat(model('resnet20.onnx'))).size);
    expect(entry.meta.irVersion).toBeGreaterThan(0);
    if (realInspect) expect(entry.meta.blocks).toBe(9);
    expect(await libraryFiles(library)).toEqual([`${sha}.onnx`, 'index.json']);
    expect((await readFile(library.pathOf(sha))).equals(await readFile(model('resnet20.onnx')))).toBe(true);
    expect(library.list()).toEqual([entry]);

    const index = JSON.parse(await readFile(join(library.dir, 'index.json'), 'utf8'));
    expect(index.entries[0]).toMatchObject({ id: sha, meta: entry.meta });
  });

  it('computes metadata once: listing and reopening never re-inspect', async () => {
    const library = await open();
    await library.importFile(model('resnet20.onnx'));
    await library.importFile(model('resnet32.onnx'));
    expect(inspectCalls).toBe(2);
    library.list();
    library.list();
    const reopened = await open();
    expect(reopened.report).toMatchObject({ index: 'ok', adopted: [], dropped: [], rejected: [] });
    expect(reopened.list().map((e) => e.name)).toEqual(['resnet20', 'resnet32']);
    expect(inspectCalls).toBe(2);
  });

  it('dedupes by content: the same bytes under any name return the existing entry', async () => {
    const library = await open();
    const first = await library.importFile(model('resnet20.onnx'));
    const copy = join(dataDir, 'renamed copy.onnx');
    await copyFile(model('resnet20.onnx'), copy);
    const second = await library.importFile(copy);
    const third = await library.importBytes(await readFile(model('resnet20.onnx')), 'dropped.onnx');
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(library.list()).toHaveLength(1);
    expect(await libraryFiles(library)).toEqual([`${first.id}.onnx`, 'index.json']);
  });

  it('imports bytes (drag and drop) with a sanitised name', async () => {
    const library = await open();
    const bytes = await readFile(model('resnet32.onnx'));
    const entry = await library.importBytes(bytes, '../../evil\u0007/resnet32.onnx');
    expect(entry).toMatchObject({ id: shaOf('resnet32.onnx'), fileName: 'resnet32.onnx', name: 'resnet32' });
    expect(
      createHash('sha256')
        .update(await readFile(library.pathOf(entry.id)))
        .digest('hex'),
    ).toBe(entry.id);
  });

  it('removes a model: file and entry go, and stay gone after reopening', async () => {
    const library = await open();
    const a = await library.importFile(model('resnet20.onnx'));
    const b = await library.importFile(model('resnet32.onnx'));
    await library.remove(a.id);
    expect(library.list().map((e) => e.id)).toEqual([b.id]);
    expect(await libraryFiles(library)).toEqual([`${b.id}.onnx`, 'index.json']);
    await expect(library.remove(a.id)).rejects.toThrow('That model is no longer in the library');
    expect((await open()).list().map((e) => e.id)).toEqual([b.id]);
  });

  it('orders recent models by last open, newest first, and persists it', async () => {
    const library = await open();
    const a = await library.importFile(model('resnet20.onnx'));
    const b = await library.importFile(model('resnet32.onnx'));
    const c = await library.importFile(model('resnet44.onnx'));
    expect(library.recent(5)).toEqual([]);
    await library.touch(b.id);
    await library.touch(a.id);
    await library.touch(c.id);
    await library.touch(a.id);
    expect(library.recent(5).map((e) => e.id)).toEqual([a.id, c.id, b.id]);
    expect(library.recent(2).map((e) => e.id)).toEqual([a.id, c.id]);
    expect((await open()).recent(3).map((e) => e.id)).toEqual([a.id, c.id, b.id]);
  });

  it('rebuilds a corrupt index from the files present (re-hash + re-inspect)', async () => {
    const library = await open();
    const a = await library.importFile(model('resnet20.onnx'));
    const b = await library.importFile(model('resnet56.onnx'));
    await writeFile(join(library.dir, 'index.json'), '{"version":1,"entries":[{"id":"garb\u0000age');
    inspectCalls = 0;
    const reopened = await open();
    expect(reopened.report.index).toBe('corrupt');
    expect(reopened.report.adopted.sort()).toEqual([a.id, b.id].sort());
    expect(inspectCalls).toBe(2);
    const byId = new Map(reopened.list().map((e) => [e.id, e]));
    for (const original of [a, b]) {
      expect(byId.get(original.id)).toMatchObject({
        bytes: original.bytes,
        sha256: original.sha256,
        meta: original.meta,
      });
      expect(byId.get(original.id)!.name).toMatch(/\(recovered\)$/);
    }
    // The rebuilt index is valid again and the bad one is kept aside for a bug report.
    expect((await open()).report.index).toBe('ok');
    expect(await libraryFiles(reopened)).toContain('index.json.corrupt');
  });

  it('a second damaged index never replaces the first one kept aside', async () => {
    const library = await open();
    await library.importFile(model('resnet20.onnx'));
    await writeFile(join(library.dir, 'index.json'), '{"version":1,"entries":[ first');
    await open();
    await writeFile(join(library.dir, 'index.json'), '{"version":1,"entries":[ second');
    await open();
    const kept = (await libraryFiles(library)).filter((f) => f.startsWith('index.json.corrupt'));
    expect(kept).toHaveLength(2);
    const texts = await Promise.all(kept.map((f) => readFile(join(library.dir, f), 'utf8')));
    expect(texts.sort()).toEqual(['{"version":1,"entries":[ first', '{"version":1,"entries":[ second']);
  });

  it('an index a newer version wrote, or one that cannot be read, is left as it is: no rebuild, no names lost', async () => {
    const library = await open();
    const a = await library.importBytes(new Uint8Array(await readFile(model('resnet20.onnx'))), 'my-favourite.onnx');
    const path = join(library.dir, 'index.json');
    const index = JSON.parse(await readFile(path, 'utf8')) as { version: number };
    const newer = JSON.stringify({ ...index, version: 2 });
    await writeFile(path, newer);
    const reopened = await open();
    expect(reopened.report.setAside).toBeNull();
    expect(reopened.report.notice).toMatch(/a newer Skipscope wrote it \(index version 2; this one reads 1\)/);
    expect(reopened.list()).toEqual([]);
    await expect(reopened.importFile(model('resnet32.onnx'))).rejects.toThrow(/unavailable/);
    expect(await readFile(path, 'utf8')).toBe(newer);
    expect((await libraryFiles(library)).filter((f) => f.startsWith('index.json'))).toEqual(['index.json']);
    // An index that cannot be read (here a loop of links; for a user, a permission) is not rebuilt either.
    await rm(path);
    await symlink('index.json', path);
    const unreadable = await open();
    expect(unreadable.report.notice).toMatch(/its index cannot be read \(ELOOP\)/);
    expect((await lstat(path)).isSymbolicLink()).toBe(true);
    // Put back, the library opens with the user's name for the model.
    await rm(path);
    await writeFile(path, JSON.stringify(index));
    expect((await open()).get(a.id)?.name).toBe('my-favourite');
  });

  // Root writes into a read-only folder anyway: as root the child runs as nobody (setpriv, util-linux).
  const root = process.getuid?.() === 0;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  it.skipIf(process.platform === 'win32' || (root && !setpriv))(
    'a library folder made read-only keeps its models listed when the index needs a repair it cannot save',
    async (context) => {
      const work = await mkdtemp(join(tmpdir(), 'skipscope-readonly-child-'));
      let out: string;
      try {
        const child = join(work, 'child.cjs');
        await build({
          entryPoints: [fileURLToPath(new URL('./libraryReadOnlyChild.ts', import.meta.url))],
          outfile: child,
          bundle: true,
          platform: 'node',
          format: 'cjs',
          target: 'node20',
          logLevel: 'silent',
        });
        // Everything the child reads is in this folder: the checkout itself may be private to root.
        const copy = join(work, 'resnet20.onnx');
        await copyFile(model('resnet20.onnx'), copy);
        await Promise.all([chmod(work, 0o755), chmod(child, 0o644), chmod(copy, 0o644)]);
        const asNobody = [setpriv!, '--reuid=65534', '--regid=65534', '--clear-groups'];
        // Node itself may be out of nobody's reach (installed under /root): then this machine cannot run the test.
        if (root) {
          try {
            execFileSync(asNobody[0]!, [...asNobody.slice(1), process.execPath, '-e', '0'], { cwd: work });
          } catch {
            context.skip();
          }
        }
        const command = root ? [...asNobody, process.execPath, child, copy] : [process.execPath, child, copy];
        out = execFileSync(command[0]!, command.slice(1), {
          encoding: 'utf8',
          cwd: work,
          env: { ...process.env, HOME: work, TMPDIR: '/tmp' },
        });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      const report = JSON.parse(out) as { uid: number; setAside: string | null; listed: boolean[]; notice: string };
      expect(report.uid).not.toBe(0);
      // Before: the whole library was renamed library.damaged-* and an empty one started.
      expect(report.setAside).toBeNull();
      expect(report.listed).toEqual([true]);
      expect(report.notice).toMatch(/could not be saved \(EACCES\)/);
    },
  );

  it('rebuilds a missing index and drops entries whose file was deleted behind its back', async () => {
    const library = await open();
    const a = await library.importFile(model('resnet20.onnx'));
    const b = await library.importFile(model('resnet32.onnx'));
    await rm(join(library.dir, `${b.id}.onnx`));
    const afterDelete = await open();
    expect(afterDelete.report.dropped).toEqual([b.id]);
    expect(afterDelete.list().map((e) => e.id)).toEqual([a.id]);
    await rm(join(library.dir, 'index.json'));
    const rebuilt = await open();
    expect(rebuilt.report.index).toBe('missing');
    expect(rebuilt.list().map((e) => e.id)).toEqual([a.id]);
  });

  it('survives a kill between temp write and rename: old index intact, temp files cleaned', async () => {
    const library = await open();
    const a = await library.importFile(model('resnet20.onnx'));
    const indexBefore = await readFile(join(library.dir, 'index.json'), 'utf8');
    // What a killed import leaves: a fully or partly written temp copy, plus a torn index temp file.
    const bytes = await readFile(model('resnet32.onnx'));
    await writeFile(join(library.dir, '.import-0123456789abcdef.tmp'), bytes);
    await writeFile(join(library.dir, '.import-fedcba9876543210.tmp'), bytes.subarray(0, 1000));
    await writeFile(join(library.dir, '.index.json.a1b2c3d4e5f6.tmp'), '{"version":1,"entr');

    const reopened = await open();
    expect(reopened.report.cleaned).toHaveLength(3);
    expect(reopened.list().map((e) => e.id)).toEqual([a.id]);
    expect(await libraryFiles(reopened)).toEqual([`${a.id}.onnx`, 'index.json']);
    expect(await readFile(join(library.dir, 'index.json'), 'utf8')).toBe(indexBefore);
  });

  it('adopts a file that was renamed into place just before a kill (index not yet written)', async () => {
    const library = await open();
    await library.importFile(model('resnet20.onnx'));
    const sha = shaOf('resnet32.onnx');
    await copyFile(model('resnet32.onnx'), join(library.dir, `${sha}.onnx`));
    const reopened = await open();
    expect(reopened.report.adopted).toEqual([sha]);
    expect(reopened.list()).toHaveLength(2);
  });

  it('sets aside a file whose content does not match its name instead of listing it', async () => {
    const library = await open();
    const fake = 'a'.repeat(64);
    await copyFile(model('resnet20.onnx'), join(library.dir, `${fake}.onnx`));
    const reopened = await open();
    expect(reopened.report.rejected).toEqual([fake]);
    expect(reopened.list()).toEqual([]);
    expect(await libraryFiles(reopened)).toEqual([`${fake}.onnx.rejected`, 'index.json']);
  });

  describe('refuses bad files with a one-line message and leaves nothing behind', () => {
    const expectRefused = async (library: Library, attempt: Promise<unknown>, message: RegExp) => {
      const error = await attempt.then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toMatch(message);
      expect(error!.message).not.toContain('\n');
      expect(await libraryFiles(library)).toEqual(['index.json']);
      expect(library.list()).toEqual([]);
    };

    it('a zero-byte file', async () => {
      const library = await open();
      const empty = join(dataDir, 'empty.onnx');
      await writeFile(empty, '');
      await expectRefused(library, library.importFile(empty), /^empty\.onnx is empty \(0 bytes\)$/);
      await expectRefused(library, library.importBytes(new Uint8Array(0), 'drop.onnx'), /drop\.onnx is empty/);
    });

    it('random bytes', async () => {
      const library = await open();
      const noise = new Uint8Array(4096);
      let seed = 12345;
      for (let i = 0; i < noise.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        noise[i] = seed >>> 24;
      }
      noise[0] = 0x9b;
      const file = join(dataDir, 'noise.onnx');
      await writeFile(file, noise);
      await expectRefused(library, library.importFile(file), /noise\.onnx/);
      await expectRefused(library, library.importBytes(noise, 'noise2.onnx'), /noise2\.onnx/);
    });

    it('a file over the size limit, a directory and a missing file', async () => {
      const library = await open({ maxBytes: 1024 * 1024 });
      await expectRefused(
        library,
        library.importFile(model('resnet20.onnx')),
        /^resnet20\.onnx is 1\.0 MiB; the library accepts models up to 1\.0 MiB$/,
      );
      await expectRefused(library, library.importFile(dataDir), /is not a file$/);
      await expectRefused(
        library,
        library.importFile(join(dataDir, 'nope.onnx')),
        /^nope\.onnx could not be read \(ENOENT\)$/,
      );
    });
  });

  it('rejects ids that are not sha256 digests before touching any path', async () => {
    const library = await open();
    const entry = await library.importFile(model('resnet20.onnx'));
    const bad = [
      '../../etc/passwd',
      '/etc/passwd',
      'C:\\Windows\\system.ini',
      `${entry.id}/../index.json`,
      `../${entry.id}`,
      'a/b',
      '..\\..\\secret',
      entry.id.toUpperCase(),
      `${entry.id}.onnx`,
      '',
      42 as unknown as string,
    ];
    for (const id of bad) {
      expect(() => library.pathOf(id), String(id)).toThrow(/^Invalid model id/);
      await expect(library.remove(id)).rejects.toThrow(/^Invalid model id/);
      await expect(library.touch(id)).rejects.toThrow(/^Invalid model id/);
      expect(library.get(id)).toBeUndefined();
    }
    expect(() => library.pathOf('b'.repeat(64))).toThrow('That model is no longer in the library');
    expect(library.list()).toHaveLength(1);
  });

  it('serialises concurrent imports so the index keeps every entry', async () => {
    const library = await open();
    const names = ['resnet20.onnx', 'resnet32.onnx', 'resnet44.onnx', 'resnet56.onnx'];
    await Promise.all([...names, ...names].map((name) => library.importFile(model(name))));
    expect(library.list()).toHaveLength(4);
    expect(
      (await open())
        .list()
        .map((e) => e.id)
        .sort(),
    ).toEqual(names.map(shaOf).sort());
  });
});

describe('models with external data', () => {
  const resnet20 = () => readFile(model('resnet20.onnx'));
  const srcDir = () => join(dataDir, 'src');
  /** A resolver over the library folder: how any ONNX reader resolves the stored model's locations. */
  const fromLibrary = (library: Library) => (location: string) => {
    const path = join(library.dir, location);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : null;
  };

  it('copies the data files in beside the model, content-addressed, and points the model at them', async () => {
    const library = await open();
    const inline = await library.importFile(model('resnet20.onnx'));
    const external = externalize(await resnet20());
    const path = await writeExternalModel(srcDir(), 'ext20.onnx', external);
    const entry = await library.importFile(path);
    const weights = external.files.get('weights.bin')!;
    expect(entry).toMatchObject({ name: 'ext20', fileName: 'ext20.onnx', meta: inline.meta });
    expect(entry.data).toEqual([{ sha256: sha256Of(weights), bytes: weights.byteLength }]);
    expect(await libraryFiles(library)).toEqual(
      [`${inline.id}.onnx`, `${entry.id}.onnx`, `${sha256Of(weights)}.data`, 'index.json'].sort(),
    );
    // The stored model reads back with its sha256 and resolves its weights from the library folder alone.
    const stored = new Uint8Array(await readFile(library.pathOf(entry.id)));
    expect(sha256Of(stored)).toBe(entry.id);
    if (realInspect) expect(realInspect(stored, 'x.onnx', fromLibrary(library))).toEqual(inline.meta);
    expect(await libraryProblems(library)).toEqual([]);
    // Importing it again gives the same entry; reopening needs no repair.
    expect(await library.importFile(path)).toEqual(entry);
    const reopened = await open();
    expect(reopened.report).toMatchObject({ index: 'ok', adopted: [], dropped: [], rejected: [], cleaned: [] });
    expect(reopened.get(entry.id)).toEqual(entry);
  });

  it('a data file whose name starts with two dots is inside the folder (it was refused as a link leading out)', async () => {
    const library = await open();
    const dotted = externalize(await resnet20(), () => '..weights.bin');
    const entry = await library.importFile(await writeExternalModel(srcDir(), 'dotted.onnx', dotted));
    expect(entry.data).toHaveLength(1);
  });

  it('one data file per tensor, shared data between models, and removal keeps what another model uses', async () => {
    const library = await open();
    const perTensor = externalize(await resnet20(), (index) => `tensors/t${index}.bin`);
    await mkdir(join(srcDir(), 'tensors'), { recursive: true });
    const a = await library.importFile(await writeExternalModel(srcDir(), 'a.onnx', perTensor));
    expect(a.data.length).toBe(new Set([...perTensor.files.values()].map(sha256Of)).size);
    // Same weights, different model bytes: the data files are shared.
    const b = await library.importFile(
      await writeExternalModel(
        join(dataDir, 'other'),
        'b.onnx',
        externalize(await resnet20(), (i) => `tensors-t${i}`, 'other'),
      ),
    );
    expect(b.id).not.toBe(a.id);
    expect(b.data.map((f) => f.sha256).sort()).toEqual(a.data.map((f) => f.sha256).sort());
    expect(await libraryProblems(library)).toEqual([]);
    await library.remove(a.id);
    expect(await libraryProblems(library)).toEqual([]);
    expect((await libraryFiles(library)).filter((n) => n.endsWith('.data'))).toHaveLength(b.data.length);
    await library.remove(b.id);
    expect(await libraryFiles(library)).toEqual(['index.json']);
  });

  describe('refuses in one line why it cannot, and leaves nothing behind', () => {
    const expectRefusal = async (library: Library, attempt: Promise<unknown>, message: RegExp) => {
      const error = await attempt.then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(message);
      expect(error!.message).not.toContain('\n');
      expect(error!.message).not.toMatch(/not found/);
      expect(await libraryFiles(library)).toEqual(['index.json']);
    };

    it('a missing data file', async () => {
      const library = await open();
      const external = externalize(await resnet20());
      const path = await writeExternalModel(srcDir(), 'ext.onnx', external);
      await rm(join(srcDir(), 'weights.bin'));
      await expectRefusal(
        library,
        library.importFile(path),
        /^ext\.onnx needs its external data file "weights\.bin", which is missing from the model's folder$/,
      );
    });

    it('locations that climb out of the folder or are absolute', async () => {
      const library = await open();
      const bytes = await resnet20();
      for (const [location, why] of [
        ['../weights.bin', /"\.\.\/weights\.bin", which climbs out of the model's folder/],
        ['sub/../../weights.bin', /climbs out of the model's folder/],
        ['/etc/passwd', /"\/etc\/passwd", an absolute path/],
        ['C:\\weights.bin', /an absolute path/],
      ] as const) {
        const external = externalize(bytes, () => location);
        await mkdir(srcDir(), { recursive: true });
        const path = join(srcDir(), 'hostile.onnx');
        await writeFile(path, external.model);
        await writeFile(join(dataDir, 'weights.bin'), external.files.get(location)!);
        await expectRefusal(
          library,
          library.importFile(path),
          new RegExp(`^hostile\\.onnx refers to external data at .*${why.source}.*; only data files inside`),
        );
      }
    });

    it('a symlink beside the model that points outside its folder, and a folder as data', async () => {
      const library = await open();
      const external = externalize(await resnet20());
      const path = await writeExternalModel(srcDir(), 'ext.onnx', external);
      await writeFile(join(dataDir, 'outside.bin'), external.files.get('weights.bin')!);
      await rm(join(srcDir(), 'weights.bin'));
      await symlink(join(dataDir, 'outside.bin'), join(srcDir(), 'weights.bin'));
      await expectRefusal(
        library,
        library.importFile(path),
        /^ext\.onnx: its external data file "weights\.bin" is a link to a file outside the model's folder \(refused\)$/,
      );
      await rm(join(srcDir(), 'weights.bin'));
      await mkdir(join(srcDir(), 'weights.bin'));
      await expectRefusal(
        library,
        library.importFile(path),
        /^ext\.onnx: its external data "weights\.bin" is not a file$/,
      );
      // A link that stays inside the folder is fine.
      await rm(join(srcDir(), 'weights.bin'), { recursive: true });
      await writeFile(join(srcDir(), 'real.bin'), external.files.get('weights.bin')!);
      await symlink('real.bin', join(srcDir(), 'weights.bin'));
      expect((await library.importFile(path)).data).toHaveLength(1);
    });

    it('dropped bytes, which come without their folder', async () => {
      const library = await open();
      const external = externalize(await resnet20());
      await expectRefusal(
        library,
        library.importBytes(external.model, 'dropped.onnx'),
        /^dropped\.onnx keeps its weights in external data \("weights\.bin"\); open it with File → Open…/,
      );
    });

    it('data over the limit', async () => {
      const library = await open({ maxDataBytes: 1000 });
      const path = await writeExternalModel(srcDir(), 'ext.onnx', externalize(await resnet20()));
      await expectRefusal(
        library,
        library.importFile(path),
        /^ext\.onnx's external data files come to more than 1000 bytes, the most the library accepts$/,
      );
    });
  });

  it('a data file deleted behind the library is said in one line, without the folder path', async () => {
    const library = await open();
    const entry = await library.importFile(
      await writeExternalModel(srcDir(), 'gone.onnx', externalize(await resnet20())),
    );
    await rm(join(library.dir, `${entry.data[0]!.sha256}.data`));
    const error = await library.readInlined(entry.id).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toBe(
      'gone.onnx: its data file cannot be read from the library (ENOENT); remove the model and import it again',
    );
  });

  it('reopening repairs: a lost index re-adopts the model with its data, lost data drops it, unused data goes', async () => {
    const library = await open();
    const entry = await library.importFile(
      await writeExternalModel(srcDir(), 'ext.onnx', externalize(await resnet20())),
    );
    const dataName = `${entry.data[0]!.sha256}.data`;
    await rm(join(library.dir, 'index.json'));
    const rebuilt = await open();
    expect(rebuilt.report).toMatchObject({ index: 'missing', adopted: [entry.id], rejected: [], cleaned: [] });
    expect(rebuilt.get(entry.id)).toMatchObject({ data: entry.data, meta: entry.meta });
    expect(await libraryProblems(rebuilt)).toEqual([]);

    await rm(join(library.dir, dataName));
    const lost = await open();
    expect(lost.report).toMatchObject({ dropped: [entry.id], rejected: [entry.id] });
    expect(lost.list()).toEqual([]);
    expect(lost.report.notice).toMatch(/1 library file could not be verified/);
    expect(await libraryFiles(lost)).toEqual([`${entry.id}.onnx.rejected`, 'index.json']);

    await writeFile(join(library.dir, `${'c'.repeat(64)}.data`), 'left by a killed import');
    const cleaned = await open();
    expect(cleaned.report.cleaned).toEqual([`${'c'.repeat(64)}.data`]);
    expect(await libraryFiles(cleaned)).toEqual([`${entry.id}.onnx.rejected`, 'index.json']);
  });
});

describe('files of 2 GiB and more', () => {
  it('are read in pieces: one read of 2 GiB aborted the whole process (a model with a 2 GiB data file)', async () => {
    const file = join(dataDir, 'big.data');
    const size = 2 ** 31 + 8;
    await writeFile(file, Buffer.from('head'));
    await truncate(file, size); // sparse: no disk space used
    const tail = await open_(file, 'r+');
    await tail.write(Buffer.from('tail'), 0, 4, size - 4);
    await tail.close();
    const bytes = await readWhole(file, size, 'big.data');
    expect(bytes.byteLength).toBe(size);
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('head');
    expect(Buffer.from(bytes.subarray(size - 4)).toString()).toBe('tail');
  });
});

describe('size first: garbage is refused from its header, before anything is copied', () => {
  /** Bytes this process has read through system calls (Linux); null elsewhere. */
  const bytesRead = async (): Promise<number | null> => {
    const io = await readFile('/proc/self/io', 'utf8').catch(() => null);
    const match = io && /^rchar: (\d+)$/m.exec(io);
    return match ? Number(match[1]) : null;
  };

  it('a 1.5 GB garbage file is refused after a few KiB are read, and nothing is written', async () => {
    const library = await open();
    const file = join(dataDir, 'garbage.onnx');
    await writeFile(file, Buffer.from('\x08\x07\x12\x07pytorch\x1aGARBAGE GARBAGE'));
    await truncate(file, 1.5e9); // sparse: no disk space used
    const before = await bytesRead();
    const error = await library.importFile(file).then(
      () => null,
      (e: Error) => e,
    );
    const after = await bytesRead();
    // ir_version 7, a producer name, then a 71-byte field over zeros: field number 0 at byte 84 is not protobuf.
    expect(error?.message).toBe('garbage.onnx is not an ONNX model (bad protobuf at byte 84)');
    if (before !== null && after !== null) expect(after - before).toBeLessThan(1 << 20);
    expect(await libraryFiles(library)).toEqual(['index.json']);
  });

  it('refuses a cut-off model, a wrong wire type and a model without a graph from the header', async () => {
    const library = await open();
    const bytes = await readFile(model('resnet20.onnx'));
    const cut = join(dataDir, 'cut.onnx');
    await writeFile(cut, bytes.subarray(0, 100_000));
    await expect(library.importFile(cut)).rejects.toThrow(
      /^cut\.onnx is not an ONNX model \(the data ends early: at byte \d+ a field needs \d+ more bytes, but the file ends at byte 100000\)$/,
    );
    await expect(library.importBytes(Uint8Array.of(0x0a, 0x01, 0x00), 'wire.onnx')).rejects.toThrow(
      'wire.onnx is not an ONNX model (bad protobuf at byte 0)',
    );
    await expect(library.importBytes(Uint8Array.of(0x08, 0x07, 0x42, 0x00), 'nograph.onnx')).rejects.toThrow(
      'nograph.onnx is not an ONNX model (no graph)',
    );
    expect(await libraryFiles(library)).toEqual(['index.json']);
  });
});

describe('a damaged library is set aside, never fatal', () => {
  it('a file where the library folder should be: kept as library.damaged-*, a new library opens', async () => {
    await writeFile(join(dataDir, 'library'), 'not a folder');
    const library = await open();
    expect(library.report.setAside).toMatch(/^library\.damaged-/);
    expect(library.report.notice).toMatch(
      /^The model library could not be opened \(.*\); it was kept as library\.damaged-\S+ and a new, empty library was started$/,
    );
    expect(await readFile(join(dataDir, library.report.setAside!), 'utf8')).toBe('not a folder');
    const entry = await library.importFile(model('resnet20.onnx'));
    expect((await open()).list()).toEqual([entry]);
  });

  it('stray temp folders are left alone, an index.json folder is set aside and rebuilt, linked model files rejected', async () => {
    const first = await open();
    const entry = await first.importFile(model('resnet20.onnx'));
    const dir = first.dir;
    await mkdir(join(dir, '.import-0123456789abcdef.tmp'));
    await writeFile(join(dir, '.import-0123456789abcdef.tmp', 'inside'), 'x');
    await rm(join(dir, 'index.json'));
    await mkdir(join(dir, 'index.json'));
    const fake = 'd'.repeat(64);
    await symlink(model('resnet32.onnx'), join(dir, `${fake}.onnx`));
    const library = await open();
    expect(library.report).toMatchObject({
      index: 'corrupt',
      adopted: [entry.id],
      rejected: [`${fake}.onnx`],
      setAside: null,
    });
    expect(library.list().map((e) => e.id)).toEqual([entry.id]);
    expect(await libraryFiles(library)).toEqual(
      [
        '.import-0123456789abcdef.tmp',
        `${entry.id}.onnx`,
        `${fake}.onnx.rejected`,
        'index.json',
        'index.json.corrupt',
      ].sort(),
    );
    expect((await open()).report).toMatchObject({ index: 'ok', adopted: [], rejected: [] });
  });

  it('no library can be made at all (the data folder is a file): empty, imports refused, nothing thrown', async () => {
    const file = join(dataDir, 'data-file');
    await writeFile(file, 'x');
    const library = await openLibrary({ dataDir: file, inspect });
    expect(library.report.notice).toMatch(/^The model library could not be opened \(.+\); bundled models still work/);
    expect(library.list()).toEqual([]);
    await expect(library.importFile(model('resnet20.onnx'))).rejects.toThrow(/^The model library is unavailable \(/);
  });
});
