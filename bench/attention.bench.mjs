// Multi-head causal attention throughput of one wasm build in this process (one build loads per
// process): the inference forward (`kernels.attention`) and one training pass, forward + backward
// (`attentionTrainingPass`, a benchmark entry over attention_forward_lse + attention_backward_lse).
// Usage: node bench/attention.bench.mjs <variant> <threads,…> [suite]
// Prints one JSON line per (shape, pass, threads): median GFLOP/s after warm-up, flops counted
// over the full T×T matrix (see attentionFlops in bench/common.mjs).
import { init, kernels, setThreadLimit } from '../dist/index.node.js';
import { attentionTrainingPass } from '../dist/internals.node.js';
import { attentionRow, loadAttentionShapes, random, skipNote, timeWithin } from './common.mjs';

const [variant, threadList = '1', suite = 'quick'] = process.argv.slice(2);
const shapes = loadAttentionShapes(suite);
const threadCounts = threadList.split(',').map(Number);
const info = await init({ variant, threads: Math.max(...threadCounts) });

for (const threads of threadCounts) {
  setThreadLimit(threads);
  for (const shape of shapes) {
    const { b, h, t, d, causal } = shape;
    const n = b * h * t * d;
    const [q, k, v, dout] = [random(n, 1), random(n, 2), random(n, 3), random(n, 4)];
    const dims = { b, h, t, d, causal };
    const passes = {
      forward: () => kernels.attention(q, k, v, dims),
      'forward+backward': () => attentionTrainingPass(q, k, v, { ...dims, dout }),
    };
    for (const [pass, call] of Object.entries(passes)) {
      const timed = timeWithin(call);
      if (timed.skipped !== undefined) {
        skipNote(`wasmformer ${info.variant} ${threads}t`, `attention T=${t} ${pass}`, timed.skipped);
        continue;
      }
      console.log(
        attentionRow({
          impl: 'wasmformer',
          variant: info.variant,
          simd: info.simd,
          threads,
          shape,
          pass,
          seconds: timed.seconds,
        }),
      );
    }
  }
}
