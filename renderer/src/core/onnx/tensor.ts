import { DataType } from './dtypes';
import type { Tensor } from './model';

/** Reads a tensor's values as float32, decoding on demand (never at model load). */
export function readFloats(t: Tensor): Float32Array {
  if (t.floatData) return Float32Array.from(t.floatData);
  if (t.intData) return Float32Array.from(t.intData);
  if (!t.raw) return new Float32Array(t.size);
  const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  const out = new Float32Array(t.size);
  switch (t.dataType) {
    case DataType.FLOAT:
      if (t.raw.byteOffset % 4 === 0)
        return new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.size * 4));
      for (let i = 0; i < t.size; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case DataType.DOUBLE:
      for (let i = 0; i < t.size; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case DataType.FLOAT16:
      for (let i = 0; i < t.size; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    default: {
      const ints = readInts(t);
      for (let i = 0; i < t.size; i++) out[i] = ints[i] ?? 0;
      return out;
    }
  }
}

/** Reads an integer tensor (shapes, axes, pads) as plain numbers. */
export function readInts(t: Tensor): number[] {
  if (t.intData) return t.intData;
  if (t.floatData) return t.floatData.map(Math.trunc);
  if (!t.raw) return new Array<number>(t.size).fill(0);
  const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  const out: number[] = [];
  for (let i = 0; i < t.size; i++) {
    switch (t.dataType) {
      case DataType.INT64:
      case DataType.UINT64:
        out.push(Number(view.getBigInt64(i * 8, true)));
        break;
      case DataType.INT32:
        out.push(view.getInt32(i * 4, true));
        break;
      case DataType.UINT32:
        out.push(view.getUint32(i * 4, true));
        break;
      case DataType.INT16:
        out.push(view.getInt16(i * 2, true));
        break;
      case DataType.INT8:
        out.push(view.getInt8(i));
        break;
      case DataType.UINT8:
      case DataType.BOOL:
        out.push(view.getUint8(i));
        break;
      case DataType.FLOAT:
        out.push(Math.trunc(view.getFloat32(i * 4, true)));
        break;
      default:
        out.push(0);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
