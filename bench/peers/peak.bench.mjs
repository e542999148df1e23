// The wasm peak loop (bench/peak-loop.mjs) in its own process.
// Usage: node bench/peers/peak.bench.mjs simd|relaxed [threads,…]   (default threads: 1)
// Prints one JSON line per thread count in the format of bench/matmul.bench.mjs, with shape
// null and form "peak". On n > 1 threads, n worker threads run the loop at once (no memory
// traffic, so nothing shared but the cores): `gflops` is their sum, the compute ceiling of n
// cores, and `speedupOverOneThread` compares it with one worker alone, the two timed in
// alternating rounds (the ceiling of a kernel's own `speedup_over_1t`).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { time } from '../common.mjs';
import { peakLoop } from '../peak-loop.mjs';

const ROUNDS = 5;
const CALLS_PER_ROUND = 60; // ≈ 0.15–0.3 s of the loop on one core

if (isMainThread) {
  const variant = process.argv[2] ?? 'simd';
  const threadCounts = (process.argv[3] ?? '1').split(',').map(Number);
  const peak = await peakLoop(variant);
  const row = (threads, gflops, seconds, extra = {}) =>
    JSON.stringify({
      suite: 'kernels',
      op: 'peak',
      impl: 'peak',
      variant,
      simd: true,
      threads,
      shape: null,
      form: 'peak',
      seconds,
      gflops,
      ...extra,
    });
  for (const threads of threadCounts) {
    if (threads === 1) {
      const seconds = time(() => peak.run());
      console.log(row(1, peak.flopsPerCall / seconds / 1e9, seconds));
    } else {
      const { gflops, speedup } = await onWorkers(variant, threads, peak.flopsPerCall);
      console.log(row(threads, gflops, peak.flopsPerCall / gflops / 1e9, { speedupOverOneThread: speedup }));
    }
  }
} else {
  const peak = await peakLoop(workerData.variant);
  for (let i = 0; i < 10; i++) peak.run(); // warm-up
  parentPort.on('message', (calls) => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) peak.run();
    parentPort.postMessage((performance.now() - start) / 1000);
  });
  parentPort.postMessage('ready');
}

/**
 * The loop on `threads` workers at once against one of them alone, in alternating rounds:
 * the summed GFLOP/s of the rounds' median, and the median of the rounds' speed ratios.
 */
async function onWorkers(variant, threads, flopsPerCall) {
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { variant } }));
  const failed = new Promise((_, reject) => workers.forEach((worker) => worker.once('error', reject)));
  const reply = (worker) => Promise.race([new Promise((resolve) => worker.once('message', resolve)), failed]);
  await Promise.all(workers.map(reply));
  const run = async (active) => {
    const seconds = await Promise.all(
      active.map((worker) => {
        const done = reply(worker);
        worker.postMessage(CALLS_PER_ROUND);
        return done;
      }),
    );
    return (active.length * CALLS_PER_ROUND * flopsPerCall) / Math.max(...seconds) / 1e9;
  };
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const one = await run(workers.slice(0, 1));
    const all = await run(workers);
    rounds.push({ all, speedup: all / one });
  }
  await Promise.all(workers.map((worker) => worker.terminate()));
  const median = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];
  return { gflops: median(rounds.map((r) => r.all)), speedup: median(rounds.map((r) => r.speedup)) };
}
