/** Positional encodings that are formulas, not weights. */

/**
 * ALiBi's head slopes (Press et al.): for H a power of two, 2^(−8h/H) for h = 1 … H; otherwise
 * the slopes of the closest smaller power of two followed by every other slope of twice that
 * (the paper's reference recipe, as the core's `alibi_slopes`).
 */
export function alibiSlopes(nHead: number): number[] {
  const powerOfTwo = (n: number) => Array.from({ length: n }, (_, h) => 2 ** ((-8 * (h + 1)) / n));
  const closest = 2 ** Math.floor(Math.log2(Math.max(nHead, 1)));
  const slopes = powerOfTwo(closest);
  if (closest < nHead) {
    const extra = powerOfTwo(2 * closest).filter((_, i) => i % 2 === 0);
    slopes.push(...extra.slice(0, nHead - closest));
  }
  return slopes;
}

/** `[T, T]` cosine similarity of position vectors `vectors: [T, C]`. */
export function cosineSimilarity(vectors: Float32Array, t: number, c: number): Float32Array {
  const norms = Array.from({ length: t }, (_, i) => {
    let s = 0;
    for (let k = 0; k < c; k++) s += vectors[i * c + k]! ** 2;
    return Math.sqrt(s) || 1;
  });
  const out = new Float32Array(t * t);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < t; j++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += vectors[i * c + k]! * vectors[j * c + k]!;
      out[i * t + j] = s / (norms[i]! * norms[j]!);
    }
  }
  return out;
}
