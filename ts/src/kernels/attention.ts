/** Multi-head scaled dot-product attention (inference path: no T×T buffer is kept). */
import { callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkHeadArrays } from './validate.js';

/** Dimensions and masks of {@link attention}. */
export interface AttentionOptions {
  /** B: batch size. */
  b: number;
  /** H: heads. */
  h: number;
  /** T: sequence length. */
  t: number;
  /** D: head size. */
  d: number;
  /** Query i sees only keys j ≤ i (GPT). Default false (bidirectional, BERT). */
  causal?: boolean;
  /** `[B, T]` uint8: nonzero = a real token, 0 = padding that no query attends to. */
  keyPadding?: Uint8Array;
  /** `[H, T, T]` float32 added to the scores before the softmax (ALiBi, relative positions). */
  bias?: Float32Array;
}

/**
 * `softmax(q·kᵀ/√D + bias + mask) · v` per head. A query with no allowed key gets zeros.
 * A non-finite value in `v` propagates to the outputs that use it; in `q` or `k` (or a NaN or
 * +∞ in `bias`) it is refused, because the kernel's online softmax would hide it.
 *
 * @param q - float32 `[B, H, T, D]`
 * @param k - float32 `[B, H, T, D]`
 * @param v - float32 `[B, H, T, D]`
 * @returns float32 `[B, H, T, D]`
 * @throws InvalidArgumentError for a bad dimension or a non-finite `q`, `k` or `bias`;
 *   ShapeError for a wrong length
 *
 * @example
 * ```ts
 * const out = kernels.attention(q, k, v, { b: 1, h: 8, t: 128, d: 64, causal: true });
 * ```
 */
export function attention(q: Float32Array, k: Float32Array, v: Float32Array, options: AttentionOptions): Float32Array {
  const { b, h, t, d, causal = false, keyPadding, bias } = options;
  const n = checkHeadArrays('attention', options, { q, k, v });
  if (keyPadding !== undefined) checkArray('attention', 'keyPadding', keyPadding, b * t, `[B, T] = [${b}, ${t}]`, Uint8Array);
  if (bias !== undefined) checkArray('attention', 'bias', bias, h * t * t, `[H, T, T] = [${h}, ${t}, ${t}]`);
  const out = new Float32Array(n);
  callWasm(() => wasm().attention(out, q, k, v, keyPadding, bias, { b, h, t, d, causal }));
  return out;
}
