// gpuCrossEntropy and its backward on the WebGPU adapter (lavapipe in Node): losses against
// the wasm crossEntropy, lse and dlogits against a float64 reference written here (itself
// checked by central differences), with gpu.ts's criterion (1e-4 of the sum of the absolute
// terms, 1e-6 floor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, kernels } from '../../../dist/index.node.js';
import { gpuCrossEntropy, gpuCrossEntropyBackward } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/cross_entropy.test.ts');
const ROWS = [1, 3, 17, 63, 64, 65];
const VOCABS = [1, 3, 17, 64, 65, 130];
const IGNORE = -100;

/** The f64 loss of one call, its gradient (of the mean) and the criterion's scales. */
function reference(logits: Float32Array, targets: Int32Array, dims: { rows: number; vocab: number; ignoreIndex?: number }) {
  const { rows: n, vocab: v, ignoreIndex } = dims;
  const lse = new Float64Array(n);
  const losses = new Float64Array(n);
  const lossScale = new Float64Array(n);
  const dlogits = new Float64Array(n * v);
  const dlogitsScale = new Float64Array(n * v);
  const count = Array.from(targets).filter((t) => t !== ignoreIndex).length;
  const scale = count === 0 ? 0 : 1 / count;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const row = Array.from(logits.subarray(r * v, (r + 1) * v));
    const max = Math.max(...row);
    lse[r] = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    losses[r] = lse[r]! - row[t]!;
    lossScale[r] = Math.abs(lse[r]!) + Math.abs(row[t]!);
    sum += losses[r]!;
    for (let j = 0; j < v; j++) {
      const p = Math.exp(row[j]! - lse[r]!);
      dlogits[r * v + j] = (p - (j === t ? 1 : 0)) * scale;
      dlogitsScale[r * v + j] = (p + (j === t ? 1 : 0)) * scale;
    }
  }
  return { loss: count === 0 ? 0 : sum / count, lse, losses, lossScale, dlogits, dlogitsScale };
}

/** Targets in 0..V, every fifth row the ignore index when `ignore`. */
function randomTargets(rows: number, vocab: number, seed: number, ignore: boolean): Int32Array {
  return Int32Array.from(randomArray(rows, seed), (u, r) => (ignore && r % 5 === 2 ? IGNORE : Math.floor(((u + 1) / 2) * vocab) % vocab));
}

const f32 = (a: Float64Array) => Float32Array.from(a);

describe.skipIf(skip !== undefined)('gpuCrossEntropy forward and backward', () => {
  beforeAll(async () => {
    await init({ threads: 1 });
  });
  afterAll(() => gpu?.dispose());

  it('the f64 reference gradient matches central differences of its mean loss', () => {
    const [rows, vocab] = [4, 6];
    const logits = randomArray(rows * vocab, 1).map((x) => x * 3);
    const targets = new Int32Array([1, IGNORE, 5, 0]);
    const dims = { rows, vocab, ignoreIndex: IGNORE };
    const { dlogits } = reference(logits, targets, dims);
    for (const i of [0, 1, 8, 17, 23]) {
      const saved = logits[i]!;
      logits[i] = saved + 1e-3;
      const [up, hi] = [reference(logits, targets, dims).loss, logits[i]!];
      logits[i] = saved - 1e-3;
      const [down, lo] = [reference(logits, targets, dims).loss, logits[i]!];
      logits[i] = saved;
      expect((up - down) / (hi - lo), `dlogits[${i}]`).toBeCloseTo(dlogits[i]!, 6);
    }
  });

  for (const ignore of [true, false]) {
    it(`every (rows, vocab) of ${ROWS.join(', ')} × ${VOCABS.join(', ')}${ignore ? ', every fifth row ignored' : ', no ignore index'}`, async () => {
      let seed = ignore ? 100 : 5000;
      for (const rows of ROWS) {
        for (const vocab of VOCABS) {
          const what = `rows=${rows} vocab=${vocab} ignore=${ignore}`;
          // Logits of spread ±8 with a large offset on some rows (the max is subtracted).
          const logits = randomArray(rows * vocab, seed++).map((x, i) => x * 8 + (Math.floor(i / vocab) % 4 === 1 ? 60 : 0));
          const targets = randomTargets(rows, vocab, seed++, ignore);
          const options = { gpu: gpu!, rows, vocab, ignoreIndex: ignore ? IGNORE : undefined };
          const want = reference(logits, targets, options);
          const got = await gpuCrossEntropy(logits, targets, options);
          const wasm = kernels.crossEntropy(logits, targets, options);
          expect(firstMismatch(got.losses, wasm.losses, want.lossScale), `${what} losses`).toBeUndefined();
          expect(firstMismatch(got.lse, f32(want.lse), want.lse.map(Math.abs)), `${what} lse`).toBeUndefined();
          expect(Math.abs(got.loss - wasm.loss), `${what} loss`).toBeLessThanOrEqual(1e-4 * Math.max(...want.lossScale) + 1e-6);
          const dlogits = await gpuCrossEntropyBackward({ logits, targets, lse: got.lse }, options);
          expect(firstMismatch(dlogits, f32(want.dlogits), want.dlogitsScale), `${what} dlogits`).toBeUndefined();
        }
      }
    });
  }

  it('every row ignored: loss 0 and a zero gradient; an explicit scale', async () => {
    const [rows, vocab] = [3, 17];
    const logits = randomArray(rows * vocab, 9);
    const targets = new Int32Array(rows).fill(-1);
    const got = await gpuCrossEntropy(logits, targets, { gpu: gpu!, rows, vocab, ignoreIndex: -1 });
    expect(got.loss).toBe(0);
    expect(Array.from(got.losses)).toEqual([0, 0, 0]);
    const dlogits = await gpuCrossEntropyBackward({ logits, targets, lse: got.lse }, { gpu: gpu!, rows, vocab, ignoreIndex: -1 });
    expect(dlogits.every((d) => d === 0)).toBe(true);
    const some = new Int32Array([4, 0, 16]);
    const { lse } = await gpuCrossEntropy(logits, some, { gpu: gpu!, rows, vocab });
    const summed = await gpuCrossEntropyBackward({ logits, targets: some, lse }, { gpu: gpu!, rows, vocab, scale: 1 });
    const want = reference(logits, some, { rows, vocab });
    expect(
      firstMismatch(
        summed,
        f32(want.dlogits.map((d) => d * 3)),
        want.dlogitsScale.map((s) => s * 3),
      ),
    ).toBeUndefined();
  });

  it('the criterion catches a gradient without the one-hot term and a changed target', async () => {
    const [rows, vocab] = [17, 65];
    const logits = randomArray(rows * vocab, 21).map((x) => x * 4);
    const targets = randomTargets(rows, vocab, 22, true);
    const options = { gpu: gpu!, rows, vocab, ignoreIndex: IGNORE };
    const want = reference(logits, targets, options);
    const { lse } = await gpuCrossEntropy(logits, targets, options);
    const dlogits = await gpuCrossEntropyBackward({ logits, targets, lse }, options);
    expect(firstMismatch(dlogits, f32(want.dlogits), want.dlogitsScale)).toBeUndefined();
    const count = targets.filter((t) => t !== IGNORE).length;
    const noOnehot = f32(want.dlogits.map((d, i) => (targets[Math.floor(i / vocab)] === i % vocab ? d + 1 / count : d)));
    expect(firstMismatch(dlogits, noOnehot, want.dlogitsScale)).toBeDefined();
    const changed = targets.slice();
    changed[0] = (changed[0]! + 1) % vocab;
    const other = await gpuCrossEntropy(logits, changed, options);
    expect(firstMismatch(other.losses, f32(want.losses), want.lossScale)).toBeDefined();
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    const logits = new Float32Array(6);
    await expect(gpuCrossEntropy(logits, new Int32Array([0, 3]), { gpu: gpu!, rows: 2, vocab: 3 })).rejects.toThrow(
      /targets\[1\] = 3 is outside 0..2/,
    );
    await expect(gpuCrossEntropy(logits, new Float32Array(2) as never, { gpu: gpu!, rows: 2, vocab: 3 })).rejects.toThrow(/Int32Array/);
    await expect(
      gpuCrossEntropyBackward({ logits, targets: new Int32Array(2), lse: new Float32Array(3) }, { gpu: gpu!, rows: 2, vocab: 3 }),
    ).rejects.toThrow(/lse must have 2/);
    await expect(
      gpuCrossEntropyBackward(
        { logits, targets: new Int32Array(2), lse: new Float32Array(2) },
        { gpu: gpu!, rows: 2, vocab: 3, scale: Number.NaN },
      ),
    ).rejects.toThrow(/scale/);
  });
});
