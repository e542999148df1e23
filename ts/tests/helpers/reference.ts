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
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  form: 'ab' | 'abt' | 'atb',
  bias?: Float32Array,
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

/** Row softmax in f64. */
export function softmaxRef(logits: Float32Array, rows: number, vocab: number): Float64Array {
  const out = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[r * vocab + j]!);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += out[r * vocab + j] = Math.exp(logits[r * vocab + j]! - max);
    for (let j = 0; j < vocab; j++) out[r * vocab + j]! /= sum;
  }
  return out;
}

/** LayerNorm (`bias` given) or RMSNorm (`bias` null) per row, f64. */
export function normRef(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  rows: number,
  c: number,
  eps: number,
  rms: boolean,
): Float32Array {
  const out = new Float32Array(rows * c);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * c, (r + 1) * c));
    const mean = rms ? 0 : row.reduce((s, v) => s + v, 0) / c;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / c;
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let j = 0; j < c; j++) out[r * c + j] = (row[j]! - mean) * rstd * w[j]! + (bias ? bias[j]! : 0);
  }
  return out;
}

/** Attention on [B, H, T, D], materialising the scores, f64. */
export function attentionRef(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  b: number,
  h: number,
  t: number,
  d: number,
  causal: boolean,
  keyPadding?: Uint8Array,
  bias?: Float32Array,
): Float32Array {
  const out = new Float32Array(b * h * t * d);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const base = (bi * h + hi) * t * d;
      for (let i = 0; i < t; i++) {
        const scores: number[] = [];
        for (let j = 0; j < t; j++) {
          const masked = (causal && j > i) || (keyPadding !== undefined && keyPadding[bi * t + j] === 0);
          let s = 0;
          for (let x = 0; x < d; x++) s += q[base + i * d + x]! * k[base + j * d + x]!;
          s = s / Math.sqrt(d) + (bias ? bias[(hi * t + i) * t + j]! : 0);
          scores.push(masked ? -Infinity : s);
        }
        const max = Math.max(...scores);
        if (max === -Infinity) continue;
        const weights = scores.map((s) => Math.exp(s - max));
        const sum = weights.reduce((a, w) => a + w, 0);
        for (let x = 0; x < d; x++) {
          let acc = 0;
          for (let j = 0; j < t; j++) acc += (weights[j]! / sum) * v[base + j * d + x]!;
          out[base + i * d + x] = acc;
        }
      }
    }
  }
  return out;
}

/** RoPE, rotate_half layout, on [B, T, H, D], f64. */
export function ropeRef(
  x: Float32Array,
  b: number,
  t: number,
  h: number,
  d: number,
  rotaryDim: number,
  base: number,
  offset: number,
): Float32Array {
  const out = Float32Array.from(x);
  const half = rotaryDim / 2;
  for (let bi = 0; bi < b; bi++) {
    for (let ti = 0; ti < t; ti++) {
      for (let hi = 0; hi < h; hi++) {
        const at = ((bi * t + ti) * h + hi) * d;
        for (let i = 0; i < half; i++) {
          const angle = (ti + offset) * base ** (-(2 * i) / rotaryDim);
          const [x1, x2] = [x[at + i]!, x[at + i + half]!];
          out[at + i] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
          out[at + i + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
      }
    }
  }
  return out;
}

/** Cosine similarity of two vectors, in float64. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}
