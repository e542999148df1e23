// Peer: onnxruntime-web (wasm execution provider), multi-head causal attention forward as a small
// hand-built ONNX graph (bench/peers/onnx.mjs), the unfused way an exporter writes it:
//   S = MatMul(Q, Transpose(K)) · (1/√D) + M;  O = MatMul(Softmax(S), V)
// Q, K, V: [B, H, T, D]; M: [T, T] additive causal mask (0 on and below the diagonal, −1e9
// above), fed as an input; S: [B, H, T, T] is materialised. Forward only (inference runtime).
// Usage: node bench/peers/ort-attention.bench.mjs <threads> [suite]
import * as ort from 'onnxruntime-web';
import { attentionRow, loadAttentionShapes, random, skipNote, timeWithinAsync } from '../common.mjs';
import { floatTensor, intsAttr, model, node } from './onnx.mjs';

const [threadList = '1', suite = 'quick'] = process.argv.slice(2);

function attentionModel({ b, h, t, d }) {
  const qkv = [b, h, t, d];
  return model({
    nodes: [
      node(['K'], ['Kt'], 'kt', 'Transpose', [intsAttr('perm', [0, 1, 3, 2])]),
      node(['Q', 'Kt'], ['QK'], 'qk', 'MatMul'),
      node(['QK', 'scale'], ['S0'], 'scale', 'Mul'),
      node(['S0', 'M'], ['S'], 'mask', 'Add'),
      node(['S'], ['P'], 'softmax', 'Softmax'), // opset 13: axis −1
      node(['P', 'V'], ['O'], 'pv', 'MatMul'),
    ],
    inputs: [
      ['Q', qkv],
      ['K', qkv],
      ['V', qkv],
      ['M', [t, t]],
    ],
    outputs: [['O', qkv]],
    initializers: [floatTensor('scale', [], [1 / Math.sqrt(d)])],
  });
}

// numThreads is fixed when the wasm runtime first initialises: one thread count per process.
const threads = Number(threadList.split(',')[0]);
ort.env.wasm.numThreads = threads;
ort.env.wasm.simd = true;
for (const shape of loadAttentionShapes(suite)) {
  const { b, h, t, d, causal } = shape;
  const n = b * h * t * d;
  const mask = new Float32Array(t * t);
  if (causal) for (let i = 0; i < t; i++) mask.fill(-1e9, i * t + i + 1, (i + 1) * t);
  const session = await ort.InferenceSession.create(attentionModel(shape), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const dims = [b, h, t, d];
  const feeds = {
    Q: new ort.Tensor('float32', random(n, 1), dims),
    K: new ort.Tensor('float32', random(n, 2), dims),
    V: new ort.Tensor('float32', random(n, 3), dims),
    M: new ort.Tensor('float32', mask, [t, t]),
  };
  const timed = await timeWithinAsync(async () => {
    const out = await session.run(feeds);
    out.O.dispose?.();
  });
  await session.release();
  if (timed.skipped !== undefined) {
    skipNote(`ort-web ${threads}t`, `attention T=${t} forward`, timed.skipped);
    continue;
  }
  console.log(attentionRow({ impl: 'ort-web', variant: 'simd-threaded', threads, shape, pass: 'forward', seconds: timed.seconds }));
}
