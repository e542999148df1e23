// int8 (W8A16) against float32 linear layers, `out = x · Wᵀ` with W [N, K] held in the module
// (kernels.LinearWeight), on GPT-2-small's and MiniLM's layer shapes: M = 1 (a decoding step:
// the few-rows kernels, which decoding uses) and M = 128 (a prompt or a batch of sentences:
// the tiled kernels). One build per process (one build loads per process).
// Usage: node bench/int8.bench.mjs [variant|auto] [threads,…]   (default: auto 1,2: the fastest
// build this Node runs, threads-relaxed with --experimental-wasm-relaxed-simd on Node 20)
// Each int8 case is timed in alternation with the float32 case of the same shape, threads and
// inputs (`timePaired`, bench/common.mjs); `speedup` is float32 seconds ÷ int8 seconds. int8
// includes quantising the input rows to int16 on every call. Prints one JSON line per case,
// then a table.
import { init, kernels, setThreadLimit } from '../dist/index.node.js';
import { random, timePaired } from './common.mjs';

const [variantArg = 'auto', threadList = '1,2'] = process.argv.slice(2);
const variant = variantArg === 'auto' ? undefined : variantArg;
const threadCounts = threadList.split(',').map(Number);
const info = await init({ variant, threads: Math.max(...threadCounts) });

/** K × N of the layers: GPT-2 small (C = 768: attention out, MLP up, MLP down), MiniLM (C = 384). */
const LAYERS = [
  [768, 768],
  [768, 3072],
  [3072, 768],
  [384, 384],
  [384, 1536],
];
const ROWS = [1, 128];
const INT8 = [
  { name: 'int8', blockSize: undefined },
  { name: 'int8-block32', blockSize: 32 },
];

const rows = [];
for (const threads of threadCounts) {
  for (const m of ROWS) {
    for (const [k, n] of LAYERS) {
      const w = random(n * k, 2);
      const x = random(m * k, 1);
      const f32 = kernels.LinearWeight.from(w, { n, k, dtype: 'float32' });
      const apply = (weight) => () => {
        setThreadLimit(threads);
        weight.apply(x, { m });
      };
      for (const { name, blockSize } of INT8) {
        const q = kernels.LinearWeight.from(w, { n, k, blockSize });
        const timed = timePaired(apply(q), apply(f32));
        const row = {
          suite: 'kernels',
          op: 'linear',
          impl: name,
          peer: 'float32',
          variant: info.variant,
          threads,
          shape: { m, k, n },
          seconds: timed.secondsA,
          peerSeconds: timed.secondsB,
          gmacs: (m * k * n) / timed.secondsA / 1e9,
          peerGmacs: (m * k * n) / timed.secondsB / 1e9,
          speedup: 1 / timed.ratio,
          bytes: q.byteLength,
          peerBytes: f32.byteLength,
        };
        console.log(JSON.stringify(row));
        rows.push(row);
        q.dispose();
      }
      f32.dispose();
    }
  }
}

console.log(`\n${info.variant}: speedup of int8 over float32 (float32 s ÷ int8 s, paired), float32 alone in G multiply-adds/s`);
console.log('| M | K × N | threads | float32 GMAC/s | int8 per-channel | int8 block 32 |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const threads of threadCounts) {
  for (const m of ROWS) {
    for (const [k, n] of LAYERS) {
      const of = (impl) =>
        rows.find((r) => r.impl === impl && r.threads === threads && r.shape.m === m && r.shape.k === k && r.shape.n === n);
      const [a, b] = [of('int8'), of('int8-block32')];
      console.log(`| ${m} | ${k} × ${n} | ${threads} | ${a.peerGmacs.toFixed(1)} | ${a.speedup.toFixed(2)}× | ${b.speedup.toFixed(2)}× |`);
    }
  }
}
