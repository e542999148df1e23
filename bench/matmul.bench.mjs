// Matmul throughput of one wasm build in this process (one build loads per process).
// Usage: node bench/matmul.bench.mjs <variant> <threads,…> [suite]
// Prints one JSON line per (shape, threads): median GFLOP/s over repeats, after warm-up.
// The operands are WasmArrays, copied into the module once, and each call returns its result
// as a new Float32Array: the protocol of the TF.js peer (tensors made once, `dataSync()` per
// call). A call on Float32Array operands also copies a and b in, 3–8% of a 512³–1024³ product
// on one thread here (paired). The
// issue's ratio targets are also measured in pairs, the two calls timed alternately in this
// process (`timePaired`) so that both see the same moments of a machine whose speed swings:
// - on one thread, each product against the peak loop of the build's instruction set
//   (bench/peak-loop.mjs: mul+add for simd builds, relaxed madd for relaxed ones):
//   `fractionOfPeak`;
// - on one thread, each transposed form (abt, atb) against the plain form of the same dims:
//   `ratioToPlain` (its speed ÷ the plain form's);
// - on more threads, the product against itself on one thread (`setThreadLimit` between the
//   calls): `speedupOverOneThread`.
// On one thread it also times the microkernel's loop alone (bench/peak-loop.mjs `tileLoop`, L1
// data, no packing) against the same peak loop: the most a product can reach of that peak.
import { WasmArray, init, matmul, setThreadLimit } from '../dist/index.node.js';
import { loadShapes, random, timePaired } from './common.mjs';
import { peakLoop, tileLoop } from './peak-loop.mjs';

const [variant, threadList = '1', suite = 'quick'] = process.argv.slice(2);
const shapes = loadShapes(suite);
const threadCounts = threadList.split(',').map(Number);
const info = await init({ variant, threads: Math.max(...threadCounts) });
const peakVariant = info.variant.includes('relaxed') ? 'relaxed' : 'simd';
const peak = await peakLoop(peakVariant);

/** `call` with the kernels capped to `threads` threads. */
const onThreads = (threads, call) => () => {
  setThreadLimit(threads);
  call();
};

for (const threads of threadCounts) {
  for (const { m, k, n, form } of shapes) {
    const a = WasmArray.from(random(m * k, 1));
    const b = WasmArray.from(random(k * n, 2));
    const flops = 2 * m * k * n;
    const product = onThreads(threads, () => matmul(a, b, { m, k, n, form }));
    let seconds;
    const paired = {};
    if (threads === 1) {
      const timed = timePaired(product, () => peak.run());
      seconds = timed.secondsA;
      // (flops / a) / (peak flops / b) per round, then the median
      Object.assign(paired, {
        peakVariant,
        peakGflops: peak.flopsPerCall / timed.secondsB / 1e9,
        fractionOfPeak: flops / peak.flopsPerCall / timed.ratio,
      });
      if (form !== 'ab') {
        // The same operands read as a plain product: only the speed matters, not the values.
        paired.ratioToPlain = 1 / timePaired(product, () => matmul(a, b, { m, k, n, form: 'ab' })).ratio;
      }
    } else {
      const timed = timePaired(
        product,
        onThreads(1, () => matmul(a, b, { m, k, n, form })),
      );
      seconds = timed.secondsA;
      paired.speedupOverOneThread = 1 / timed.ratio;
    }
    console.log(
      JSON.stringify({
        suite: 'kernels',
        op: 'matmul',
        impl: 'wasmformer',
        variant: info.variant,
        simd: info.simd,
        threads,
        shape: { m, k, n },
        form,
        seconds,
        gflops: flops / seconds / 1e9,
        ...paired,
      }),
    );
    a.dispose();
    b.dispose();
  }
}

if (threadCounts.includes(1)) {
  const tile = await tileLoop(peakVariant);
  const timed = timePaired(
    () => tile.run(),
    () => peak.run(),
  );
  console.log(
    JSON.stringify({
      suite: 'kernels',
      op: 'tile',
      impl: 'tile',
      variant: peakVariant,
      build: info.variant,
      threads: 1,
      shape: null,
      form: 'tile',
      seconds: timed.secondsA,
      gflops: tile.flopsPerCall / timed.secondsA / 1e9,
      peakVariant,
      peakGflops: peak.flopsPerCall / timed.secondsB / 1e9,
      fractionOfPeak: tile.flopsPerCall / peak.flopsPerCall / timed.ratio,
    }),
  );
}
