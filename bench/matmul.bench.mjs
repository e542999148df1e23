// Matmul throughput of one wasm build in this process (one build loads per process).
// Usage: node bench/matmul.bench.mjs <variant> <threads,…> [suite]
// Prints one JSON line per (shape, threads): median GFLOP/s over repeats, after warm-up.
import { init, matmul, setThreadLimit } from '../dist/index.node.js';
import { loadShapes, random, time } from './common.mjs';

const [variant, threadList = '1', suite = 'quick'] = process.argv.slice(2);
const shapes = loadShapes(suite);
const threadCounts = threadList.split(',').map(Number);
const info = await init({ variant, threads: Math.max(...threadCounts) });

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
