/**
 * A small deterministic pseudo-random generator whose whole state can be saved and restored
 * exactly, so a resumed training run draws the same batches as an uninterrupted one.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
 * 128 bits of state as four uint32 words, seeded through splitmix32. All arithmetic is
 * 32-bit (`Math.imul`, `>>>`), so every JavaScript engine produces the same stream.
 */
import { InvalidArgumentError } from '../errors.js';

const TWO_POW_32 = 2 ** 32;
const TWO_POW_53 = 2 ** 53;

/** Rotates the uint32 `x` left by `k` bits. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Seeded PRNG (xoshiro128**).
 *
 * @example
 * ```ts
 * const rng = new Rng(1337);
 * const saved = rng.getState();
 * const a = rng.nextInt(10);
 * Rng.fromState(saved).nextInt(10) === a; // true
 * ```
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /**
   * Seeds the generator from an integer.
   *
   * @param seed - any safe integer (negative allowed); the low and high 32-bit halves are
   *   both mixed in, so seeds that differ only above bit 31 give different streams.
   * @throws InvalidArgumentError if `seed` is not a safe integer.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new InvalidArgumentError(`Rng: seed must be a safe integer, got ${String(seed)}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    // splitmix32 over a 32-bit counter derived from both halves of the seed.
    let x = (lo ^ Math.imul(hi, 0x9e3779b9)) | 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** The next uniformly distributed integer in [0, 2³²). */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = (s1 ^ n2) >>> 0;
    this.s0 = (s0 ^ n3) >>> 0;
    this.s2 = (n2 ^ t) >>> 0;
    this.s3 = rotl(n3, 11) >>> 0;
    return result;
  }

  /** The next uniformly distributed float in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /**
   * The next uniformly distributed integer in [0, n), without modulo bias (rejection
   * sampling: draws above the largest multiple of `n` below 2³² are redrawn).
   *
   * @param n - an integer in [1, 2³²].
   * @throws InvalidArgumentError if `n` is not such an integer.
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new InvalidArgumentError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${String(n)}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /**
   * The full state: four uint32 words `[s0, s1, s2, s3]`. JSON-serialisable; pass it to
   * {@link Rng.fromState} to continue the exact same stream.
   */
  getState(): number[] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** An independent copy that continues the same stream. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /**
   * Restores a generator saved with {@link Rng.getState}.
   *
   * @param state - four integers in [0, 2³²), not all zero.
   * @throws InvalidArgumentError if `state` does not have that form.
   */
  static fromState(state: number[]): Rng {
    if (!Array.isArray(state) || state.length !== 4) {
      throw new InvalidArgumentError(
        `Rng.fromState: state must be an array of 4 uint32 words, got ${Array.isArray(state) ? `${state.length} elements` : typeof state}`,
      );
    }
    state.forEach((word: unknown, i) => {
      if (typeof word !== 'number' || !Number.isInteger(word) || word < 0 || word >= TWO_POW_32) {
        throw new InvalidArgumentError(`Rng.fromState: state[${i}] must be an integer in [0, 2^32), got ${String(word)}`);
      }
    });
    const [s0 = 0, s1 = 0, s2 = 0, s3 = 0] = state;
    if ((s0 | s1 | s2 | s3) === 0) {
      throw new InvalidArgumentError('Rng.fromState: state must not be all zeros (xoshiro128** would only produce zeros)');
    }
    const rng = new Rng(0);
    rng.s0 = s0;
    rng.s1 = s1;
    rng.s2 = s2;
    rng.s3 = s3;
    return rng;
  }
}
