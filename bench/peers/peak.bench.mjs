// The wasm peak loop (bench/peak-loop.mjs) in its own process.
// Usage: node bench/peers/peak.bench.mjs simd|relaxed
// Prints one JSON line in the format of bench/matmul.bench.mjs, with shape null and form "peak".
import { time } from '../common.mjs';
import { peakLoop } from '../peak-loop.mjs';

const variant = process.argv[2] ?? 'simd';
const peak = await peakLoop(variant);
const seconds = time(() => peak.run());
console.log(JSON.stringify({
  suite: 'kernels', op: 'peak', impl: 'peak', variant, simd: true, threads: 1, shape: null, form: 'peak',
  seconds, gflops: peak.flopsPerCall / seconds / 1e9,
}));
