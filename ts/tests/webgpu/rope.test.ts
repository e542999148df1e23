// gpuRope and its backward on the WebGPU adapter (lavapipe in Node): the forward against the
// wasm rope, the backward against a float64 reference written here (itself checked by central
// differences), with gpu.ts's criterion (1e-4 of the sum of the absolute terms, 1e-6 floor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, kernels } from '../../../dist/index.node.js';
import { gpuRope, gpuRopeBackward } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/rope.test.ts');
// [B, T] with B·T in 1, 3, 17, 63, 64, 65; head dims (even) with a full and a partial rotation.
const BATCH_SEQ = [
  [1, 1],
  [1, 3],
  [1, 17],
  [3, 21],
  [2, 32],
  [5, 13],
] as const;
const HEAD_DIMS = [
  [2, 2],
  [6, 4],
  [18, 18],
  [64, 64],
  [66, 32],
  [130, 130],
] as const;
type Scaling = { type: 'linear' | 'ntk'; factor: number } | null;

interface Dims {
  b: number;
  t: number;
  h: number;
  d: number;
  rotaryDim: number;
  positionOffset: number;
  scaling: Scaling;
}

/** The f64 rotation by sign·a (sign −1: the backward) and the criterion's scale; `interleaved` pairs (2i, 2i + 1) instead. */
function reference(x: Float32Array, dims: Dims, sign: 1 | -1, interleaved = false) {
  const { b, t, h, d, rotaryDim: r, positionOffset, scaling } = dims;
  const half = r / 2;
  const base = scaling?.type === 'ntk' ? 10000 * scaling.factor ** (r / (r - 2)) : 10000;
  const posScale = scaling?.type === 'linear' ? 1 / scaling.factor : 1;
  const out = new Float64Array(x.length);
  const scale = new Float64Array(x.length);
  for (let row = 0; row < b * t * h; row++) {
    const pos = (positionOffset + (Math.floor(row / h) % t)) * posScale;
    const o = row * d;
    for (let j = r; j < d; j++) [out[o + j], scale[o + j]] = [x[o + j]!, Math.abs(x[o + j]!)];
    for (let i = 0; i < half; i++) {
      const a = pos * base ** ((-2 * i) / r);
      const [c, s] = [Math.cos(a), sign * Math.sin(a)];
      const [i1, i2] = interleaved ? [o + 2 * i, o + 2 * i + 1] : [o + i, o + i + half];
      // out[i] = x[i]·cos a − x[i + r/2]·sin a;  out[i + r/2] = x[i + r/2]·cos a + x[i]·sin a
      out[i1] = x[i1]! * c - x[i2]! * s;
      out[i2] = x[i2]! * c + x[i1]! * s;
      scale[i1] = Math.abs(x[i1]! * c) + Math.abs(x[i2]! * s);
      scale[i2] = Math.abs(x[i2]! * c) + Math.abs(x[i1]! * s);
    }
  }
  return { out, scale };
}

const f32 = (a: Float64Array) => Float32Array.from(a);

describe.skipIf(skip !== undefined)('gpuRope forward and backward', () => {
  beforeAll(async () => {
    await init({ threads: 1 });
  });
  afterAll(() => gpu?.dispose());

  it('the f64 reference backward matches central differences of Σ rope(x)·dout', () => {
    const dims: Dims = { b: 2, t: 3, h: 2, d: 6, rotaryDim: 4, positionOffset: 5, scaling: { type: 'linear', factor: 2 } };
    const n = 2 * 3 * 2 * 6;
    const x = randomArray(n, 1);
    const dout = randomArray(n, 2);
    const dinp = reference(dout, dims, -1).out;
    const loss = () => reference(x, dims, 1).out.reduce((sum, o, i) => sum + o * dout[i]!, 0);
    for (const k of [0, 3, 5, 13, 40, 71]) {
      const saved = x[k]!;
      x[k] = saved + 1e-3;
      const [up, hi] = [loss(), x[k]!];
      x[k] = saved - 1e-3;
      const [down, lo] = [loss(), x[k]!];
      x[k] = saved;
      expect((up - down) / (hi - lo), `dx[${k}]`).toBeCloseTo(dinp[k]!, 6);
    }
  });

  for (const scaling of [null, { type: 'linear', factor: 4 }, { type: 'ntk', factor: 2 }] as const) {
    it(`scaling ${scaling ? `${scaling.type} ×${scaling.factor}` : 'none'}: every [B, T] × (D, rotaryDim)`, async () => {
      let seed = 10 + (scaling ? scaling.factor * 1000 : 0);
      for (const [b, t] of BATCH_SEQ) {
        for (const [d, rotaryDim] of HEAD_DIMS) {
          if (scaling?.type === 'ntk' && rotaryDim === 2) continue;
          const h = 1 + (seed % 3);
          const dims: Dims = { b, t, h, d, rotaryDim, positionOffset: seed % 2 === 0 ? 0 : 37, scaling };
          const what = `B=${b} T=${t} H=${h} D=${d} r=${rotaryDim} offset=${dims.positionOffset}`;
          const x = randomArray(b * t * h * d, seed++);
          const dout = randomArray(b * t * h * d, seed++);
          const got = await gpuRope(x, { gpu: gpu!, ...dims });
          const want = reference(x, dims, 1);
          expect(firstMismatch(got, kernels.rope(x, dims), want.scale), `${what} out`).toBeUndefined();
          const dinp = await gpuRopeBackward(dout, { gpu: gpu!, ...dims });
          const back = reference(dout, dims, -1);
          expect(firstMismatch(dinp, f32(back.out), back.scale), `${what} dinp`).toBeUndefined();
        }
      }
    });
  }

  it('the criterion catches the interleaved layout and a wrong offset', async () => {
    const dims: Dims = { b: 2, t: 32, h: 2, d: 64, rotaryDim: 64, positionOffset: 3, scaling: null };
    const x = randomArray(2 * 32 * 2 * 64, 5);
    const got = await gpuRope(x, { gpu: gpu!, ...dims });
    const good = reference(x, dims, 1);
    expect(firstMismatch(got, f32(good.out), good.scale)).toBeUndefined();
    expect(firstMismatch(got, f32(reference(x, dims, 1, true).out), good.scale)).toBeDefined();
    expect(firstMismatch(got, f32(reference(x, { ...dims, positionOffset: 4 }, 1).out), good.scale)).toBeDefined();
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    const x = new Float32Array(8);
    await expect(gpuRope(x, { gpu: gpu!, b: 1, t: 1, h: 1, d: 8, rotaryDim: 3 })).rejects.toThrow(/even/);
    await expect(gpuRope(x, { gpu: gpu!, b: 1, t: 2, h: 1, d: 8 })).rejects.toThrow(/x must have 16/);
    await expect(
      gpuRope(x, { gpu: gpu!, b: 1, t: 1, h: 1, d: 8, scaling: { type: 'yarn', factor: 4, originalMaxPositions: 2048 } as never }),
    ).rejects.toThrow(/YaRN/);
    await expect(gpuRopeBackward(x, { gpu: gpu!, b: 1, t: 1, h: 1, d: 8, positionOffset: -1 })).rejects.toThrow(/positionOffset/);
  });
});
