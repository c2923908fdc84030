/**
 * A small seeded pseudo-random generator whose whole state is four 32-bit words, so it can be saved
 * in a checkpoint as plain JSON and restored to continue exactly where it stopped (training resume
 * reproduces an uninterrupted run). Platform-neutral: plain integer arithmetic, no crypto, no Node.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand), 128-bit
 * state, passes PractRand and BigCrush. Seeding: the seed is expanded into the four words with
 * splitmix32, then 12 outputs are discarded, as PractRand recommends.
 *
 * Derived draws:
 * - `float()`: uniform in [0, 1) with 32 random bits (one draw).
 * - `int(min, max)`: uniform integer in [min, max) by rejection, so without modulo bias.
 * - `normal(mean, std)`: Box-Muller, using two draws per value (the second normal of the pair is
 *   discarded, so the state stays four words and nothing else needs saving).
 * - `shuffle(array)`: Fisher-Yates in place.
 */

/** The generator's complete state, JSON-safe. */
export interface RngState {
  algorithm: 'sfc32';
  /** Four unsigned 32-bit integers. */
  words: [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /** A generator seeded with a safe integer (negative and above 2^32 allowed: all bits are used). */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected a safe integer, found ${seed}`);
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    const mix = splitmix32(low ^ Math.imul(high, 0x27d4eb2d));
    const rng = new Rng();
    rng.a = mix();
    rng.b = mix();
    rng.c = mix();
    rng.d = 1; // the counter word, as in the reference seeding
    for (let i = 0; i < 12; i++) rng.nextUint32();
    return rng;
  }

  /** A generator continuing from a saved state (see `getState`). */
  static fromState(state: unknown): Rng {
    const rng = new Rng();
    rng.setState(state);
    return rng;
  }

  /** The complete state as plain JSON-safe data; `setState` of it continues the same sequence. */
  getState(): RngState {
    return { algorithm: 'sfc32', words: [this.a, this.b, this.c, this.d] };
  }

  setState(state: unknown): void {
    const s = state as Partial<RngState> | null;
    const words = s?.words;
    if (
      !s ||
      s.algorithm !== 'sfc32' ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
    ) {
      throw new TypeError(`rng state: expected { algorithm: 'sfc32', words: [4 unsigned 32-bit integers] }, found ${JSON.stringify(state)}`);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
  }

  /** A copy with the same state (the copy and this one then draw the same sequence independently). */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /** Next raw output, an unsigned 32-bit integer. */
  nextUint32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    // keep the stored words unsigned so that the JSON state is canonical
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** Uniform integer in [min, max) (max exclusive), without modulo bias. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min || max - min > TWO_POW_32) {
      throw new RangeError(`int(min, max): expected integers with min < max and max - min <= 2^32, found ${min}, ${max}`);
    }
    const range = max - min;
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return min + (x % range);
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  /** Normal (Gaussian) value by Box-Muller. */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.float(); // (0, 1], so the logarithm is finite
    const u2 = this.float();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher-Yates shuffle, in place; returns the same array. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }
}

/** A generator seeded with `seed` (same as `Rng.fromSeed`). */
export function createRng(seed: number): Rng {
  return Rng.fromSeed(seed);
}
