/**
 * Seeded random numbers for weight initialisation: a 32-bit mulberry32 stream, uniforms in [0, 1) and standard
 * normals by the Box–Muller transform. Same seed, same weights, on every platform (integer arithmetic + IEEE
 * doubles only).
 */
/** A SeededRandom's position, as plain JSON. */
export interface RandomState {
  state: number;
  spare: number | null;
}

export class SeededRandom {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The stream's position (its 32-bit state and the cached second normal): restoring it resumes the stream. */
  save(): RandomState {
    return { state: this.state, spare: this.spare };
  }

  /** A stream that continues exactly where `saved` was taken. */
  static restore(saved: RandomState): SeededRandom {
    const rng = new SeededRandom(0);
    rng.state = saved.state >>> 0;
    rng.spare = saved.spare;
    return rng;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.uniform(); // (0, 1]: log stays finite
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` normals with standard deviation `std`. */
  normals(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }

  /** `n` uniforms in [−bound, bound). */
  uniforms(n: number, bound: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (2 * this.uniform() - 1) * bound;
    return out;
  }
}
