import { chmod, lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeUserFileAtomic } from './atomic';

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
