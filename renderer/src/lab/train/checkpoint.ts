/**
 * Race checkpoints as bytes, so a long run (the recorded runs, `scripts/record-runs.ts`) can stop and go on exactly:
 * a little-endian uint32 header length, the JSON header (epoch, the random stream's position, every network's tensor
 * names and lengths, any extra JSON the caller keeps), padding to 4 bytes, then every tensor's float32 values.
 */
import type { TrainState, Weights } from '../../core/train/state';
import type { RaceCheckpoint } from './loop';

interface Header {
  format: 'skipscope.checkpoint/1';
  epoch: number;
  rng: RaceCheckpoint['rng'];
  batches?: number;
  sums?: RaceCheckpoint['sums'];
  nets: {
    id: string;
    step: number;
    tensors: { group: 'params' | 'momentum' | 'buffers'; name: string; length: number }[];
  }[];
  extra: unknown;
}

const GROUPS = ['params', 'momentum', 'buffers'] as const;

export function encodeCheckpoint(checkpoint: RaceCheckpoint, extra: unknown = null): Uint8Array {
  const nets: Header['nets'] = [];
  const arrays: Float32Array[] = [];
  for (const [id, state] of checkpoint.states) {
    const tensors: Header['nets'][number]['tensors'] = [];
    for (const group of GROUPS)
      for (const [name, values] of state[group]) {
        tensors.push({ group, name, length: values.length });
        arrays.push(values);
      }
    nets.push({ id, step: state.step, tensors });
  }
  const header: Header = {
    format: 'skipscope.checkpoint/1',
    epoch: checkpoint.epoch,
    rng: checkpoint.rng,
    ...(checkpoint.batches ? { batches: checkpoint.batches, sums: checkpoint.sums ?? {} } : {}),
    nets,
    extra,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = 4 + Math.ceil(json.length / 4) * 4;
  const floats = arrays.reduce((s, a) => s + a.length, 0);
  const bytes = new Uint8Array(start + 4 * floats);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 4);
  const out = new Float32Array(bytes.buffer, start, floats);
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array): { checkpoint: RaceCheckpoint; extra: unknown } {
  const fail = (why: string) => new Error(`not a Skipscope checkpoint: ${why}`);
  if (bytes.length < 4) throw fail('too short');
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  if (4 + length > bytes.length) throw fail('the header runs past the end');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as Header;
  } catch {
    throw fail('the header is not JSON');
  }
  if (header?.format !== 'skipscope.checkpoint/1') throw fail('unknown format');
  const start = 4 + Math.ceil(length / 4) * 4;
  const copy = bytes.slice(start);
  const floats = new Float32Array(copy.buffer, 0, Math.floor(copy.length / 4));
  let offset = 0;
  const states = new Map<string, TrainState>();
  for (const net of header.nets) {
    const groups: Record<(typeof GROUPS)[number], Weights> = {
      params: new Map(),
      momentum: new Map(),
      buffers: new Map(),
    };
    for (const t of net.tensors) {
      if (offset + t.length > floats.length) throw fail('the tensors run past the end');
      groups[t.group].set(t.name, floats.subarray(offset, offset + t.length));
      offset += t.length;
    }
    states.set(net.id, { ...groups, step: net.step });
  }
  const within = header.batches ? { batches: header.batches, sums: header.sums ?? {} } : {};
  return { checkpoint: { epoch: header.epoch, rng: header.rng, ...within, states }, extra: header.extra };
}
