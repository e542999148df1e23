// Peer: TF.js with its WebAssembly backend (XNNPACK, 1 thread: its threaded build does not load
// in Node), multi-head causal attention as batched matmuls and a masked softmax, per head:
//   S = (Q · Kᵀ) / √D + M;  O = softmax(S) · V      Q, K, V: [B·H, T, D], M: [T, T] (−1e9 above the diagonal)
// Kᵀ is an explicit tf.transpose to [B·H, D, T] (the backend's transposed matMul forms are much
// slower, see bench/results/kernels.jsonl). Forward, then forward + backward through tf.grads
// (the gradients with respect to Q, K and V for the upstream gradient dO), both timed.
// Usage: node bench/peers/tfjs-attention.bench.mjs [suite]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { attentionRow, loadAttentionShapes, random, skipNote, timeWithin } from '../common.mjs';
import { registerGradients } from './tfjs-gradients.mjs';

const [suite = 'quick'] = process.argv.slice(2);
const require = createRequire(import.meta.url);
setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
setThreadsCount(1);
await registerGradients();
await tf.setBackend('wasm');
await tf.ready();
const variant = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threaded-simd' : 'simd';

for (const shape of loadAttentionShapes(suite)) {
  const { b, h, t, d, causal } = shape;
  const n = b * h * t * d;
  const dims = [b * h, t, d];
  const [q, k, v, dout] = [1, 2, 3, 4].map((seed) => tf.tensor3d(random(n, seed), dims));
  const maskData = new Float32Array(t * t);
  if (causal) for (let i = 0; i < t; i++) maskData.fill(-1e9, i * t + i + 1, (i + 1) * t);
  const mask = tf.tensor2d(maskData, [t, t]);
  const attend = (q, k, v) => tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(d)), mask)), v);
  const gradsOf = tf.grads(attend);
  let forwardTimed = false;
  const passes = {
    forward: () => {
      const out = tf.tidy(() => attend(q, k, v));
      out.dataSync();
      out.dispose();
    },
    'forward+backward': () => {
      const grads = tf.tidy(() => gradsOf([q, k, v], dout));
      for (const g of grads) g.dataSync();
      tf.dispose(grads);
    },
  };
  for (const [pass, call] of Object.entries(passes)) {
    if (pass !== 'forward' && !forwardTimed) {
      console.error(`[tfjs] attention T=${t} ${pass}: skipped (the forward alone was skipped)`);
      continue;
    }
    const before = tf.memory().numTensors;
    let timed;
    try {
      timed = timeWithin(call);
    } catch (error) {
      // E.g. a gradient kernel this backend lacks: report it and go on with the other cases.
      console.error(`[tfjs] attention T=${t} ${pass}: failed (${String(error?.message ?? error).split('\n')[0]}); skipped`);
      continue;
    }
    if (tf.memory().numTensors !== before) throw new Error(`tfjs attention ${pass}: tensor leak`);
    if (timed.skipped !== undefined) {
      skipNote('tfjs', `attention T=${t} ${pass}`, timed.skipped);
      continue;
    }
    if (pass === 'forward') forwardTimed = true;
    console.log(attentionRow({ impl: 'tfjs-wasm', variant, threads: 1, shape, pass, seconds: timed.seconds }));
  }
  tf.dispose([q, k, v, dout, mask]);
}
