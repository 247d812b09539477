import { chmod, lstat, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renameReplacing, writeFileAtomic, writeUserFileAtomic } from './atomic';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skipscope-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a saved export is a file the user owns as they expect', () => {
  it("keeps the replaced file's permissions, and a new file gets the umask's (not 0600)", async () => {
    const old = join(dir, 'export.png');
    await writeFile(old, 'old');
    await chmod(old, 0o664);
    await writeUserFileAtomic(old, 'new');
    expect(await readFile(old, 'utf8')).toBe('new');
    expect((await stat(old)).mode & 0o777).toBe(0o664);
    const fresh = join(dir, 'fresh.svg');
    await writeUserFileAtomic(fresh, 'x');
    const umask = process.umask();
    expect((await stat(fresh)).mode & 0o777).toBe(0o666 & ~umask);
    expect((await readdir(dir)).sort()).toEqual(['export.png', 'fresh.svg']);
  });

  it('writes through a link to the file it names: the link stays a link', async () => {
    const real = join(dir, 'real.csv');
    const link = join(dir, 'link.csv');
    await writeFile(real, 'old');
    await symlink(real, link);
    await writeUserFileAtomic(link, 'new');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('new');
  });

  it("the app's own files stay private (0600)", async () => {
    const own = join(dir, 'index.json');
    await writeFileAtomic(own, '{}');
    expect((await stat(own)).mode & 0o777).toBe(0o600);
  });
});

describe('a rename over a busy file on Windows is tried again', () => {
  const busy = (code: string) => Object.assign(new Error(`${code}: operation not permitted, rename`), { code });
  /** The real rename on the real file system, failing `failures` times first the way Windows does. */
  const flaky = (failures: string[]) => {
    const calls: string[] = [];
    return {
      calls,
      rename: async (from: string, to: string) => {
        const next = failures.shift();
        calls.push(next ?? 'ok');
        if (next) throw busy(next);
        await rename(from, to);
      },
    };
  };
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
  };
  beforeEach(() => {
    waits.length = 0;
  });

  it('EPERM, EACCES and EBUSY pass: the file is in place after them, the old content replaced', async () => {
    const from = join(dir, 'new.tmp');
    const to = join(dir, 'index.json');
    await writeFile(from, 'new');
    await writeFile(to, 'old');
    const f = flaky(['EPERM', 'EBUSY', 'EACCES']);
    await renameReplacing(from, to, { rename: f.rename, platform: 'win32', wait });
    expect(f.calls).toEqual(['EPERM', 'EBUSY', 'EACCES', 'ok']);
    expect(await readFile(to, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['index.json']);
    expect(waits).toEqual([10, 20, 40]);
  });

  it('a file that stays busy: the error is thrown after the last try, the source left for the caller to remove', async () => {
    const from = join(dir, 'new.tmp');
    await writeFile(from, 'new');
    const f = flaky(Array(20).fill('EPERM'));
    await expect(
      renameReplacing(from, join(dir, 'index.json'), { rename: f.rename, platform: 'win32', wait }),
    ).rejects.toMatchObject({ code: 'EPERM' });
    expect(f.calls).toHaveLength(9);
    expect(await readdir(dir)).toEqual(['new.tmp']);
  });

  it('elsewhere, and for other errors, the first error is thrown at once', async () => {
    const from = join(dir, 'new.tmp');
    await writeFile(from, 'new');
    const linux = flaky(['EPERM']);
    await expect(
      renameReplacing(from, join(dir, 'a'), { rename: linux.rename, platform: 'linux', wait }),
    ).rejects.toMatchObject({ code: 'EPERM' });
    const other = flaky(['ENOSPC']);
    await expect(
      renameReplacing(from, join(dir, 'a'), { rename: other.rename, platform: 'win32', wait }),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
    expect([linux.calls, other.calls]).toEqual([['EPERM'], ['ENOSPC']]);
    expect(waits).toEqual([]);
  });
});
