import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../renderer/src/lab/float16';

describe('float16', () => {
  it('encodes the landmarks of IEEE 754 half precision', () => {
    const bits = toHalf(
      Float32Array.of(0, -0, 1, -2, 65504, 65520, 2 ** -14, 2 ** -24, 2 ** -26, Infinity, Number.NaN),
    );
    expect(Array.from(bits)).toEqual([0, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0400, 0x0001, 0, 0x7c00, 0x7e00]);
  });

  it('rounds to nearest even and round-trips every finite half exactly', () => {
    // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa (1).
    expect(toHalf(Float32Array.of(1 + 2 ** -11))[0]).toBe(0x3c00);
    expect(toHalf(Float32Array.of(1 + 3 * 2 ** -11))[0]).toBe(0x3c02);
    const all = Uint16Array.from({ length: 0x7c00 }, (_, i) => i);
    expect(Array.from(toHalf(fromHalf(all)))).toEqual(Array.from(all));
  });
});
