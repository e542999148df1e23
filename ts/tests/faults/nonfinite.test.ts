/**
 * Non-finite inputs to the kernels propagate visibly: a NaN or ±Infinity in an input makes the
 * outputs that depend on it non-finite (nothing is silently clamped or dropped), while outputs
 * that do not depend on it stay finite; no kernel throws an untyped error, and the module gives
 * correct results on the next call. (The kernels do not scan their inputs to refuse them: that
 * would cost a pass over the data on every call. Training refuses them: NumericalError.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, init, kernels } from '../../../dist/index.node.js';

const { activation, attention, crossEntropy, glu, layerNorm, matmul, rmsNorm, rope, softmax } = kernels;

/** Deterministic values in [-1, 1). */
const values = (n: number, seed = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) % 1);
const finite = (a: ArrayLike<number>): boolean => Array.from(a).every(Number.isFinite);
const rows = (a: Float32Array, width: number): Float32Array[] =>
  Array.from({ length: a.length / width }, (_, r) => a.subarray(r * width, (r + 1) * width));

/** Each kernel, run with element `at` of its first input replaced by `bad`; returns the output rows. */
interface Case {
  name: string;
  /** Runs the kernel on inputs where the first input's element 0 is `bad` (or not, with `bad` finite). */
  run(bad: number): Float32Array;
  /** Output row width: the row holding the bad input's effect is row 0; later rows must stay finite. */
  width: number;
  /**
   * Bad values that are valid input with a finite result (−∞ is a masked logit in softmax and
   * cross-entropy): the row must equal the result with that entry left out.
   */
  masks?: number[];
}

const with0 = (a: Float32Array, bad: number): Float32Array => {
  const out = Float32Array.from(a);
  out[0] = bad;
  return out;
};

const CASES: Case[] = [
  { name: 'matmul', width: 5, run: (bad) => matmul(with0(values(12), bad), values(15, 2), { m: 4, k: 3, n: 5 }) },
  { name: 'softmax', width: 7, run: (bad) => softmax(with0(values(21), bad), { rows: 3, vocab: 7 }) },
  {
    name: 'crossEntropy',
    width: 1,
    run: (bad) => crossEntropy(with0(values(21), bad), Int32Array.from([1, 2, 3]), { rows: 3, vocab: 7 }).losses,
  },
  { name: 'layerNorm', width: 8, run: (bad) => layerNorm(with0(values(24), bad), values(8, 3), values(8, 4), { rows: 3, channels: 8 }) },
  { name: 'rmsNorm', width: 8, run: (bad) => rmsNorm(with0(values(24), bad), values(8, 3), { rows: 3, channels: 8 }) },
  { name: 'activation gelu', width: 1, run: (bad) => activation(with0(values(6), bad), 'gelu') },
  { name: 'glu swiglu', width: 1, run: (bad) => glu(with0(values(6), bad), values(6, 2), 'swiglu') },
  // rope: [B, T, H, D] = [1, 3, 1, 4]; element 0 is position 0's first pair.
  { name: 'rope', width: 4, run: (bad) => rope(with0(values(12), bad), { b: 1, t: 3, h: 1, d: 4 }) },
  // attention: v [1, 1, 3, 4]; a bad v[0] (key 0's value) reaches query 0 first (rows of
  // queries 1 and 2 see it too, causal: checked below).
  {
    name: 'attention (value)',
    width: 12,
    run: (bad) => attention(values(12), values(12, 2), with0(values(12, 3), bad), { b: 1, h: 1, t: 3, d: 4, causal: true }),
  },
];
for (const c of CASES) if (c.name === 'softmax' || c.name === 'crossEntropy') c.masks = [Number.NEGATIVE_INFINITY];

beforeAll(async () => {
  await init();
});

describe('kernels on NaN and infinite inputs', () => {
  for (const c of CASES) {
    it(`${c.name}: NaN and ±Infinity propagate to the outputs that depend on them`, () => {
      const clean = c.run(0.25);
      expect(finite(clean)).toBe(true);
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const out = c.run(bad);
        if (c.masks?.includes(bad)) {
          expect(finite(out), `${c.name} with ${bad}: a masked entry`).toBe(true);
          continue;
        }
        const [first, ...rest] = rows(out, c.width);
        expect(finite(first ?? []), `${c.name} with ${bad}: row 0 should be non-finite`).toBe(false);
        rest.forEach((row, i) => expect(finite(row), `${c.name} with ${bad}: row ${i + 1} should stay finite`).toBe(true));
      }
      // The module is unaffected: the clean call gives the same result again.
      expect(Array.from(c.run(0.25))).toEqual(Array.from(clean));
    });
  }

  it('attention: a non-finite query or key, or a NaN / +∞ bias, is refused; a −∞ bias masks', () => {
    const dims = { b: 1, h: 1, t: 3, d: 4, causal: true };
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => attention(with0(values(12), bad), values(12, 2), values(12, 3), dims)).toThrow(InvalidArgumentError);
      expect(() => attention(values(12), with0(values(12, 2), bad), values(12, 3), dims)).toThrow(/k\[0\] is/);
    }
    expect(() => attention(values(12), values(12, 2), values(12, 3), { ...dims, bias: with0(new Float32Array(9), Number.NaN) })).toThrow(
      /bias\[0\] is NaN/,
    );
    // −∞ on (query 1, key 0) masks that key: query 1 then attends to key 1 alone.
    const bias = new Float32Array(9);
    bias[3] = Number.NEGATIVE_INFINITY;
    const out = attention(values(12), values(12, 2), values(12, 3), { ...dims, bias });
    expect(Array.from(out.subarray(4, 8))).toEqual(Array.from(values(12, 3).subarray(4, 8)));
  });
});
