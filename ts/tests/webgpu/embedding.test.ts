// gpuEmbedding and its backward on the WebGPU adapter (lavapipe in Node) against a float64
// reference written here (itself checked by central differences; there is no wasm embedding
// kernel in the package): the forward is exact, the gradients within gpu.ts's criterion
// (1e-4 of the sum of the absolute terms, 1e-6 floor), and also equal, bit for bit, to a float32
// loop summing in position order, as the core does.
import { afterAll, describe, expect, it } from 'vitest';
import { embeddingCsr, gpuEmbedding, gpuEmbeddingBackward } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/embedding.test.ts');
// [B, T]: B·T in 1, 3, 17, 63, 64, 65.
const BATCH_SEQ = [
  [1, 1],
  [1, 3],
  [1, 17],
  [3, 21],
  [2, 32],
  [5, 13],
] as const;
const CHANNELS = [1, 3, 17, 64, 65, 130];

/** The f64 gradients (and the f32 position-order sums and the criterion's scales). */
function reference(dout: Float32Array, ids: Int32Array, dims: { b: number; t: number; c: number; v: number; p: number; offset: number }) {
  const { b, t, c, v, p, offset } = dims;
  const dwte = new Float64Array(v * c);
  const dwteScale = new Float64Array(v * c);
  const dwte32 = new Float32Array(v * c);
  const dwpe = new Float64Array(p * c);
  const dwpeScale = new Float64Array(p * c);
  for (let row = 0; row < b * t; row++) {
    const id = ids[row]!;
    const pos = (row % t) + offset;
    for (let j = 0; j < c; j++) {
      const g = dout[row * c + j]!;
      dwte[id * c + j] = dwte[id * c + j]! + g;
      dwteScale[id * c + j] = dwteScale[id * c + j]! + Math.abs(g);
      dwte32[id * c + j] = Math.fround(dwte32[id * c + j]! + g);
      dwpe[pos * c + j] = dwpe[pos * c + j]! + g;
      dwpeScale[pos * c + j] = dwpeScale[pos * c + j]! + Math.abs(g);
    }
  }
  return { dwte, dwteScale, dwte32, dwpe, dwpeScale };
}

/** Ids from a small vocabulary, so that many repeat. */
function randomIds(n: number, vocab: number, seed: number): Int32Array {
  return Int32Array.from(randomArray(n, seed), (u) => Math.floor(((u + 1) / 2) * vocab) % vocab);
}

const f32 = (a: Float64Array) => Float32Array.from(a);

describe.skipIf(skip !== undefined)('gpuEmbedding forward and backward', () => {
  afterAll(() => gpu?.dispose());

  it('the f64 reference gradient matches central differences of Σ out·dout', () => {
    const [b, t, c, v, p, offset] = [2, 3, 2, 4, 5, 1];
    const ids = new Int32Array([1, 3, 1, 0, 1, 3]);
    const wte = randomArray(v * c, 1);
    const wpe = randomArray(p * c, 2);
    const dout = randomArray(b * t * c, 3);
    const loss = () => {
      let sum = 0;
      for (let row = 0; row < b * t; row++) {
        for (let j = 0; j < c; j++) sum += (wte[ids[row]! * c + j]! + wpe[((row % t) + offset) * c + j]!) * dout[row * c + j]!;
      }
      return sum;
    };
    const want = reference(dout, ids, { b, t, c, v, p, offset });
    for (const [table, grad, i] of [
      [wte, want.dwte, 2],
      [wte, want.dwte, 7],
      [wte, want.dwte, 4],
      [wpe, want.dwpe, 3],
      [wpe, want.dwpe, 9],
    ] as const) {
      const saved = table[i]!;
      table[i] = saved + 1e-3;
      const [up, hi] = [loss(), table[i]!];
      table[i] = saved - 1e-3;
      const [down, lo] = [loss(), table[i]!];
      table[i] = saved;
      expect((up - down) / (hi - lo)).toBeCloseTo(grad[i]!, 5);
    }
  });

  for (const withWpe of [true, false]) {
    it(`every [B, T] × C of ${CHANNELS.join(', ')}${withWpe ? ', with a position table and an offset' : ', tokens only'}`, async () => {
      let seed = withWpe ? 100 : 3000;
      for (const [b, t] of BATCH_SEQ) {
        for (const c of CHANNELS) {
          const v = 7 + (seed % 5) * 13;
          const [p, offset] = withWpe ? [t + 4, 3] : [0, 0];
          const what = `B=${b} T=${t} C=${c} V=${v} wpe=${withWpe}`;
          const ids = randomIds(b * t, v, seed++);
          const wte = randomArray(v * c, seed++);
          const wpe = withWpe ? randomArray(p * c, seed++) : undefined;
          const dout = randomArray(b * t * c, seed++);
          const options = { gpu: gpu!, batch: b, seq: t, channels: c, vocab: v, positionOffset: offset };
          const out = await gpuEmbedding(ids, wte, wpe, options);
          const want = Float32Array.from({ length: b * t * c }, (_, i) => {
            const [row, j] = [Math.floor(i / c), i % c];
            return wte[ids[row]! * c + j]! + (wpe ? wpe[((row % t) + offset) * c + j]! : 0);
          });
          expect(Array.from(out), `${what} out`).toEqual(Array.from(want));
          const grads = await gpuEmbeddingBackward({ dout, ids }, { ...options, maxPositions: withWpe ? p : undefined });
          const ref = reference(dout, ids, { b, t, c, v, p, offset });
          expect(firstMismatch(grads.dwte, f32(ref.dwte), ref.dwteScale), `${what} dwte`).toBeUndefined();
          expect(Array.from(grads.dwte), `${what} dwte in position order`).toEqual(Array.from(ref.dwte32));
          if (withWpe) expect(firstMismatch(grads.dwpe!, f32(ref.dwpe), ref.dwpeScale), `${what} dwpe`).toBeUndefined();
          else expect(grads.dwpe).toBeUndefined();
        }
      }
    });
  }

  it('embeddingCsr groups positions by id, increasing', () => {
    const { offsets, positions } = embeddingCsr(new Int32Array([2, 0, 2, 3, 0, 2]), 5);
    expect(Array.from(offsets)).toEqual([0, 2, 2, 5, 6, 6]);
    expect(Array.from(positions)).toEqual([1, 4, 0, 2, 5, 3]);
  });

  it('the criterion catches a gradient that misses one position', async () => {
    const [b, t, c, v] = [3, 21, 65, 9];
    const ids = randomIds(b * t, v, 41);
    const dout = randomArray(b * t * c, 42);
    const { dwte } = await gpuEmbeddingBackward({ dout, ids }, { gpu: gpu!, batch: b, seq: t, channels: c, vocab: v });
    const ref = reference(dout, ids, { b, t, c, v, p: 0, offset: 0 });
    expect(firstMismatch(dwte, f32(ref.dwte), ref.dwteScale)).toBeUndefined();
    const missing = reference(dout, ids.subarray(0, b * t - 1), { b: 1, t: b * t - 1, c, v, p: 0, offset: 0 });
    expect(firstMismatch(dwte, f32(missing.dwte), ref.dwteScale)).toBeDefined();
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    const options = { gpu: gpu!, batch: 1, seq: 2, channels: 2, vocab: 3 };
    await expect(gpuEmbedding(new Int32Array([0, 3]), new Float32Array(6), undefined, options)).rejects.toThrow(/ids\[1\] = 3/);
    await expect(gpuEmbedding(new Int32Array([0, 1]), new Float32Array(6), new Float32Array(2), options)).rejects.toThrow(/do not fit/);
    await expect(gpuEmbedding(new Int32Array([0, 1]), new Float32Array(6), new Float32Array(3), options)).rejects.toThrow(/wpe must have/);
    await expect(gpuEmbeddingBackward({ dout: new Float32Array(3), ids: new Int32Array(2) }, options)).rejects.toThrow(/dout must have 4/);
  });
});
