// Shared by bench/matmul.bench.mjs, bench/attention.bench.mjs and the peers in bench/peers/:
// the shapes, the inputs and the timing method (median of 5 batches of ≥ 0.15 s, after a
// warm-up call; calls over 0.5 s: median of 3 single calls, see timeWithin).
import { readFileSync } from 'node:fs';

function loadSuite(suite) {
  const suites = JSON.parse(readFileSync(new URL('./shapes.json', import.meta.url), 'utf8'));
  if (!suites[suite]) throw new Error(`unknown bench suite "${suite}"; expected one of ${Object.keys(suites).join(', ')}`);
  return suites[suite];
}

/** The matmul shapes of a suite: [{ m, k, n, form }]. */
export function loadShapes(suite = 'quick') {
  return loadSuite(suite).matmul;
}

/** The attention shapes of a suite: [{ b, h, t, d, causal }] (q, k, v: [B, H, T, D]). */
export function loadAttentionShapes(suite = 'quick') {
  return loadSuite(suite).attention ?? [];
}

/** The same pseudo-random inputs as bench/matmul.bench.mjs. */
export function random(length, seed) {
  const out = new Float32Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 32 - 0.5;
  }
  return out;
}

/** Calls per batch: after a warm-up call, doubled until a batch takes ≥ 0.15 s. */
function batchSize(call) {
  call();
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) call();
    if (performance.now() - start >= 150) return calls;
    calls *= 2;
  }
}

/** Seconds per call over one batch of `calls` calls. */
function batchSeconds(call, calls) {
  const start = performance.now();
  for (let i = 0; i < calls; i++) call();
  return (performance.now() - start) / 1000 / calls;
}

const median = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];

/** Median seconds per call: repeat calls in batches of ≥ 0.15 s, 5 batches. */
export function time(call) {
  const calls = batchSize(call);
  return median(Array.from({ length: 5 }, () => batchSeconds(call, calls)));
}

/**
 * Two calls timed in alternation, a batch (≥ 0.15 s) of one then a batch of the other, 5
 * rounds: both see the same moments of a machine whose speed swings. Returns the median
 * seconds per call of each and the median of the rounds' ratios `a / b`.
 */
export function timePaired(callA, callB) {
  const [callsA, callsB] = [batchSize(callA), batchSize(callB)];
  const rounds = Array.from({ length: 5 }, () => {
    const a = batchSeconds(callA, callsA);
    const b = batchSeconds(callB, callsB);
    return { a, b, ratio: a / b };
  });
  return { secondsA: median(rounds.map((r) => r.a)), secondsB: median(rounds.map((r) => r.b)), ratio: median(rounds.map((r) => r.ratio)) };
}

/** The same, for calls that return a promise (onnxruntime-web's session.run). */
export async function timeAsync(call) {
  await call();
  let calls = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await call();
    if (performance.now() - start >= 150) break;
    calls *= 2;
  }
  const samples = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < calls; i++) await call();
    samples.push((performance.now() - start) / 1000 / calls);
  }
  return samples.sort((x, y) => x - y)[2];
}

/** Budget for one timed case (warm-up included); a slower case is skipped, not timed. */
export const CASE_BUDGET_SECONDS = 60;

/**
 * `time` for calls that may take seconds: after the warm-up call, a call of ≥ 0.5 s is timed
 * as the median of 3 single calls. Returns `{ seconds }`, or `{ skipped }` with the warm-up
 * call's seconds when those 4 calls would exceed `budget` seconds.
 */
export function timeWithin(call, budget = CASE_BUDGET_SECONDS) {
  const start = performance.now();
  call();
  const first = (performance.now() - start) / 1000;
  if (first * 4 > budget) return { skipped: first };
  if (first < 0.5) return { seconds: time(call) };
  const samples = [];
  for (let r = 0; r < 3; r++) {
    const s = performance.now();
    call();
    samples.push((performance.now() - s) / 1000);
  }
  return { seconds: samples.sort((x, y) => x - y)[1] };
}

/** The same, for calls that return a promise. */
export async function timeWithinAsync(call, budget = CASE_BUDGET_SECONDS) {
  const start = performance.now();
  await call();
  const first = (performance.now() - start) / 1000;
  if (first * 4 > budget) return { skipped: first };
  if (first < 0.5) return { seconds: await timeAsync(call) };
  const samples = [];
  for (let r = 0; r < 3; r++) {
    const s = performance.now();
    await call();
    samples.push((performance.now() - s) / 1000);
  }
  return { seconds: samples.sort((x, y) => x - y)[1] };
}

/** Stored operand shapes of a form: ab a[m,k]·b[k,n]; abt b stored [n,k]; atb a stored [k,m]. */
export function operandShapes({ m, k, n, form }) {
  return {
    a: form === 'atb' ? [k, m] : [m, k],
    b: form === 'abt' ? [n, k] : [k, n],
  };
}

/** One JSON line in the format of bench/matmul.bench.mjs. */
export function row({ impl, variant, simd = true, threads, m, k, n, form, seconds, extra = {} }) {
  return JSON.stringify({
    suite: 'kernels',
    op: 'matmul',
    impl,
    variant,
    simd,
    threads,
    shape: { m, k, n },
    form,
    seconds,
    gflops: (2 * m * k * n) / seconds / 1e9,
    ...extra,
  });
}

/**
 * Flops of one attention call, FlashAttention's convention: forward 4·B·H·T²·D (q·kᵀ and p·v,
 * 2·T²·D each per head), counted over the FULL T×T matrix even when causal (a causal kernel
 * does about half); backward 2.5× the forward, so `forward+backward` is 3.5× the forward.
 */
export function attentionFlops({ b, h, t, d }, pass) {
  const forward = 4 * b * h * t * t * d;
  return pass === 'forward' ? forward : 3.5 * forward;
}

/** One JSON line for attention; `pass`: 'forward' | 'forward+backward'. */
export function attentionRow({ impl, variant, simd = true, threads, shape, pass, seconds, extra = {} }) {
  const { b, h, t, d, causal = false } = shape;
  return JSON.stringify({
    suite: 'kernels',
    op: 'attention',
    pass,
    impl,
    variant,
    simd,
    threads,
    shape: { b, h, t, d },
    causal,
    seconds,
    flops: attentionFlops(shape, pass),
    gflops: attentionFlops(shape, pass) / seconds / 1e9,
    ...extra,
  });
}

/** A case skipped for time, in one stderr line that scripts/bench.mjs passes on. */
export function skipNote(who, what, firstCallSeconds, budget = CASE_BUDGET_SECONDS) {
  console.error(
    `[${who}] ${what}: skipped, one call took ${firstCallSeconds.toFixed(1)} s ` +
      `(the warm-up and 3 timed calls would exceed ${budget} s)`,
  );
}
