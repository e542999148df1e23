// gpuClipGradNorm on the WebGPU adapter (lavapipe in Node) against a float64 reference of the
// core's clip_grad_norm (there is no wasm clipping kernel in the package), with gpu.ts's
// criterion (1e-4 of the sum of the absolute terms, 1e-6 floor). Clipping has no backward.
import { afterAll, describe, expect, it } from 'vitest';
import { gpuClipGradNorm } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/clip.test.ts');
// Around the kernel's blocks of 1024 elements and its 64-invocation reductions (70 000: 69 blocks).
const SIZES = [1, 3, 17, 65, 1023, 1024, 1025, 70_000];

/** The f64 norm, the clipped gradients (PyTorch's rule) and their scales. */
function reference(grads: Float32Array, maxNorm: number) {
  let sum = 0;
  for (const g of grads) sum += g * g;
  const norm = Math.sqrt(sum);
  const coef = maxNorm / (norm + 1e-6);
  const clip = Number.isFinite(norm) && coef < 1;
  const out = Float64Array.from(grads, (g) => (clip ? g * coef : g));
  return { norm, clip, out, scale: out.map(Math.abs) };
}

describe.skipIf(skip !== undefined)('gpuClipGradNorm', () => {
  afterAll(() => gpu?.dispose());

  for (const maxNorm of [0.5, 1e6, Number.POSITIVE_INFINITY]) {
    it(`maxNorm ${maxNorm}: sizes ${SIZES.join(', ')}`, async () => {
      let seed = 100;
      for (const n of SIZES) {
        const grads = randomArray(n, seed++);
        const want = reference(grads, maxNorm);
        const got = await gpuClipGradNorm(grads, { gpu: gpu!, maxNorm });
        expect(Math.abs(got.norm - want.norm), `n=${n} norm`).toBeLessThanOrEqual(1e-4 * want.norm + 1e-6);
        if (want.clip) {
          expect(firstMismatch(got.grads, Float32Array.from(want.out), want.scale), `n=${n} grads`).toBeUndefined();
          expect(Math.hypot(...Array.from(got.grads.subarray(0, 50_000)))).toBeLessThanOrEqual(maxNorm * 1.0001);
        } else {
          expect(Array.from(got.grads), `n=${n} grads unchanged`).toEqual(Array.from(grads));
        }
      }
    });
  }

  it('a non-finite gradient gives a non-finite norm and scales nothing', async () => {
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const grads = randomArray(2000, 7);
      grads[1500] = bad;
      const got = await gpuClipGradNorm(grads, { gpu: gpu!, maxNorm: 0.1 });
      expect(Number.isFinite(got.norm)).toBe(false);
      expect(Array.from(got.grads.subarray(0, 1500))).toEqual(Array.from(grads.subarray(0, 1500)));
    }
  });

  it('the criterion catches a norm that misses the last block', async () => {
    const grads = randomArray(1025, 11);
    grads[1024] = 5;
    const got = await gpuClipGradNorm(grads, { gpu: gpu!, maxNorm: 1 });
    const full = reference(grads, 1);
    expect(firstMismatch(got.grads, Float32Array.from(full.out), full.scale)).toBeUndefined();
    const missing = reference(grads.subarray(0, 1024), 1);
    const want = Float32Array.from(grads, (g) => g * (1 / (missing.norm + 1e-6)));
    expect(firstMismatch(got.grads, want, full.scale)).toBeDefined();
    expect(Math.abs(got.norm - missing.norm)).toBeGreaterThan(1e-4 * full.norm + 1e-6);
  });

  it('two runs give the same bits (a fixed summation order)', async () => {
    const grads = randomArray(70_000, 13);
    const [a, b] = [await gpuClipGradNorm(grads, { gpu: gpu!, maxNorm: 1 }), await gpuClipGradNorm(grads, { gpu: gpu!, maxNorm: 1 })];
    expect(b.norm).toBe(a.norm);
    expect(Array.from(b.grads)).toEqual(Array.from(a.grads));
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    await expect(gpuClipGradNorm(new Float32Array(3), { gpu: gpu!, maxNorm: 0 })).rejects.toThrow(/maxNorm/);
    await expect(gpuClipGradNorm(new Float32Array(3), { gpu: gpu!, maxNorm: Number.NaN })).rejects.toThrow(/maxNorm/);
    await expect(gpuClipGradNorm(new Float32Array(0), { gpu: gpu!, maxNorm: 1 })).rejects.toThrow(/empty/);
    await expect(gpuClipGradNorm([1, 2] as never, { gpu: gpu!, maxNorm: 1 })).rejects.toThrow(/Float32Array/);
  });
});
