// LinearWeight (kernels): int8 (W8A16) and float32 weights held in WebAssembly memory, checked
// against the float32 matmul on ragged shapes, within the quantisation error bound that
// docs/design/int8.md derives; and every way of misusing one.
import { beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, InvalidArgumentError, ShapeError, init, kernels, matmul } from '../../dist/index.node.js';
import { maxRelativeError, randomArray } from './helpers/reference.js';

const { LinearWeight } = kernels;

beforeAll(async () => {
  await init({ threads: 2 });
});

/** The scale of each block of `block` values along a row of `[rows, cols]` `data`: max|v| / qmax. */
function blockScales(data: Float32Array, rows: number, cols: number, block: number, qmax: number): Float64Array {
  const perRow = Math.ceil(cols / block);
  const scales = new Float64Array(rows * perRow);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = r * perRow + Math.floor(c / block);
      scales[s] = Math.max(scales[s] ?? 0, Math.abs(data[r * cols + c] ?? 0) / qmax);
    }
  }
  return scales;
}

/**
 * Largest `|got − want| / bound` over the result, where the bound is the derived quantisation
 * error `Σ_k (sx/2·|w| + (|x| + sx/2)·sw/2)` plus f32 rounding `1e-5 · Σ_k |x·w|`.
 */
function worstOfBound(
  got: Float32Array,
  want: Float32Array,
  x: Float32Array,
  w: Float32Array,
  dims: { m: number; k: number; n: number },
  block: number,
): number {
  const { m, k, n } = dims;
  const sx = blockScales(x, m, k, k, 32767);
  const sw = blockScales(w, n, k, block, 127);
  const perRow = Math.ceil(k / block);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let bound = 0;
      let magnitude = 0;
      for (let p = 0; p < k; p++) {
        const xv = Math.abs(x[i * k + p] ?? 0);
        const wv = Math.abs(w[j * k + p] ?? 0);
        const sxi = sx[i] ?? 0;
        bound += (sxi / 2) * wv + (xv + sxi / 2) * ((sw[j * perRow + Math.floor(p / block)] ?? 0) / 2);
        magnitude += xv * wv;
      }
      bound += 1e-5 * magnitude + 1e-6;
      worst = Math.max(worst, Math.abs((got[i * n + j] ?? 0) - (want[i * n + j] ?? 0)) / bound);
    }
  }
  return worst;
}

describe('LinearWeight', () => {
  it('int8 matches the float32 matmul within the quantisation bound on ragged shapes', () => {
    let seed = 1;
    for (const m of [1, 3, 9, 65]) {
      for (const k of [1, 17, 63, 64, 65]) {
        for (const n of [1, 5, 130]) {
          for (const blockSize of [undefined, 32]) {
            const x = randomArray(m * k, seed++);
            const w = randomArray(n * k, seed++);
            const bias = seed % 2 === 0 ? randomArray(n, seed++) : undefined;
            const want = matmul(x, w, { m, k, n, form: 'abt', bias });
            using weight = LinearWeight.from(w, { n, k, blockSize });
            const got = weight.apply(x, { m, bias });
            const worst = worstOfBound(got, want, x, w, { m, k, n }, blockSize ?? k);
            expect(worst, `m=${m} k=${k} n=${n} block=${blockSize}`).toBeLessThanOrEqual(1);
          }
        }
      }
    }
  });

  it('int8 is close to float32 in relative terms at a layer shape, and a quarter of the bytes', () => {
    const [m, k, n] = [4, 384, 1536];
    const x = randomArray(m * k, 5);
    const w = randomArray(n * k, 6);
    using int8 = LinearWeight.from(w, { n, k });
    using f32 = LinearWeight.from(w, { n, k, dtype: 'float32' });
    const want = matmul(x, w, { m, k, n, form: 'abt' });
    expect(maxRelativeError(f32.apply(x, { m }), want)).toBeLessThan(1e-5);
    expect(worstOfBound(int8.apply(x, { m }), want, x, w, { m, k, n }, k)).toBeLessThanOrEqual(1);
    expect(int8.byteLength).toBe(n * k + 4 * n);
    expect(f32.byteLength).toBe(4 * n * k);
  });

  it('float32 storage equals matmul on both kernels (few rows and tiled)', () => {
    for (const m of [1, 8, 9, 40]) {
      const [k, n] = [33, 70];
      const x = randomArray(m * k, m);
      const w = randomArray(n * k, 100 + m);
      const bias = randomArray(n, 7);
      using weight = LinearWeight.from(w, { n, k, dtype: 'float32' });
      expect(maxRelativeError(weight.apply(x, { m, bias }), matmul(x, w, { m, k, n, form: 'abt', bias }))).toBeLessThan(1e-5);
    }
  });

  it('rejects bad input before any WebAssembly work, and use after dispose', () => {
    const w = randomArray(12, 1);
    expect(() => LinearWeight.from(w, { n: 3, k: 5 })).toThrow(ShapeError);
    expect(() => LinearWeight.from(w, { n: 0, k: 12 })).toThrow(InvalidArgumentError);
    expect(() => LinearWeight.from(w, { n: 3, k: 4, blockSize: 12 })).toThrow(InvalidArgumentError);
    expect(() => LinearWeight.from(w, { n: 3, k: 4, blockSize: 4096 })).toThrow(InvalidArgumentError);
    expect(() => LinearWeight.from(w, { n: 3, k: 4, dtype: 'float32', blockSize: 32 })).toThrow(InvalidArgumentError);
    expect(() => LinearWeight.from(w, { n: 3, k: 4, dtype: 'int4' as 'int8' })).toThrow(InvalidArgumentError);
    expect(() => LinearWeight.from(Array.from(w) as unknown as Float32Array, { n: 3, k: 4 })).toThrow(InvalidArgumentError);
    const nan = w.slice();
    nan[7] = Number.NaN;
    expect(() => LinearWeight.from(nan, { n: 3, k: 4 })).toThrow(/weight\[7\]/);
    const weight = LinearWeight.from(w, { n: 3, k: 4 });
    expect(() => weight.apply(randomArray(7, 2), { m: 2 })).toThrow(ShapeError);
    expect(() => weight.apply(randomArray(8, 2), { m: 2, bias: randomArray(4, 3) })).toThrow(ShapeError);
    expect(() => weight.apply(randomArray(8, 2), { m: 1.5 })).toThrow(InvalidArgumentError);
    const x = randomArray(8, 2);
    x[5] = Number.POSITIVE_INFINITY;
    const out = weight.apply(x, { m: 2 });
    expect(Array.from(out.subarray(0, 3)).every(Number.isFinite)).toBe(true);
    expect(Array.from(out.subarray(3)).every(Number.isNaN)).toBe(true);
    weight.dispose();
    weight.dispose();
    expect(weight.disposed).toBe(true);
    expect(() => weight.apply(randomArray(4, 2), { m: 1 })).toThrow(DisposedError);
    expect(() => weight.byteLength).toThrow(DisposedError);
  });
});
