// gpuMatmul on the WebGPU adapter (lavapipe in Node) against the wasm matmul, which the core
// tests against f64: every form, with and without bias, on ragged and tile-edge shapes (the
// kernel's tiles are 64 × 64 × 16).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, matmul } from '../../../dist/index.node.js';
import { gpuMatmul } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, matmulScale, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/matmul.test.ts');
const SIZES = [1, 3, 17, 63, 64, 65, 127, 128];
const FORMS = ['ab', 'abt', 'atb'] as const;

describe.skipIf(skip !== undefined)('gpuMatmul parity with the wasm matmul', () => {
  beforeAll(async () => {
    await init({ threads: 1 });
  });
  afterAll(() => gpu?.dispose());

  for (const form of FORMS) {
    for (const withBias of [false, true]) {
      it(`${form}${withBias ? ' + bias' : ''}: every (M, N) of ${SIZES.join(', ')}, K rotating through them`, async () => {
        let seed = 7 + FORMS.indexOf(form) * 1000 + (withBias ? 500 : 0);
        for (const [i, m] of SIZES.entries()) {
          for (const [j, n] of SIZES.entries()) {
            const k = SIZES[(i + j + (withBias ? 3 : 0)) % SIZES.length]!;
            const a = randomArray(m * k, seed++);
            const b = randomArray(k * n, seed++);
            const bias = withBias ? randomArray(n, seed++) : undefined;
            const got = await gpuMatmul(a, b, { gpu: gpu!, m, k, n, form, bias });
            const want = matmul(a, b, { m, k, n, form, bias });
            expect(
              firstMismatch(got, want, matmulScale(a, b, { m, k, n, form, bias })),
              `form ${form} m=${m} k=${k} n=${n} bias=${withBias}`,
            ).toBeUndefined();
          }
        }
      });
    }
  }

  it('K = 1 and K = 1000 (many K tiles), and a product that is not all zeros', async () => {
    for (const [m, k, n] of [
      [65, 1, 65],
      [17, 1000, 33],
    ] as const) {
      const a = randomArray(m * k, m + k);
      const b = randomArray(k * n, k + n);
      const got = await gpuMatmul(a, b, { gpu: gpu!, m, k, n });
      expect(
        firstMismatch(got, matmul(a, b, { m, k, n }), matmulScale(a, b, { m, k, n, form: 'ab' })),
        `m=${m} k=${k} n=${n}`,
      ).toBeUndefined();
      expect(got.some((x) => Math.abs(x) > 0.1)).toBe(true);
    }
  });

  it('the criterion catches a product that misses one term of K = 128', async () => {
    const [m, k, n] = [65, 128, 63];
    const a = randomArray(m * k, 11);
    const b = randomArray(k * n, 12);
    const dropped = a.slice();
    for (let i = 0; i < m; i++) dropped[i * k + k - 1] = 0;
    const got = await gpuMatmul(dropped, b, { gpu: gpu!, m, k, n });
    expect(firstMismatch(got, matmul(a, b, { m, k, n }), matmulScale(a, b, { m, k, n, form: 'ab' }))).toBeDefined();
  });
});
