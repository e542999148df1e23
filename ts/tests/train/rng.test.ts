import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { Rng } from '../../src/train/rng.js';

describe('Rng', () => {
  it('matches the xoshiro128** reference stream from state [1, 2, 3, 4]', () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    // First outputs of the reference C implementation (prng.di.unimi.it/xoshiro128starstar.c).
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const draw = (seed: number): number[] => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(2 ** 32)); // the high half of the seed matters
    expect(draw(-1)).not.toEqual(draw(1));
    for (const v of draw(7)) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
  });

  it('restores mid-stream to the identical continuation', () => {
    const rng = new Rng(123);
    for (let i = 0; i < 37; i++) rng.nextUint32();
    rng.nextFloat();
    const saved = JSON.parse(JSON.stringify(rng.getState())) as number[];
    const expected = [rng.nextUint32(), rng.nextFloat(), rng.nextInt(1000), rng.nextInt(3)];
    const restored = Rng.fromState(saved);
    expect([restored.nextUint32(), restored.nextFloat(), restored.nextInt(1000), restored.nextInt(3)]).toEqual(expected);
    expect(restored.getState()).toEqual(rng.getState());
    const clone = rng.clone();
    expect(clone.nextUint32()).toBe(rng.nextUint32());
  });

  it('nextFloat lies in [0, 1) with mean about 1/2', () => {
    const rng = new Rng(5);
    let sum = 0;
    let inRange = true;
    for (let i = 0; i < 20_000; i++) {
      const x = rng.nextFloat();
      inRange &&= x >= 0 && x < 1;
      sum += x;
    }
    expect(inRange).toBe(true);
    expect(Math.abs(sum / 20_000 - 0.5)).toBeLessThan(0.01);
  });

  it('nextInt stays in range and is roughly uniform', () => {
    const rng = new Rng(9);
    const n = 7;
    const counts = new Array<number>(n).fill(0);
    const draws = 70_000;
    let inRange = true;
    for (let i = 0; i < draws; i++) {
      const k = rng.nextInt(n);
      inRange &&= Number.isInteger(k) && k >= 0 && k < n;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(inRange).toBe(true);
    // Chi-square with 6 degrees of freedom: 99.9th percentile is 22.46.
    const chi2 = counts.reduce((acc, c) => acc + (c - draws / n) ** 2 / (draws / n), 0);
    expect(chi2).toBeLessThan(22.46);
    expect(rng.nextInt(1)).toBe(0);
    const big = rng.nextInt(2 ** 32);
    expect(big >= 0 && big < 2 ** 32).toBe(true);
  });

  it('nextInt is unbiased for n close to 2^32 (rejection, not modulo)', () => {
    // n = 3 · 2^30: modulo would put half of the draws into [0, 2^30); rejection gives a third.
    const rng = new Rng(11);
    const n = 3 * 2 ** 30;
    let low = 0;
    const draws = 30_000;
    for (let i = 0; i < draws; i++) if (rng.nextInt(n) < 2 ** 30) low++;
    expect(Math.abs(low / draws - 1 / 3)).toBeLessThan(0.02);
  });

  it('rejects bad seeds, bounds and states', () => {
    expect(() => new Rng(1.5)).toThrow(InvalidArgumentError);
    expect(() => new Rng(Number.NaN)).toThrow(InvalidArgumentError);
    const rng = new Rng(1);
    for (const n of [0, -1, 2.5, 2 ** 32 + 1, Number.NaN]) expect(() => rng.nextInt(n)).toThrow(InvalidArgumentError);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/4 uint32 words/);
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow(/state\[3\]/);
    expect(() => Rng.fromState([1, -1, 3, 4])).toThrow(/state\[1\]/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/all zeros/);
    expect(() => Rng.fromState('abcd' as unknown as number[])).toThrow(InvalidArgumentError);
  });
});
