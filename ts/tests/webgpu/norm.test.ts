// gpuLayerNorm / gpuRmsNorm and their backwards on the WebGPU adapter (lavapipe in Node): the
// forward against the wasm layerNorm / rmsNorm, the saved state and every gradient against a
// float64 reference written here (itself checked by central differences). The criterion is
// gpu.ts's: |got − want| ≤ 1e-4 · (the sum of the absolute terms) + 1e-6.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, kernels } from '../../../dist/index.node.js';
import { gpuLayerNorm, gpuLayerNormBackward, gpuRmsNorm, gpuRmsNormBackward } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/norm.test.ts');
const ROWS = [1, 3, 17, 63, 64, 65];
const CHANNELS = [1, 3, 17, 64, 65, 130];
const EPS = 1e-5;

/** The f64 norm of one call: forward, backward and the scales of the criterion. */
function reference(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  dout: Float32Array,
  dims: { rows: number; channels: number; rms: boolean; dropMeanG?: boolean },
) {
  const { rows: n, channels: c, rms, dropMeanG = false } = dims;
  const out = new Float64Array(n * c);
  const outScale = new Float64Array(n * c);
  const mean = new Float64Array(n);
  const meanScale = new Float64Array(n);
  const rstd = new Float64Array(n);
  const dinp = new Float64Array(n * c);
  const dinpScale = new Float64Array(n * c);
  const dweight = new Float64Array(c);
  const dweightScale = new Float64Array(c);
  const dbias = new Float64Array(c);
  const dbiasScale = new Float64Array(c);
  for (let r = 0; r < n; r++) {
    let s = 0;
    let sa = 0;
    for (let j = 0; j < c; j++) {
      s += x[r * c + j]!;
      sa += Math.abs(x[r * c + j]!);
    }
    const m = rms ? 0 : s / c;
    let ss = 0;
    for (let j = 0; j < c; j++) ss += (x[r * c + j]! - m) ** 2;
    const rs = 1 / Math.sqrt(ss / c + EPS);
    [mean[r], meanScale[r], rstd[r]] = [m, sa / c, rs];
    let sg = 0;
    let sgn = 0;
    let sga = 0;
    let sgna = 0;
    for (let j = 0; j < c; j++) {
      const i = r * c + j;
      const norm = (x[i]! - m) * rs;
      out[i] = norm * w[j]! + (b ? b[j]! : 0);
      outScale[i] = rs * Math.abs(w[j]!) * (Math.abs(x[i]!) + (rms ? 0 : sa / c)) + (b ? Math.abs(b[j]!) : 0);
      const g = w[j]! * dout[i]!;
      [sg, sgn, sga, sgna] = [sg + g, sgn + g * norm, sga + Math.abs(g), sgna + Math.abs(g * norm)];
      dweight[j] = dweight[j]! + norm * dout[i]!;
      dweightScale[j] = dweightScale[j]! + Math.abs(norm * dout[i]!);
      dbias[j] = dbias[j]! + dout[i]!;
      dbiasScale[j] = dbiasScale[j]! + Math.abs(dout[i]!);
    }
    const meanG = rms || dropMeanG ? 0 : sg / c;
    for (let j = 0; j < c; j++) {
      const i = r * c + j;
      const norm = (x[i]! - m) * rs;
      dinp[i] = rs * (w[j]! * dout[i]! - meanG - (norm * sgn) / c);
      dinpScale[i] = rs * (Math.abs(w[j]! * dout[i]!) + (rms ? 0 : sga / c) + (Math.abs(norm) * sgna) / c);
    }
  }
  return { out, outScale, mean, meanScale, rstd, dinp, dinpScale, dweight, dweightScale, dbias, dbiasScale };
}

const f32 = (a: Float64Array) => Float32Array.from(a);

describe.skipIf(skip !== undefined)('gpuLayerNorm / gpuRmsNorm forward and backward', () => {
  beforeAll(async () => {
    await init({ threads: 1 });
  });
  afterAll(() => gpu?.dispose());

  it('the f64 reference backward matches central differences of its forward', () => {
    const [n, c] = [3, 5];
    const x = randomArray(n * c, 1);
    const w = randomArray(c, 2);
    const b = randomArray(c, 3);
    const dout = randomArray(n * c, 4);
    for (const rms of [false, true]) {
      const loss = (xs: Float32Array, ws: Float32Array, bs: Float32Array) => {
        const { out } = reference(xs, ws, rms ? undefined : bs, dout, { rows: n, channels: c, rms });
        return out.reduce((sum, o, i) => sum + o * dout[i]!, 0);
      };
      const want = reference(x, w, rms ? undefined : b, dout, { rows: n, channels: c, rms });
      const h = 1e-3;
      const central = (array: Float32Array, i: number) => {
        const saved = array[i]!;
        array[i] = saved + h;
        const [up, hi] = [loss(x, w, b), array[i]!];
        array[i] = saved - h;
        const [down, lo] = [loss(x, w, b), array[i]!];
        array[i] = saved;
        return (up - down) / (hi - lo); // the steps as float32 stored them
      };
      for (const i of [0, 7, 14]) expect(central(x, i), `dx[${i}] rms=${rms}`).toBeCloseTo(want.dinp[i]!, 3);
      for (const j of [0, 4]) expect(central(w, j), `dweight[${j}] rms=${rms}`).toBeCloseTo(want.dweight[j]!, 3);
      if (!rms) expect(central(b, 2), 'dbias[2]').toBeCloseTo(want.dbias[2]!, 3);
    }
  });

  for (const kind of ['layernorm + bias', 'layernorm', 'rmsnorm'] as const) {
    it(`${kind}: every (rows, channels) of ${ROWS.join(', ')} × ${CHANNELS.join(', ')}`, async () => {
      const rms = kind === 'rmsnorm';
      let seed = 100 + 1000 * ['layernorm + bias', 'layernorm', 'rmsnorm'].indexOf(kind);
      for (const rows of ROWS) {
        for (const channels of CHANNELS) {
          const what = `${kind} rows=${rows} channels=${channels}`;
          const x = randomArray(rows * channels, seed++).map((v, i) => v * 3 + (i % 7) * 0.5);
          const w = randomArray(channels, seed++);
          const b = kind === 'layernorm + bias' ? randomArray(channels, seed++) : undefined;
          const dout = randomArray(rows * channels, seed++);
          const want = reference(x, w, b, dout, { rows, channels, rms });
          const options = { gpu: gpu!, rows, channels, eps: EPS };
          if (rms) {
            const fwd = await gpuRmsNorm(x, w, options);
            expect(firstMismatch(fwd.out, kernels.rmsNorm(x, w, options), want.outScale), `${what} out`).toBeUndefined();
            expect(firstMismatch(fwd.rstd, f32(want.rstd), want.rstd), `${what} rstd`).toBeUndefined();
            const grads = await gpuRmsNormBackward({ dout, x, weight: w, rstd: fwd.rstd }, { gpu: gpu!, rows, channels });
            expect(firstMismatch(grads.dinp, f32(want.dinp), want.dinpScale), `${what} dinp`).toBeUndefined();
            expect(firstMismatch(grads.dweight, f32(want.dweight), want.dweightScale), `${what} dweight`).toBeUndefined();
          } else {
            const fwd = await gpuLayerNorm(x, w, b, options);
            expect(firstMismatch(fwd.out, kernels.layerNorm(x, w, b, options), want.outScale), `${what} out`).toBeUndefined();
            expect(firstMismatch(fwd.mean, f32(want.mean), want.meanScale), `${what} mean`).toBeUndefined();
            expect(firstMismatch(fwd.rstd, f32(want.rstd), want.rstd), `${what} rstd`).toBeUndefined();
            const grads = await gpuLayerNormBackward(
              { dout, x, weight: w, mean: fwd.mean, rstd: fwd.rstd },
              { gpu: gpu!, rows, channels, bias: b !== undefined },
            );
            expect(firstMismatch(grads.dinp, f32(want.dinp), want.dinpScale), `${what} dinp`).toBeUndefined();
            expect(firstMismatch(grads.dweight, f32(want.dweight), want.dweightScale), `${what} dweight`).toBeUndefined();
            if (b) expect(firstMismatch(grads.dbias!, f32(want.dbias), want.dbiasScale), `${what} dbias`).toBeUndefined();
            else expect(grads.dbias).toBeUndefined();
          }
        }
      }
    });
  }

  it('the criterion catches a reference without the −mean(g) term, and a perturbed dout', async () => {
    const [rows, channels] = [17, 65];
    const x = randomArray(rows * channels, 5);
    const w = randomArray(channels, 6);
    const dout = randomArray(rows * channels, 7);
    const { mean, rstd } = await gpuLayerNorm(x, w, undefined, { gpu: gpu!, rows, channels });
    const grads = await gpuLayerNormBackward({ dout, x, weight: w, mean, rstd }, { gpu: gpu!, rows, channels, bias: false });
    const good = reference(x, w, undefined, dout, { rows, channels, rms: false });
    expect(firstMismatch(grads.dinp, f32(good.dinp), good.dinpScale)).toBeUndefined();
    const broken = reference(x, w, undefined, dout, { rows, channels, rms: false, dropMeanG: true });
    expect(firstMismatch(grads.dinp, f32(broken.dinp), good.dinpScale)).toBeDefined();
    const perturbed = dout.slice();
    perturbed[40] = perturbed[40]! + 1;
    const other = await gpuLayerNormBackward({ dout: perturbed, x, weight: w, mean, rstd }, { gpu: gpu!, rows, channels, bias: false });
    expect(firstMismatch(other.dweight, f32(good.dweight), good.dweightScale)).toBeDefined();
  });

  it('the backward is deterministic: two runs give the same bits', async () => {
    const [rows, channels] = [130, 65];
    const x = randomArray(rows * channels, 31);
    const w = randomArray(channels, 32);
    const dout = randomArray(rows * channels, 33);
    const { mean, rstd } = await gpuLayerNorm(x, w, w, { gpu: gpu!, rows, channels });
    const runs = [];
    for (let k = 0; k < 2; k++) runs.push(await gpuLayerNormBackward({ dout, x, weight: w, mean, rstd }, { gpu: gpu!, rows, channels }));
    for (const name of ['dinp', 'dweight', 'dbias'] as const)
      expect(Array.from(runs[1]![name]!), name).toEqual(Array.from(runs[0]![name]!));
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    const x = new Float32Array(6);
    await expect(gpuLayerNorm(x, new Float32Array(2), undefined, { gpu: gpu!, rows: 2, channels: 3 })).rejects.toThrow(
      /weight must have 3/,
    );
    await expect(gpuRmsNorm(x, new Float32Array(3), { gpu: gpu!, rows: 2, channels: 3, eps: 0 })).rejects.toThrow(/eps/);
    await expect(
      gpuRmsNormBackward({ dout: x, x, weight: new Float32Array(3), rstd: new Float32Array(3) }, { gpu: gpu!, rows: 2, channels: 3 }),
    ).rejects.toThrow(/rstd must have 2/);
    await expect(gpuLayerNorm(x, new Float32Array(3), undefined, { gpu: {} as never, rows: 2, channels: 3 })).rejects.toThrow(/Gpu/);
  });
});
