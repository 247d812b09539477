import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The browser build's server (scripts/serve.mjs) against hostile requests, over loopback only: malformed request
// targets, traversal, a foreign Host (DNS rebinding), symlinks out of the served folder, and 2,000 aborted downloads
// with the server's open file descriptors counted. It runs as a child with a low descriptor limit (Linux), so a leak
// or an unhandled error ends it, and every test checks it still answers. Bounded: each request has a 5 s deadline.

const linux = process.platform === 'linux';
/** Descriptor limit of the server child (Linux): 2,000 leaked downloads could never fit. */
const FD_LIMIT = 256;
const BIG = 8 * 1024 * 1024;

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let dir = '';
let root = '';
let child: ChildProcess | undefined;
let port = 0;
let exited: string | null = null;
let stderr = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skipscope-serve-'));
  root = join(dir, 'web');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'app.js'), 'console.log(1);');
  writeFileSync(join(root, 'sub', 'index.html'), 'sub');
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(BIG, 7));
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  mkdirSync(join(dir, 'outside'));
  writeFileSync(join(dir, 'outside', 'x.txt'), 'outside');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'link.txt'));
  symlinkSync(join(dir, 'outside'), join(root, 'linkdir'));
  symlinkSync('app.js', join(root, 'inner-link.js'));

  const node = JSON.stringify(process.execPath);
  const args = ['scripts/serve.mjs', '--root', root, '--port', '0'];
  child = linux
    ? spawn('/bin/sh', ['-c', `ulimit -n ${FD_LIMIT} && exec ${node} "$@"`, 'sh', ...args])
    : spawn(process.execPath, args);
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.on('exit', (code, signal) => {
    exited = `exit ${code ?? signal}: ${stderr}`;
  });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}${stderr}`)), 30_000);
    child!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child!.on('exit', () => reject(new Error(`server exited: ${out}${stderr}`)));
  });
});

afterAll(() => {
  child?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Sends `head` as is (request line and headers, no body) and reads the reply until the server closes. */
function raw(head: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error(`no reply to ${JSON.stringify(head.slice(0, 80))}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, end < 0 ? text.length : end).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: end < 0 ? '' : text.slice(end + 4) });
    });
    socket.write(head);
  });
}

function get(target: string, extra: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const headers = { Host: `127.0.0.1:${port}`, Connection: 'close', ...extra };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return raw(`${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
}

/** The headers every response must carry, errors included. */
function expectSecurityHeaders(reply: Reply): void {
  expect(reply.headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(reply.headers['cross-origin-embedder-policy']).toBe('require-corp');
  expect(reply.headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
  expect(reply.headers['referrer-policy']).toBe('no-referrer');
  expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
  expect(reply.headers['content-security-policy']).toContain("frame-ancestors 'none'");
}

async function expectAlive(): Promise<void> {
  expect(exited).toBeNull();
  const reply = await get('/');
  expect(reply.status).toBe(200);
  expect(reply.body).toContain('<title>t</title>');
}

function openFds(): number {
  return readdirSync(`/proc/${child!.pid}/fd`).length;
}

/** Requests the big file and hangs up: right after sending, or after the first bytes of the body. */
function abortedDownload(early: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.on('data', () => socket.destroy());
    socket.write(`GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, () => {
      if (early) socket.destroy();
    });
  });
}

describe('scripts/serve.mjs', () => {
  it('serves files with the headers, revalidates with 304, answers HEAD', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expectSecurityHeaders(page);
    expect(page.headers.etag).toBeTruthy();

    const script = await get('/app.js?v=1');
    expect([script.status, script.body]).toEqual([200, 'console.log(1);']);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/sub/')).body).toBe('sub');

    const again = await get('/', { 'If-None-Match': page.headers.etag! });
    expect([again.status, again.body]).toEqual([304, '']);
    expectSecurityHeaders(again);

    const head = await get('/big.bin', {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, String(BIG), '']);
    expectSecurityHeaders(head);

    const missing = await get('/nothing.js');
    expect(missing.status).toBe(404);
    expectSecurityHeaders(missing);

    const post = await get('/', { 'Content-Length': '0' }, 'POST');
    expect(post.status).toBe(405);
    expectSecurityHeaders(post);
    await expectAlive();
  });

  it('survives malformed request targets, each with a 4xx that carries the headers', async () => {
    const cases: [string, number[]][] = [
      ['//[', [404]],
      ['//[/', [404]],
      ['http://[', [400]],
      ['http://[::1', [400]],
      ['https://x:99999/', [400, 421]],
      ['*', [400]],
      ['index.html', [400]],
      ['127.0.0.1:80', [400]],
      ['/%', [400]],
      ['/%zz', [400]],
      ['/%E0%A4%A', [400]],
      ['/%C0%AF', [400]],
      ['/index.html%00.js', [400]],
      ['/../secret.txt', [403]],
      ['/../../../../../../etc/passwd', [403]],
      ['/%2e%2e/secret.txt', [403]],
      ['/%2E%2E%2Fsecret.txt', [403]],
      ['/..%2f..%2f..%2fetc%2fpasswd', [403]],
      ['/..%5csecret.txt', linux ? [404] : [403]],
      ['/sub/../../secret.txt', [403]],
      ['/index.html/x', [404]],
      ['/%252e%252e/secret.txt', [404]],
      [`/${'a'.repeat(5000)}`, [414]],
      [`/${'%2e%2e/'.repeat(500)}`, [414]],
      [`/${'a'.repeat(20_000)}`, [414, 431]],
    ];
    for (const [target, statuses] of cases) {
      const reply = await get(target);
      expect({ target: target.slice(0, 40), status: reply.status }).toEqual({
        target: target.slice(0, 40),
        status: expect.toBeOneOf(statuses),
      });
      expectSecurityHeaders(reply);
      expect(reply.body).not.toContain('secret');
      expect(reply.body).not.toContain('root:');
    }
    // Not even HTTP: a NUL in the request line, a bad version, garbage.
    for (const head of ['GET /\0 HTTP/1.1\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', '\x16\x03\x01\x00\xa5\x01\r\n\r\n']) {
      const reply = await raw(head);
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expectSecurityHeaders(reply);
    }
    await expectAlive();
  });

  it('accepts the absolute form for its own host only', async () => {
    const own = await get(`http://127.0.0.1:${port}/app.js`);
    expect([own.status, own.body]).toEqual([200, 'console.log(1);']);
    const foreign = await get('http://evil.example/app.js');
    expect(foreign.status).toBe(421);
    expectSecurityHeaders(foreign);
  });

  it('refuses a foreign Host header (DNS rebinding) and a missing one', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, '[::2]', '']) {
      const reply = await get('/', { Host: host });
      expect({ host, status: reply.status }).toEqual({ host, status: expect.toBeOneOf([400, 421]) });
      expectSecurityHeaders(reply);
      expect(reply.body).not.toContain('<title>');
    }
    for (const head of ['GET / HTTP/1.0\r\n\r\n', 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n']) {
      const noHost = await raw(head);
      expect(noHost.status).toBe(400);
      expectSecurityHeaders(noHost);
    }
    for (const host of ['127.0.0.1', `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect({ host, status: (await get('/', { Host: host })).status }).toEqual({ host, status: 200 });
    }
  });

  it('does not follow symlinks, out of the folder or inside it', async () => {
    for (const target of ['/link.txt', '/linkdir/x.txt', '/linkdir/', '/inner-link.js']) {
      const reply = await get(target);
      expect({ target, status: reply.status }).toEqual({ target, status: 403 });
      expectSecurityHeaders(reply);
      expect(reply.body).not.toMatch(/secret|outside|console/);
    }
    await expectAlive();
  });

  it.skipIf(!linux)('a flood of half-sent requests holds a bounded number of descriptors', async () => {
    await expectAlive();
    const before = openFds();
    const sockets = Array.from({ length: 300 }, () => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(`GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
      return socket;
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const held = openFds();
    for (const socket of sockets) socket.destroy();
    expect(exited).toBeNull();
    // LIMITS.connections in scripts/serve.mjs: 100 sockets at once, the rest are dropped.
    expect(held).toBeLessThanOrEqual(before + 110);
    let after = openFds();
    for (let i = 0; i < 100 && after > before + 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = openFds();
    }
    expect(after).toBeLessThanOrEqual(before + 2);
    await expectAlive();
  });

  it.skipIf(!linux)('2,000 aborted downloads leak no file descriptors', { timeout: 120_000 }, async () => {
    await expectAlive();
    const before = openFds();
    const total = 2000;
    const parallel = 25;
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < total) {
          const i = next++;
          await abortedDownload(i % 2 === 0);
        }
      }),
    );
    // The server notices each hang-up on its own schedule: give it a moment, bounded.
    let after = openFds();
    for (let i = 0; i < 100 && after > before + 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = openFds();
    }
    expect(exited).toBeNull();
    expect(after).toBeLessThanOrEqual(before + 2);
    await expectAlive();
    // A whole download still works after all that.
    const whole = await get('/big.bin');
    expect([whole.status, whole.body.length]).toEqual([200, BIG]);
  });
});
