// The ops the models are built from, over typed arrays: matmul, attention, RoPE, GLU,
// normalisation, softmax, cross-entropy. Run: node examples/kernels.mjs
import { init, kernels, matmul } from 'wasmformer';

const runtime = await init(); // picks the fastest build this engine runs
console.log(runtime.variant, runtime.threads); // e.g. "threads-relaxed" 2

// [2, 2] · [2, 2]
const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
console.log(c); // Float32Array [19, 22, 43, 50]

const [b, h, t, d] = [1, 4, 16, 8];
const q = new Float32Array(b * h * t * d).map(() => Math.random());
const out = kernels.attention(q, q, q, { b, h, t, d, causal: true }); // [B, H, T, D]
const rotated = kernels.rope(q, { b, t: h, h: t, d, positionOffset: 3 }); // any [B, T, H, D]
const hidden = kernels.glu(q, q, 'swiglu'); // act(gate) ⊙ up
const normed = kernels.rmsNorm(q, new Float32Array(d).fill(1), { rows: b * h * t, channels: d });
const probs = kernels.softmax(q, { rows: b * h * t, vocab: d });
const { loss } = kernels.crossEntropy(q, new Int32Array(b * h * t), { rows: b * h * t, vocab: d });
console.log(out.length, rotated.length, hidden.length, normed.length, probs.length, loss.toFixed(3));
