// Peer for the issue "GPT Shakespeare benchmark": the same character-level GPT as wasmformer's
// reference recipe (nanoGPT's CPU config for tinyshakespeare), written from TF.js core ops and
// trained on TF.js's WebAssembly backend (XNNPACK; 1 thread in Node, as in bench/peers/tfjs.bench.mjs).
//
// Model: nLayer 4, nHead 4, nEmbd 128, blockSize 64, batch 12, vocab = the distinct characters of
// the text; learned absolute positions; pre-LayerNorm (eps 1e-5, with bias); causal self-attention;
// exact (erf) GELU MLP 4×; final LayerNorm; lm head tied to the token embedding; no dropout.
// Init normal(0, 0.02), c_proj weights normal(0, 0.02/sqrt(2·nLayer)), biases 0, LayerNorm 1/0.
// Training: AdamW lr 1e-3, β1 0.9, β2 0.99, ε 1e-8, weight decay 0.1 on the 2-D weights only,
// global-norm gradient clip 1.0, batches of random windows of the first 90% of the text.
//
// Usage: node bench/peers/tfjs-gpt.mjs [--steps N] [--warmup N] [--threads N] [--seed N] [--fast-matmul 0|1]
//   trains on data/tinyshakespeare.txt (shipped) and prints one JSON line (see runTfjsGpt).
//
// Notes on TF.js (tfjs-core 4.22, tfjs-backend-wasm 4.22, no tfjs-layers / union package):
// - In Node, '@tensorflow/tfjs-core' resolves to its CommonJS bundle, which registers NO gradient
//   functions (the union package @tensorflow/tfjs normally imports them). They exist only as
//   ES modules in tfjs-core/dist/gradients/, whose imports omit the '.js' extension, so Node
//   cannot load them as they are. setup() installs a small module-resolution hook that
//   appends '.js' inside tfjs-core/dist and then imports dist/register_all_gradients.js. That second
//   copy of tfjs-core shares the engine and the kernel / gradient registries with the first one
//   (TF.js keeps them on globalThis), so its gradients apply to the tensors made here.
// - Embedding gradients: checked on this setup — with the gradients registered, the gradient of
//   tf.gather fails on the wasm backend with "Kernel 'UnsortedSegmentSum' not registered for
//   backend 'wasm'" (gather's gradient is a segment sum, which this backend does not implement).
//   So the token embedding is oneHot(ids, V) · wte. Positions need no lookup: every window is
//   blockSize long, so wpe [T, C] is simply broadcast-added.
// - tfjs-core has no AdamW (tf.train.adam has no decoupled weight decay), so AdamW is written from
//   ops below, as PyTorch does it: p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + ε).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { readCorpus } from '../data.mjs';
import { registerGradients } from './tfjs-gradients.mjs';

const require = createRequire(import.meta.url);
const CONFIG = { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batch: 12 };
const OPT = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, clip: 1.0 };

let ready = null;
/** Loads tfjs-core's gradient functions and starts the wasm backend (once per process). */
function setup(threads) {
  ready ??= (async () => {
    await registerGradients();
    setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`);
    setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-gpt: the wasm backend did not start');
    await tf.ready();
  })();
  return ready;
}

/** Small seeded PRNG (mulberry32) for the batch offsets. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A variable holding `init`; the initial tensor is released (tf.variable keeps its own reference). */
function variable(init, trainable = true) {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

/** The parameters: { name: { v: tf.Variable, decay: boolean } }, decay = a 2-D weight. */
function initParams(V, seed) {
  const { nLayer, nEmbd: C, blockSize: T } = CONFIG;
  const params = {};
  let n = 0;
  const normal = (name, shape, std) =>
    (params[name] = { v: variable(tf.randomNormal(shape, 0, std, 'float32', seed + n++)), decay: shape.length === 2 });
  const fill = (name, shape, value) => (params[name] = { v: variable(tf.fill(shape, value)), decay: false });
  const projStd = 0.02 / Math.sqrt(2 * nLayer);
  normal('wte', [V, C], 0.02);
  normal('wpe', [T, C], 0.02);
  for (let l = 0; l < nLayer; l++) {
    fill(`h${l}.ln1.g`, [C], 1);
    fill(`h${l}.ln1.b`, [C], 0);
    normal(`h${l}.attn.w`, [C, 3 * C], 0.02);
    fill(`h${l}.attn.b`, [3 * C], 0);
    normal(`h${l}.attnProj.w`, [C, C], projStd);
    fill(`h${l}.attnProj.b`, [C], 0);
    fill(`h${l}.ln2.g`, [C], 1);
    fill(`h${l}.ln2.b`, [C], 0);
    normal(`h${l}.fc.w`, [C, 4 * C], 0.02);
    fill(`h${l}.fc.b`, [4 * C], 0);
    normal(`h${l}.mlpProj.w`, [4 * C, C], projStd);
    fill(`h${l}.mlpProj.b`, [C], 0);
  }
  fill('lnf.g', [C], 1);
  fill('lnf.b', [C], 0);
  return params;
}

function layerNorm(x, g, b) {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

// tf.oneHot(ids, V, 1, 0, 'float32') returns all zeros on the wasm backend (4.22), hence the cast.
const oneHot = (ids, V) => tf.cast(tf.oneHot(ids, V), 'float32');
// The wasm backend runs matMul with transposeA / transposeB outside XNNPACK, 15–25× slower than
// the plain form (see bench/results/kernels.jsonl, forms abt / atb), and tfjs-core's MatMul
// gradient uses exactly those forms. With fastMatMul (the default) every product is a plain
// a·b: operands are transposed explicitly and the gradient dA = dy·Bᵀ, dB = Aᵀ·dy likewise.
// Batched 4-D products (attention) stay slow either way (docs/design/benchmark-notes.md).
function swapLast(t) {
  const perm = t.shape.map((_, i) => i);
  [perm[t.rank - 2], perm[t.rank - 1]] = [t.rank - 1, t.rank - 2];
  return tf.transpose(t, perm);
}
const plainMatMul = tf.customGrad((a, b, save) => {
  save([a, b]);
  return { value: tf.matMul(a, b), gradFunc: (dy, [a, b]) => [tf.matMul(dy, swapLast(b)), tf.matMul(swapLast(a), dy)] };
});
let fast = true;
const mm = (a, b, ta = false, tb = false) => (fast ? plainMatMul(ta ? swapLast(a) : a, tb ? swapLast(b) : b) : tf.matMul(a, b, ta, tb));
const linear = (x, w, b) => tf.add(mm(x, w), b);
const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));

/** Mean cross-entropy of the next characters. x, y: int32 [B·T]; mask: [T, T] additive causal mask. */
function lossOf(p, x, y, mask, V) {
  const { nLayer, nHead: H, nEmbd: C, blockSize: T, batch: B } = CONFIG;
  const D = C / H;
  const P = (name) => p[name].v;
  const heads = (t) => tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]); // [B, H, T, D]
  let h = mm(oneHot(x, V), P('wte')); // [B·T, C]
  h = tf.reshape(tf.add(tf.reshape(h, [B, T, C]), P('wpe')), [B * T, C]);
  for (let l = 0; l < nLayer; l++) {
    const a = layerNorm(h, P(`h${l}.ln1.g`), P(`h${l}.ln1.b`));
    const [q, k, v] = tf.split(linear(a, P(`h${l}.attn.w`), P(`h${l}.attn.b`)), 3, 1);
    const scores = tf.add(tf.mul(mm(heads(q), heads(k), false, true), 1 / Math.sqrt(D)), mask);
    const att = mm(tf.softmax(scores), heads(v)); // [B, H, T, D]
    const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, C]);
    h = tf.add(h, linear(merged, P(`h${l}.attnProj.w`), P(`h${l}.attnProj.b`)));
    const m = layerNorm(h, P(`h${l}.ln2.g`), P(`h${l}.ln2.b`));
    h = tf.add(h, linear(gelu(linear(m, P(`h${l}.fc.w`), P(`h${l}.fc.b`))), P(`h${l}.mlpProj.w`), P(`h${l}.mlpProj.b`)));
  }
  const logits = mm(layerNorm(h, P('lnf.g'), P('lnf.b')), P('wte'), false, true); // [B·T, V]
  const logProbs = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, oneHot(y, V)), 1)));
}

/** AdamW step with global-norm clipping; m, v: moment variables in the order of `list`. */
function adamwStep(list, grads, m, v, step) {
  const { lr, beta1, beta2, eps, weightDecay, clip } = OPT;
  tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(list.map((p) => tf.sum(tf.square(grads[p.v.name])))));
    const scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    list.forEach((p, i) => {
      const g = tf.mul(grads[p.v.name], scale);
      m[i].assign(tf.add(tf.mul(m[i], beta1), tf.mul(g, 1 - beta1)));
      v[i].assign(tf.add(tf.mul(v[i], beta2), tf.mul(tf.square(g), 1 - beta2)));
      const update = tf.div(tf.mul(m[i], lr / bc1), tf.add(tf.sqrt(tf.div(v[i], bc2)), eps));
      const decayed = p.decay ? tf.mul(p.v, 1 - lr * weightDecay) : p.v;
      p.v.assign(tf.sub(decayed, update));
    });
  });
}

/**
 * Trains the GPT for `warmup` untimed then `steps` timed steps on `text`.
 * @param {{ text: string, steps: number, warmup?: number, seed?: number, threads?: number,
 *   fastMatMul?: boolean }} options  fastMatMul false: tfjs-core's own MatMul gradient (slow forms).
 * @returns {Promise<{ msPerStep: number, tokensPerSec: number, losses: number[], params: number,
 *   backend: string, threads: number }>} msPerStep: median over the timed steps (a step = batch
 *   sampling, forward, backward, clip, AdamW, reading the loss); losses: every step, warm-up first;
 *   params: trainable parameters (the tied wte counted once, wpe included).
 */
export async function runTfjsGpt({ text, steps, warmup = 2, seed = 1337, threads = 1, fastMatMul = true }) {
  fast = fastMatMul;
  if (!(steps >= 1)) throw new Error('tfjs-gpt: steps must be ≥ 1');
  await setup(threads);
  const { blockSize: T, batch: B } = CONFIG;
  const chars = [...new Set(text)].sort();
  const V = chars.length;
  const index = new Map(chars.map((c, i) => [c, i]));
  const data = Int32Array.from(text.slice(0, Math.floor(text.length * 0.9)), (c) => index.get(c));
  if (data.length <= T + 1) throw new Error('tfjs-gpt: text too short');

  const params = initParams(V, seed);
  const list = Object.values(params);
  const m = list.map((p) => variable(tf.zerosLike(p.v), false));
  const v = list.map((p) => variable(tf.zerosLike(p.v), false));
  const maskData = new Float32Array(T * T).map((_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0));
  const mask = tf.tensor2d(maskData, [T, T]);
  const random = rng(seed);
  const xs = new Int32Array(B * T);
  const ys = new Int32Array(B * T);

  const losses = [];
  const times = [];
  let tensorsAfterStep = null;
  for (let step = 1; step <= warmup + steps; step++) {
    const start = performance.now();
    for (let b = 0; b < B; b++) {
      const offset = Math.floor(random() * (data.length - T - 1));
      xs.set(data.subarray(offset, offset + T), b * T);
      ys.set(data.subarray(offset + 1, offset + T + 1), b * T);
    }
    const x = tf.tensor1d(xs, 'int32');
    const y = tf.tensor1d(ys, 'int32');
    const { value, grads } = tf.variableGrads(
      () => lossOf(params, x, y, mask, V),
      list.map((p) => p.v),
    );
    adamwStep(list, grads, m, v, step);
    losses.push(value.dataSync()[0]);
    tf.dispose([x, y, value, grads]);
    if (step > warmup) times.push(performance.now() - start);
    const count = tf.memory().numTensors;
    if (tensorsAfterStep !== null && count !== tensorsAfterStep) {
      throw new Error(`tfjs-gpt: tensor leak, ${tensorsAfterStep} → ${count} tensors after step ${step}`);
    }
    tensorsAfterStep = count;
  }
  const paramCount = list.reduce((n, p) => n + p.v.size, 0);
  tf.dispose([...list.map((p) => p.v), ...m, ...v, mask]);

  times.sort((a, b) => a - b);
  const msPerStep = (times[Math.floor((times.length - 1) / 2)] + times[Math.floor(times.length / 2)]) / 2;
  return {
    msPerStep,
    tokensPerSec: (B * T) / (msPerStep / 1000),
    losses,
    params: paramCount,
    backend: tf.getBackend(),
    threads: getThreadsCount(),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const text = readCorpus();
  const result = await runTfjsGpt({
    text,
    steps: arg('steps', 10),
    warmup: arg('warmup', 2),
    seed: arg('seed', 1337),
    threads: arg('threads', 1),
    fastMatMul: arg('fast-matmul', 1) !== 0,
  });
  const { losses } = result;
  console.error(`[tfjs-gpt] loss ${losses[0].toFixed(4)} → ${losses.at(-1).toFixed(4)} over ${losses.length} steps`);
  console.log(JSON.stringify({ impl: 'tfjs-wasm', model: 'gpt-shakespeare-char', ...CONFIG, ...result }));
}
