// Shared by bench/matmul.bench.mjs and the peers in bench/peers/: the shapes, the inputs and
// the timing method (median of 5 batches of ≥ 0.15 s, after a warm-up call).
import { readFileSync } from 'node:fs';

export function loadShapes(suite = 'quick') {
  return JSON.parse(readFileSync(new URL('./shapes.json', import.meta.url), 'utf8'))[suite].matmul;
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

/** Median seconds per call: repeat calls in batches of ≥ 0.15 s, 5 batches. */
export function time(call) {
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
    suite: 'kernels', op: 'matmul', impl, variant, simd, threads,
    shape: { m, k, n }, form, seconds, gflops: (2 * m * k * n) / seconds / 1e9, ...extra,
  });
}
