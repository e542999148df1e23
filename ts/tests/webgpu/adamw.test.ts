// gpuAdamW on the WebGPU adapter (lavapipe in Node) against a float64 reference of the core's
// formula (there is no wasm AdamW kernel in the package), with gpu.ts's criterion (1e-4 of the
// sum of the absolute terms, 1e-6 floor). AdamW has no backward; the reference is checked
// instead against AdamW's closed form at step 1 (m = v = 0: the step is lr · g / (|g| + ε)).
import { afterAll, describe, expect, it } from 'vitest';
import { gpuAdamW } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/adamw.test.ts');
const SIZES = [1, 3, 17, 63, 64, 65, 8450];

interface Hyper {
  lr: number;
  step: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** The f64 AdamW step (moments in f64, no rounding between operations) and the criterion's scales. */
function reference(
  state: { params: Float32Array; m: Float32Array; v: Float32Array; grads: Float32Array },
  h: Hyper,
  noBiasCorrection = false,
) {
  const { lr, step, weightDecay: wd, beta1: b1, beta2: b2, eps } = h;
  const n = state.params.length;
  const out = { params: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  const scale = { params: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  const bc1 = noBiasCorrection ? 1 : 1 - b1 ** step;
  const bc2 = noBiasCorrection ? 1 : 1 - b2 ** step;
  for (let i = 0; i < n; i++) {
    const [p, m, v, g] = [state.params[i]!, state.m[i]!, state.v[i]!, state.grads[i]!];
    out.m[i] = b1 * m + (1 - b1) * g;
    scale.m[i] = b1 * Math.abs(m) + (1 - b1) * Math.abs(g);
    out.v[i] = b2 * v + (1 - b2) * g * g;
    scale.v[i] = out.v[i]!;
    const update = (lr * (out.m[i]! / bc1)) / (Math.sqrt(out.v[i]! / bc2) + eps);
    out.params[i] = p * (1 - lr * wd) - update;
    scale.params[i] = Math.abs(p * (1 - lr * wd)) + Math.abs(update);
  }
  return { out, scale };
}

const f32 = (a: Float64Array) => Float32Array.from(a);
const HYPER: Hyper = { lr: 1e-3, step: 1, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

describe.skipIf(skip !== undefined)('gpuAdamW', () => {
  afterAll(() => gpu?.dispose());

  it('the f64 reference at step 1 is p·(1 − lr·wd) − lr·g / (|g| + ε)', () => {
    const params = randomArray(5, 1);
    const grads = new Float32Array([0.5, -2, 1e-3, -1e-2, 3]);
    const { out } = reference({ params, m: new Float32Array(5), v: new Float32Array(5), grads }, HYPER);
    params.forEach((p, i) => {
      expect(out.params[i]).toBeCloseTo(p * (1 - 1e-4) - (1e-3 * grads[i]!) / (Math.abs(grads[i]!) + 1e-8), 12);
    });
  });

  it(`sizes ${SIZES.join(', ')} over steps 1, 2, 10 and 1000, each from the previous GPU step`, async () => {
    let seed = 10;
    for (const n of SIZES) {
      let state: { params: Float32Array; m: Float32Array; v: Float32Array; grads: Float32Array } = {
        params: randomArray(n, seed++),
        m: new Float32Array(n),
        v: new Float32Array(n),
        grads: randomArray(n, seed++),
      };
      for (const [k, step] of [1, 2, 10, 1000].entries()) {
        const h = { ...HYPER, step, lr: 1e-3 * (k + 1), weightDecay: k === 2 ? 0 : 0.1 };
        const got = await gpuAdamW(state, { gpu: gpu!, ...h });
        const { out, scale } = reference(state, h);
        for (const name of ['params', 'm', 'v'] as const) {
          expect(firstMismatch(got[name], f32(out[name]), scale[name]), `n=${n} step=${step} ${name}`).toBeUndefined();
        }
        state = { ...got, grads: randomArray(n, seed++) };
      }
    }
  });

  it('PyTorch-like defaults: weightDecay 0.01, betas 0.9 / 0.999, eps 1e-8', async () => {
    const n = 65;
    const state = {
      params: randomArray(n, 3),
      m: randomArray(n, 4).map((x) => x * 0.1),
      v: randomArray(n, 5).map((x) => x * x * 0.01),
      grads: randomArray(n, 6),
    };
    const got = await gpuAdamW(state, { gpu: gpu!, lr: 3e-4, step: 7 });
    const { out, scale } = reference(state, { lr: 3e-4, step: 7, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    expect(firstMismatch(got.params, f32(out.params), scale.params)).toBeUndefined();
  });

  it('the criterion catches a step without bias correction and a perturbed gradient', async () => {
    const n = 130;
    const state = {
      params: randomArray(n, 7),
      m: randomArray(n, 8).map((x) => x * 0.1),
      v: randomArray(n, 9).map((x) => x * x * 0.01),
      grads: randomArray(n, 10),
    };
    const h = { ...HYPER, step: 3 };
    const got = await gpuAdamW(state, { gpu: gpu!, ...h });
    const good = reference(state, h);
    expect(firstMismatch(got.params, f32(good.out.params), good.scale.params)).toBeUndefined();
    const broken = reference(state, h, true);
    expect(firstMismatch(got.params, f32(broken.out.params), good.scale.params)).toBeDefined();
    const grads = state.grads.slice();
    grads[17] = grads[17]! + 0.05;
    const other = await gpuAdamW({ ...state, grads }, { gpu: gpu!, ...h });
    expect(firstMismatch(other.m, f32(good.out.m), good.scale.m)).toBeDefined();
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    const state = { params: new Float32Array(3), m: new Float32Array(3), v: new Float32Array(3), grads: new Float32Array(3) };
    await expect(gpuAdamW(state, { gpu: gpu!, lr: 1e-3, step: 0 })).rejects.toThrow(/1-based/);
    await expect(gpuAdamW(state, { gpu: gpu!, lr: -1, step: 1 })).rejects.toThrow(/lr/);
    await expect(gpuAdamW(state, { gpu: gpu!, lr: 1e-3, step: 1, beta2: 1 })).rejects.toThrow(/beta2/);
    await expect(gpuAdamW({ ...state, v: new Float32Array(2) }, { gpu: gpu!, lr: 1e-3, step: 1 })).rejects.toThrow(/v must have 3/);
  });
});
