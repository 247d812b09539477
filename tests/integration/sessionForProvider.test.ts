import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeRuntime } from '../../cli/ortNode';
import { type Runtime, sessionForProvider } from '../../renderer/src/lab/runtime';
import { ROOT } from '../helpers/files';

/**
 * sessionForProvider builds a graph's WebGPU form only where its session lands on WebGPU. The sessions here are
 * onnxruntime-node's; only the provider they report is set, as onnxruntime-web's would report it (no WebGPU in
 * Node: the e2e labWebgpu spec runs the real one and checks the numbers).
 */
const MODEL = readFileSync(resolve(ROOT, 'tests/fixtures/models/cifar_resnet8_a_op13.onnx'));

function reporting(providers: string[]): { runtime: Runtime; created: string[]; released: number[] } {
  const inner = createNodeRuntime();
  const created: string[] = [];
  const released: number[] = [];
  const runtime: Runtime = {
    ...inner,
    async createSession(model, options) {
      const session = await inner.createSession(model, options);
      const k = created.length;
      const provider = providers[Math.min(k, providers.length - 1)]!;
      created.push(provider);
      return {
        ...session,
        provider,
        run: (feeds, fetches) => session.run(feeds, fetches),
        release: async () => {
          released.push(k);
          await session.release();
        },
      };
    },
  };
  return { runtime, created, released };
}

async function open(runtime: Runtime, built: boolean[]) {
  const { graph, session } = await sessionForProvider(runtime, (webgpu) => {
    built.push(webgpu);
    return { graph: webgpu ? 'plane form' : 'cpu form', model: MODEL };
  });
  return { graph, provider: session.provider };
}

describe('sessionForProvider', () => {
  it('on the CPU builds the CPU form once per session', async () => {
    const { runtime, created, released } = reporting(['wasm']);
    const built: boolean[] = [];
    expect(await open(runtime, built)).toEqual({ graph: 'cpu form', provider: 'wasm' });
    expect(await open(runtime, built)).toEqual({ graph: 'cpu form', provider: 'wasm' });
    expect(built).toEqual([false, false]);
    expect(created).toHaveLength(2);
    expect(released).toEqual([]);
  });

  it('on WebGPU builds twice only the first time: later graphs are built in the WebGPU form at once', async () => {
    const { runtime, created, released } = reporting(['webgpu']);
    const built: boolean[] = [];
    expect(await open(runtime, built)).toEqual({ graph: 'plane form', provider: 'webgpu' });
    expect(built).toEqual([false, true]);
    expect(released).toEqual([0]);
    expect(await open(runtime, built)).toEqual({ graph: 'plane form', provider: 'webgpu' });
    expect(await open(runtime, built)).toEqual({ graph: 'plane form', provider: 'webgpu' });
    expect(built).toEqual([false, true, true, true]);
    expect(created).toHaveLength(4);
    expect(released).toEqual([0]);
  });

  it('a runtime that falls back from WebGPU to WASM gets the CPU form again', async () => {
    const { runtime, released } = reporting(['webgpu', 'webgpu', 'wasm']);
    const built: boolean[] = [];
    expect((await open(runtime, built)).graph).toBe('plane form');
    // The guess (WebGPU) is wrong now: the session is released and the CPU form built.
    expect(await open(runtime, built)).toEqual({ graph: 'cpu form', provider: 'wasm' });
    expect(built).toEqual([false, true, true, false]);
    expect(released).toEqual([0, 2]);
  });

  it('the CPU form never ends on WebGPU: landing there after a fallback, it is built again in the WebGPU form', async () => {
    const { runtime, released } = reporting(['webgpu', 'webgpu', 'wasm', 'webgpu', 'webgpu']);
    const built: boolean[] = [];
    expect((await open(runtime, built)).graph).toBe('plane form');
    expect(await open(runtime, built)).toEqual({ graph: 'plane form', provider: 'webgpu' });
    expect(built).toEqual([false, true, true, false, true]);
    expect(released).toEqual([0, 2, 3]);
  });

  it('each runtime keeps its own guess', async () => {
    const gpu = reporting(['webgpu']);
    const cpu = reporting(['cpu']);
    const built: boolean[] = [];
    await open(gpu.runtime, built);
    await open(cpu.runtime, built);
    expect(built).toEqual([false, true, false]);
  });
});
