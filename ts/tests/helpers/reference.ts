/** Plain TypeScript reference ops, the spec the wasm kernels are compared with. */

/** Seeded pseudo-random floats in [-1, 1) (mulberry32). */
export function randomArray(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** out[M, N] = op(a) · op(b) (+ bias), accumulated in f64. */
export function matmulRef(
  a: Float32Array, b: Float32Array, m: number, k: number, n: number,
  form: 'ab' | 'abt' | 'atb', bias?: Float32Array,
): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = bias ? bias[j]! : 0;
      for (let p = 0; p < k; p++) {
        const av = form === 'atb' ? a[p * m + i]! : a[i * k + p]!;
        const bv = form === 'abt' ? b[j * k + p]! : b[p * n + j]!;
        sum += av * bv;
      }
      out[i * n + j] = sum;
    }
  }
  return out;
}

/** The largest |got − want| / (1 + |want|). */
export function maxRelativeError(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  }
  return worst;
}
