// The matmul kernel through the public API, against the plain TS reference, on ragged shapes
// that hit the SIMD tails, for every storage form, with and without bias.
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError, init, matmul } from '../../dist/index.node.js';
import { matmulRef, maxRelativeError, randomArray } from './helpers/reference.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

const SIZES = [1, 3, 17, 63, 130];
const FORMS = ['ab', 'abt', 'atb'] as const;

describe('matmul', () => {
  for (const form of FORMS) {
    it(`${form}: matches the reference on ragged shapes`, () => {
      let seed = 1;
      for (const m of SIZES) {
        for (const k of SIZES) {
          for (const n of [1, 5, 33, 129]) {
            const a = randomArray(m * k, seed++);
            const b = randomArray(k * n, seed++);
            const bias = seed % 2 === 0 ? randomArray(n, seed++) : undefined;
            const got = matmul(a, b, { m, k, n, form, bias });
            const want = matmulRef(a, b, m, k, n, form, bias);
            expect(maxRelativeError(got, want), `m=${m} k=${k} n=${n}`).toBeLessThan(1e-5);
          }
        }
      }
    });
  }

  it('a large product split over threads equals the reference', () => {
    const [m, k, n] = [300, 257, 301];
    const a = randomArray(m * k, 7);
    const b = randomArray(k * n, 8);
    expect(maxRelativeError(matmul(a, b, { m, k, n }), matmulRef(a, b, m, k, n, 'ab'))).toBeLessThan(1e-5);
  });

  it('checks every buffer against its dimensions', () => {
    const a = new Float32Array(6);
    const b = new Float32Array(12);
    expect(() => matmul(a, b, { m: 2, k: 3, n: 4, bias: new Float32Array(3) })).toThrow(ShapeError);
    expect(() => matmul(a, b, { m: 3, k: 3, n: 4 })).toThrow(/a must have 9 elements/);
    expect(() => matmul(a, b, { m: 2, k: 3, n: 4, form: 'abt' })).not.toThrow();
    // @ts-expect-error: not a form
    expect(() => matmul(a, b, { m: 2, k: 3, n: 4, form: 'ba' })).toThrow(/form must be/);
  });
});
