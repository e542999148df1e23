// The kernels beyond matmul through the public `kernels` API, against plain TS references,
// on ragged shapes; plus the argument checks that run before any WebAssembly.
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, init, kernels } from '../../dist/index.node.js';
import { attentionTrainingPass } from '../../dist/internals.node.js';
import { attentionRef, maxRelativeError, normRef, randomArray, ropeRef, softmaxRef } from './helpers/reference.js';

beforeAll(async () => {
  await init({ threads: 2 });
});

describe('kernels', () => {
  it('softmax and cross-entropy match the reference, with an ignore index', () => {
    for (const [rows, vocab] of [
      [1, 1],
      [3, 17],
      [5, 63],
      [2, 1000],
    ] as const) {
      const logits = randomArray(rows * vocab, rows + vocab).map((v) => v * 8);
      const want = softmaxRef(logits, rows, vocab);
      expect(maxRelativeError(kernels.softmax(logits, { rows, vocab }), Float32Array.from(want))).toBeLessThan(1e-5);
      const targets = Int32Array.from({ length: rows }, (_, r) => (r === 1 ? -100 : (r * 7) % vocab));
      const { loss, losses } = kernels.crossEntropy(logits, targets, { rows, vocab, ignoreIndex: -100 });
      let sum = 0;
      let count = 0;
      targets.forEach((target, r) => {
        const expected = target === -100 ? 0 : -Math.log(want[r * vocab + target]!);
        expect(losses[r]).toBeCloseTo(expected, 4);
        if (target !== -100) {
          sum += expected;
          count++;
        }
      });
      expect(loss).toBeCloseTo(count ? sum / count : 0, 4);
    }
    expect(() => kernels.crossEntropy(new Float32Array(4), new Int32Array([0, 2]), { rows: 2, vocab: 2 })).toThrow(
      /targets\[1\] = 2 is outside 0..1/,
    );
  });

  it('layerNorm and rmsNorm match the reference', () => {
    for (const [rows, c] of [
      [1, 1],
      [3, 3],
      [4, 17],
      [2, 130],
    ] as const) {
      const x = randomArray(rows * c, c);
      const w = randomArray(c, c + 1);
      const bias = randomArray(c, c + 2);
      expect(
        maxRelativeError(kernels.layerNorm(x, w, bias, { rows, channels: c }), normRef(x, w, bias, rows, c, 1e-5, false)),
      ).toBeLessThan(1e-4);
      expect(
        maxRelativeError(kernels.rmsNorm(x, w, { rows, channels: c, eps: 1e-6 }), normRef(x, w, null, rows, c, 1e-6, true)),
      ).toBeLessThan(1e-4);
    }
    expect(() => kernels.layerNorm(new Float32Array(6), new Float32Array(2), undefined, { rows: 2, channels: 3 })).toThrow(ShapeError);
    expect(() => kernels.rmsNorm(new Float32Array(6), new Float32Array(3), { rows: 2, channels: 3, eps: 0 })).toThrow(
      /eps must be a finite positive/,
    );
  });

  it('attention matches the reference: causal, bidirectional with padding, with a bias', () => {
    for (const [b, h, t, d] of [
      [1, 1, 1, 1],
      [2, 2, 17, 3],
      [1, 3, 33, 8],
    ] as const) {
      const n = b * h * t * d;
      const [q, k, v] = [randomArray(n, 1), randomArray(n, 2), randomArray(n, 3)];
      const keyPadding = Uint8Array.from({ length: b * t }, (_, i) => (i % 5 === 4 ? 0 : 1));
      const bias = randomArray(h * t * t, 4);
      const dims = { b, h, t, d };
      expect(maxRelativeError(kernels.attention(q, k, v, { ...dims, causal: true }), attentionRef(q, k, v, b, h, t, d, true))).toBeLessThan(
        1e-5,
      );
      expect(
        maxRelativeError(kernels.attention(q, k, v, { ...dims, keyPadding }), attentionRef(q, k, v, b, h, t, d, false, keyPadding)),
      ).toBeLessThan(1e-5);
      expect(
        maxRelativeError(
          kernels.attention(q, k, v, { ...dims, causal: true, bias }),
          attentionRef(q, k, v, b, h, t, d, true, undefined, bias),
        ),
      ).toBeLessThan(1e-5);
    }
    expect(() =>
      kernels.attention(new Float32Array(8), new Float32Array(8), new Float32Array(8), {
        b: 1,
        h: 2,
        t: 2,
        d: 2,
        keyPadding: new Uint8Array(3),
      }),
    ).toThrow(/keyPadding must have 2 elements/);
  });

  it('attentionTrainingPass (bench entry): output and q, k, v gradients match the reference', () => {
    for (const [b, h, t, d] of [
      [1, 2, 5, 3],
      [2, 1, 9, 4],
    ] as const) {
      const n = b * h * t * d;
      const [q, k, v, dout] = [randomArray(n, 1), randomArray(n, 2), randomArray(n, 3), randomArray(n, 4)];
      const { out, dq, dk, dv } = attentionTrainingPass(q, k, v, { b, h, t, d, causal: true, dout });
      expect(maxRelativeError(out, attentionRef(q, k, v, b, h, t, d, true))).toBeLessThan(1e-5);
      // d/dx of L = Σ dout ⊙ attention(q, k, v), by central differences on every input.
      const loss = (): number => attentionRef(q, k, v, b, h, t, d, true).reduce((s, o, i) => s + o * dout[i]!, 0);
      for (const [x, dx] of [
        [q, dq],
        [k, dk],
        [v, dv],
      ] as const) {
        for (let i = 0; i < n; i++) {
          const keep = x[i]!;
          x[i] = keep + 1e-3;
          const [up, xUp] = [loss(), x[i]!];
          x[i] = keep - 1e-3;
          const [down, xDown] = [loss(), x[i]!];
          x[i] = keep;
          expect(Math.abs(dx[i]! - (up - down) / (xUp - xDown))).toBeLessThan(2e-3);
        }
      }
    }
    const ones = new Float32Array(8).fill(1);
    expect(() => attentionTrainingPass(ones, ones, ones, { b: 1, h: 2, t: 2, d: 2, dout: new Float32Array(7) })).toThrow(ShapeError);
  });

  it("rope matches the reference and keeps every head vector's norm", () => {
    const [b, t, h, d] = [2, 5, 3, 12];
    const x = randomArray(b * t * h * d, 9);
    for (const rotaryDim of [12, 8]) {
      const got = kernels.rope(x, { b, t, h, d, rotaryDim, positionOffset: 7 });
      expect(maxRelativeError(got, ropeRef(x, b, t, h, d, rotaryDim, 10000, 7))).toBeLessThan(1e-5);
      for (let at = 0; at < x.length; at += d) {
        const norm = (a: Float32Array): number => Math.hypot(...a.subarray(at, at + d));
        expect(norm(got)).toBeCloseTo(norm(x), 4);
      }
    }
    expect(() => kernels.rope(x, { b, t, h, d, scaling: { type: 'linear', factor: 0 } })).toThrow(InvalidArgumentError);
    expect(() => kernels.rope(x, { b, t, h, d, rotaryDim: 7 })).toThrow(InvalidArgumentError);
  });

  it('activations and GLU variants match their formulas', () => {
    const x = randomArray(63, 5).map((v) => v * 4);
    const up = randomArray(63, 6);
    const gelu = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    const silu = (v: number): number => v / (1 + Math.exp(-v));
    const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
    expect(maxRelativeError(kernels.activation(x, 'gelu'), x.map(gelu))).toBeLessThan(1e-5);
    expect(maxRelativeError(kernels.activation(x, 'silu'), x.map(silu))).toBeLessThan(1e-5);
    expect(
      maxRelativeError(
        kernels.activation(x, 'relu'),
        x.map((v) => Math.max(v, 0)),
      ),
    ).toBeLessThan(1e-6);
    expect(kernels.activation(new Float32Array([1]), 'gelu-erf')[0]).toBeCloseTo(0.841345, 5);
    const gated: Record<'glu' | 'reglu' | 'geglu' | 'swiglu', (v: number) => number> = {
      glu: sigmoid,
      reglu: (v) => Math.max(v, 0),
      geglu: gelu,
      swiglu: silu,
    };
    for (const [kind, act] of Object.entries(gated) as [keyof typeof gated, (v: number) => number][]) {
      expect(
        maxRelativeError(
          kernels.glu(x, up, kind),
          x.map((v, i) => act(v) * up[i]!),
        ),
      ).toBeLessThan(1e-5);
    }
    expect(() => kernels.glu(x, up.subarray(1), 'swiglu')).toThrow(ShapeError);
    // @ts-expect-error: not a kind
    expect(() => kernels.activation(x, 'tanh')).toThrow(/kind must be one of/);
  });
});
