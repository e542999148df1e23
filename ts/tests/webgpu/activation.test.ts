// gpuActivation / gpuGlu and their backwards on the WebGPU adapter (lavapipe in Node): forward
// against the wasm activation / glu, backward against a float64 reference written here (itself
// checked by central differences), with gpu.ts's criterion (1e-4 of the sum of the absolute
// terms, 1e-6 floor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, kernels } from '../../../dist/index.node.js';
import { gpuActivation, gpuActivationBackward, gpuGlu, gpuGluBackward } from '../../../dist/internals.node.js';
import { randomArray } from '../helpers/reference.js';
import { firstMismatch, testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/activation.test.ts');
const ACTIVATIONS = ['gelu', 'gelu-erf', 'silu', 'relu', 'sigmoid'] as const;
const GLUS = { glu: 'sigmoid', reglu: 'relu', geglu: 'gelu', swiglu: 'silu' } as const;
// Element counts of [rows, channels] pairs from the ragged sets (the kernels are elementwise).
const SHAPES = [
  [1, 1],
  [3, 17],
  [17, 64],
  [63, 65],
  [64, 130],
  [65, 3],
] as const;
type Act = (typeof ACTIVATIONS)[number];

/** erf in f64 from its series 2/√π · x·e^(−x²) · Σₙ (2x²)ⁿ / (1·3·…·(2n+1)) (all terms positive). */
function erf(x: number): number {
  if (Math.abs(x) >= 6) return Math.sign(x);
  let [term, sum] = [1, 1];
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2 / Math.sqrt(Math.PI)) * x * Math.exp(-x * x) * sum;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** act(x), act'(x) in f64, and the sums of the absolute terms of each (the criterion's scales). */
function reference(kind: Act, x: number, broken = false): { value: number; valueScale: number; deriv: number; derivScale: number } {
  switch (kind) {
    case 'gelu': {
      const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3);
      const du = Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * x * x);
      const s = sigmoid(2 * u);
      const tail = 2 * x * s * (1 - s) * du;
      return { value: x * s, valueScale: Math.abs(x) * s, deriv: s + tail, derivScale: s + Math.abs(tail) };
    }
    case 'gelu-erf': {
      const cdf = 0.5 * (1 + erf(x / Math.SQRT2));
      const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      return { value: x * cdf, valueScale: Math.abs(x) * cdf, deriv: cdf + x * pdf, derivScale: cdf + Math.abs(x * pdf) };
    }
    case 'silu': {
      const s = sigmoid(x);
      return {
        value: x * s,
        valueScale: Math.abs(x) * s,
        deriv: broken ? s : s * (1 + x * (1 - s)),
        derivScale: s * (1 + Math.abs(x) * (1 - s)),
      };
    }
    case 'relu':
      return { value: Math.max(x, 0), valueScale: Math.abs(x), deriv: x > 0 ? 1 : 0, derivScale: 1 };
    case 'sigmoid': {
      const s = sigmoid(x);
      return { value: s, valueScale: s, deriv: s * (1 - s), derivScale: s * (1 - s) };
    }
  }
}

/** Inputs in about [−4, 4], with a few large ones (±12) among them. */
function inputs(n: number, seed: number): Float32Array {
  return randomArray(n, seed).map((v, i) => (i % 29 === 5 ? Math.sign(v) * 12 : v * 4));
}

describe.skipIf(skip !== undefined)('gpuActivation / gpuGlu forward and backward', () => {
  beforeAll(async () => {
    await init({ threads: 1 });
  });
  afterAll(() => gpu?.dispose());

  it("the f64 reference's derivatives match central differences of its values", () => {
    const h = 1e-5;
    for (const kind of ACTIVATIONS) {
      for (const x of [-3.1, -0.7, 0.3, 1.9, 5.2]) {
        const fd = (reference(kind, x + h).value - reference(kind, x - h).value) / (2 * h);
        expect(fd, `${kind} at ${x}`).toBeCloseTo(reference(kind, x).deriv, 7);
      }
    }
  });

  for (const kind of ACTIVATIONS) {
    it(`${kind}: forward against the wasm activation, backward against f64`, async () => {
      let seed = 10 + 100 * ACTIVATIONS.indexOf(kind);
      for (const [rows, channels] of SHAPES) {
        const n = rows * channels;
        const what = `${kind} [${rows}, ${channels}]`;
        const x = inputs(n, seed++);
        const dout = randomArray(n, seed++);
        const refs = Array.from(x, (v) => reference(kind, v));
        const out = await gpuActivation(x, { gpu: gpu!, kind });
        const valueScale = Float64Array.from(refs, (r) => r.valueScale);
        expect(firstMismatch(out, kernels.activation(x, kind), valueScale), `${what} out`).toBeUndefined();
        const dinp = await gpuActivationBackward({ dout, x }, { gpu: gpu!, kind });
        const want = Float32Array.from(refs, (r, i) => dout[i]! * r.deriv);
        const scale = Float64Array.from(refs, (r, i) => Math.abs(dout[i]!) * r.derivScale);
        expect(firstMismatch(dinp, want, scale), `${what} dinp`).toBeUndefined();
      }
    });
  }

  for (const [kind, act] of Object.entries(GLUS) as [keyof typeof GLUS, Act][]) {
    it(`${kind}: forward against the wasm glu, backward against f64`, async () => {
      let seed = 1000 + 100 * Object.keys(GLUS).indexOf(kind);
      for (const [rows, channels] of SHAPES) {
        const n = rows * channels;
        const what = `${kind} [${rows}, ${channels}]`;
        const gate = inputs(n, seed++);
        const up = randomArray(n, seed++);
        const dout = randomArray(n, seed++);
        const refs = Array.from(gate, (v) => reference(act, v));
        const out = await gpuGlu(gate, up, { gpu: gpu!, kind });
        const outScale = Float64Array.from(refs, (r, i) => r.valueScale * Math.abs(up[i]!));
        expect(firstMismatch(out, kernels.glu(gate, up, kind), outScale), `${what} out`).toBeUndefined();
        const { dgate, dup } = await gpuGluBackward({ dout, gate, up }, { gpu: gpu!, kind });
        const dgateWant = Float32Array.from(refs, (r, i) => dout[i]! * up[i]! * r.deriv);
        const dgateScale = Float64Array.from(refs, (r, i) => Math.abs(dout[i]! * up[i]!) * r.derivScale);
        expect(firstMismatch(dgate, dgateWant, dgateScale), `${what} dgate`).toBeUndefined();
        const dupWant = Float32Array.from(refs, (r, i) => dout[i]! * r.value);
        const dupScale = Float64Array.from(refs, (r, i) => Math.abs(dout[i]!) * r.valueScale);
        expect(firstMismatch(dup, dupWant, dupScale), `${what} dup`).toBeUndefined();
      }
    });
  }

  it('the criterion catches a broken SiLU derivative and a perturbed up', async () => {
    const n = 17 * 64;
    const gate = inputs(n, 3);
    const up = randomArray(n, 4);
    const dout = randomArray(n, 5);
    const { dgate } = await gpuGluBackward({ dout, gate, up }, { gpu: gpu!, kind: 'swiglu' });
    const scale = Float64Array.from(gate, (g, i) => Math.abs(dout[i]! * up[i]!) * reference('silu', g).derivScale);
    const good = Float32Array.from(gate, (g, i) => dout[i]! * up[i]! * reference('silu', g).deriv);
    const broken = Float32Array.from(gate, (g, i) => dout[i]! * up[i]! * reference('silu', g, true).deriv);
    expect(firstMismatch(dgate, good, scale)).toBeUndefined();
    expect(firstMismatch(dgate, broken, scale)).toBeDefined();
    const perturbed = up.slice();
    perturbed[100] = perturbed[100]! + 1e-3;
    const out = await gpuGlu(gate, perturbed, { gpu: gpu!, kind: 'swiglu' });
    const outScale = Float64Array.from(gate, (g, i) => reference('silu', g).valueScale * Math.abs(up[i]!));
    expect(firstMismatch(out, kernels.glu(gate, up, 'swiglu'), outScale)).toBeDefined();
  });

  it('bad arguments throw typed errors before any GPU work', async () => {
    await expect(gpuActivation(new Float32Array(3), { gpu: gpu!, kind: 'tanh' as never })).rejects.toThrow(/kind must be one of/);
    await expect(gpuActivation(new Float32Array(0), { gpu: gpu!, kind: 'relu' })).rejects.toThrow(/must not be empty/);
    await expect(gpuGlu(new Float32Array(3), new Float32Array(4), { gpu: gpu!, kind: 'swiglu' })).rejects.toThrow(/up must have 3/);
    await expect(
      gpuGluBackward({ dout: new Float32Array(2), gate: new Float32Array(3), up: new Float32Array(3) }, { gpu: gpu!, kind: 'glu' }),
    ).rejects.toThrow(/dout must have 3/);
  });
});
