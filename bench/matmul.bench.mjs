// Matmul throughput of one wasm build in this process (one build loads per process).
// Usage: node bench/matmul.bench.mjs <variant> <threads,…> [suite]
// Prints one JSON line per (shape, threads): median GFLOP/s over repeats, after warm-up. On one
// thread each product alternates with the peak loop of the build's instruction set
// (bench/peak-loop.mjs: mul+add for simd builds, relaxed madd for relaxed ones), and the line
// also gives the product's fraction of that peak, from the same moments of the machine.
import { init, matmul, setThreadLimit } from '../dist/index.node.js';
import { loadShapes, random, time, timePaired } from './common.mjs';
import { peakLoop } from './peak-loop.mjs';

const [variant, threadList = '1', suite = 'quick'] = process.argv.slice(2);
const shapes = loadShapes(suite);
const threadCounts = threadList.split(',').map(Number);
const info = await init({ variant, threads: Math.max(...threadCounts) });
const peakVariant = info.variant.includes('relaxed') ? 'relaxed' : 'simd';
const peak = await peakLoop(peakVariant);

for (const threads of threadCounts) {
  setThreadLimit(threads);
  for (const { m, k, n, form } of shapes) {
    const a = random(m * k, 1);
    const b = random(k * n, 2);
    const flops = 2 * m * k * n;
    const product = () => matmul(a, b, { m, k, n, form });
    let seconds;
    let paired = {};
    if (threads === 1) {
      const timed = timePaired(product, () => peak.run());
      seconds = timed.secondsA;
      // (flops / a) / (peak flops / b) per round, then the median
      const fractionOfPeak = (flops / peak.flopsPerCall) / timed.ratio;
      paired = { peakVariant, peakGflops: peak.flopsPerCall / timed.secondsB / 1e9, fractionOfPeak };
    } else {
      seconds = time(product);
    }
    console.log(JSON.stringify({
      suite: 'kernels', op: 'matmul', impl: 'wasmformer', variant: info.variant, simd: info.simd,
      threads, shape: { m, k, n }, form, seconds, gflops: flops / seconds / 1e9, ...paired,
    }));
  }
}
