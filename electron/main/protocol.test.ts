import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeModel } from '../../renderer/src/core/onnx/decode';
import { createCatalog } from './catalog';
import { type Library, openLibrary } from './library';
import { externalize, writeExternalModel } from './libraryFixtures';
import { createProtocolHandler } from './protocol';
import { contentSecurityPolicy } from './security';

// protocol.ts and security.ts import Electron for registration only; the handler itself is plain fetch API.
vi.mock('electron', () => ({ protocol: {}, shell: {} }));

const repo = fileURLToPath(new URL('../../', import.meta.url));
let work: string;
let library: Library;
let handle: (request: Request) => Promise<Response>;
const read: string[] = [];
const get = (path: string, init?: RequestInit) => handle(new Request(`skipscope://app${path}`, init));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'skipscope-protocol-'));
  const rendererDir = join(work, 'renderer');
  await mkdir(join(rendererDir, 'assets'), { recursive: true });
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Skipscope</title>');
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(work, 'secret.txt'), 'secret');
  await symlink(join(work, 'secret.txt'), join(rendererDir, 'link.txt'));
  library = await openLibrary({
    dataDir: join(work, 'data'),
    inspect: () => ({ architecture: 'test', parameters: 1, opset: 13, irVersion: 7, producer: '', blocks: 0 }),
  });
  await library.importFile(join(repo, 'models/cifar10/resnet32.onnx'));
  const catalog = await createCatalog({ modelsDir: join(repo, 'models'), assetsDir: join(repo, 'assets'), library });
  handle = createProtocolHandler({ rendererDir, catalog, onModelRead: (id) => read.push(id) });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('skipscope:// protocol', () => {
  it('serves the renderer with cross-origin isolation and the CSP', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(response.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
    expect(response.headers.get('Cross-Origin-Embedder-Policy')).toBe('require-corp');
    expect(response.headers.get('Content-Security-Policy')).toBe(contentSecurityPolicy());
    expect(await response.text()).toContain('<title>Skipscope</title>');
    expect((await get('/assets/app.js')).headers.get('Content-Type')).toMatch(/^text\/javascript/);
  });

  it('streams bundled and library models by id, with their length', async () => {
    const bundled = await get('/@model/cifar10-resnet20');
    const expected = await readFile(join(repo, 'models/cifar10/resnet20.onnx'));
    expect(bundled.headers.get('Content-Length')).toBe(String(expected.byteLength));
    expect(Buffer.from(await bundled.arrayBuffer()).equals(expected)).toBe(true);
    const [entry] = library.list();
    const fromLibrary = await get(`/@model/${entry!.id}`);
    expect(fromLibrary.status).toBe(200);
    expect((await fromLibrary.arrayBuffer()).byteLength).toBe(entry!.bytes);
    expect(read).toEqual(['cifar10-resnet20', entry!.id]);
  });

  it('serves only assets listed in assets/manifest.json', async () => {
    expect((await get('/@asset/labels/cifar10.txt')).status).toBe(200);
    expect((await get("/@asset/samples/imagenet/n02966687_carpenter's_kit.JPEG")).status).toBe(200);
    expect((await get('/@asset/../models/manifest.json')).status).toBe(404);
    expect((await get('/@asset/labels%2F..%2F..%2Fpackage.json')).status).toBe(404);
    expect((await get('/@asset/data')).status).toBe(404);
  });

  it.each([
    ['/@model/..%2F..%2Fetc%2Fpasswd', 400],
    ['/@model/%2Fetc%2Fpasswd', 400],
    ['/@model/a%5Cb', 400],
    ['/@model/../../etc/passwd', 404],
    ['/@model/0000000000000000000000000000000000000000000000000000000000000000', 404],
    ['/%2e%2e/%2e%2e/etc/passwd', 404],
    ['/..%2F..%2Fsecret.txt', 404],
    ['/..%5C..%5Csecret.txt', 404],
    ['/assets/%00app.js', 404],
    ['/link.txt', 404],
    ['/%E0%A4%A', 404],
  ])('refuses %s with %i', async (path, status) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    expect(await response.text()).not.toContain('secret');
  });

  it('answers only GET/HEAD on the app host', async () => {
    expect((await get('/', { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await handle(new Request('skipscope://model/cifar10-resnet20'))).status).toBe(404);
    const head = await get('/@model/cifar10-resnet20', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Length')).not.toBeNull();
  });

  it('a library model file deleted behind its back is said in one line naming it, not "Not found"', async () => {
    const entry = await library.importFile(join(repo, 'models/cifar10/resnet44.onnx'));
    await rm(library.pathOf(entry.id));
    const response = await get(`/@model/${entry.id}`);
    expect(response.status).toBe(422);
    expect(await response.text()).toBe(
      `${entry.name}: its model file cannot be read from the library (ENOENT); remove the model and import it again`,
    );
    await library.remove(entry.id);
    // Another model copied over a model's file: refused by its size, not served under the first one's name.
    const other = await library.importFile(join(repo, 'models/cifar10/resnet44.onnx'));
    await writeFile(library.pathOf(other.id), await readFile(join(repo, 'models/cifar10/resnet56.onnx')));
    const swapped = await get(`/@model/${other.id}`);
    expect(swapped.status).toBe(422);
    expect(await swapped.text()).toMatch(
      /^resnet44: its model file in the library has changed \([\d,]+ bytes, not [\d,]+\); remove/,
    );
    await library.remove(other.id);
  });

  it('serves a library model with external data in one piece, its tensors written inline', async () => {
    const original = await readFile(join(repo, 'models/cifar10/resnet20.onnx'));
    const entry = await library.importFile(
      await writeExternalModel(join(work, 'ext'), 'ext.onnx', externalize(original)),
    );
    read.length = 0;
    const response = await get(`/@model/${entry.id}`);
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(response.headers.get('Content-Length')).toBe(String(bytes.byteLength));
    expect(read).toEqual([entry.id]);
    // Decodes with no resolver at all, to the same weights as the original self-contained file.
    const served = decodeModel(bytes);
    const expected = decodeModel(original);
    expect(served.graph.constants.size).toBe(expected.graph.constants.size);
    for (const [name, tensor] of expected.graph.constants) {
      expect(Buffer.from(served.graph.constants.get(name)!.raw!).equals(Buffer.from(tensor.raw!)), name).toBe(true);
    }
    // A damaged data file gives one line, not a crash or wrong weights.
    await truncate(join(library.dir, `${entry.data[0]!.sha256}.data`), 100);
    const damaged = await get(`/@model/${entry.id}`);
    expect(damaged.status).toBe(422);
    expect(await damaged.text()).toBe('ext.onnx: a tensor reaches past the end of its external data file');
    await library.remove(entry.id);
  });

  it('has a CSP with no remote origins and no eval beyond WebAssembly compilation', () => {
    const csp = contentSecurityPolicy();
    expect(csp).not.toMatch(/https?:|'unsafe-eval'|\*/);
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("worker-src 'self' blob:");
  });
});
