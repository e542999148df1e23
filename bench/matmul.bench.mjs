// Matmul throughput of one wasm build in this process (one build loads per process).
// Usage: node bench/matmul.bench.mjs <variant> <threads,…> [suite]
// Prints one JSON line per (shape, threads): median GFLOP/s over repeats, after warm-up.
import { readFileSync } from 'node:fs';
import { init, matmul, setThreadLimit } from '../dist/index.node.js';

const [variant, threadList = '1', suite = 'quick'] = process.argv.slice(2);
const shapes = JSON.parse(readFileSync(new URL('./shapes.json', import.meta.url), 'utf8'))[suite].matmul;
const threadCounts = threadList.split(',').map(Number);
const info = await init({ variant, threads: Math.max(...threadCounts) });

function random(length, seed) {
  const out = new Float32Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32 - 0.5;
  }
  return out;
}

/** Median seconds per call: repeat calls in batches of ≥ 0.15 s, 5 batches. */
function time(call) {
  call();
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) call();
    if (performance.now() - start >= 150) break;
    calls *= 2;
  }
  const samples = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) call();
    samples.push((performance.now() - start) / 1000 / calls);
  }
  return samples.sort((x, y) => x - y)[2];
}

for (const threads of threadCounts) {
  setThreadLimit(threads);
  for (const { m, k, n, form } of shapes) {
    const a = random(m * k, 1);
    const b = random(k * n, 2);
    const seconds = time(() => matmul(a, b, { m, k, n, form }));
    const gflops = (2 * m * k * n) / seconds / 1e9;
    console.log(JSON.stringify({
      suite: 'kernels', op: 'matmul', impl: 'wasmformer', variant: info.variant, simd: info.simd,
      threads, shape: { m, k, n }, form, seconds, gflops,
    }));
  }
}
