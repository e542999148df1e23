/** Multi-head scaled dot-product attention (inference path: no T×T buffer is kept). */
import { callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkDim } from './validate.js';

/** Dimensions and masks of {@link attention}. */
export interface AttentionOptions {
  b: number;
  h: number;
  t: number;
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
 *
 * @param q - float32 `[B, H, T, D]`
 * @param k - float32 `[B, H, T, D]`
 * @param v - float32 `[B, H, T, D]`
 * @returns float32 `[B, H, T, D]`
 *
 * @example
 * ```ts
 * const out = kernels.attention(q, k, v, { b: 1, h: 8, t: 128, d: 64, causal: true });
 * ```
 */
export function attention(q: Float32Array, k: Float32Array, v: Float32Array, options: AttentionOptions): Float32Array {
  const { b, h, t, d, causal = false, keyPadding, bias } = options;
  for (const [name, value] of [['b', b], ['h', h], ['t', t], ['d', d]] as const) checkDim('attention', name, value);
  const shape = `[B, H, T, D] = [${b}, ${h}, ${t}, ${d}]`;
  checkArray('attention', 'q', q, b * h * t * d, shape);
  checkArray('attention', 'k', k, b * h * t * d, shape);
  checkArray('attention', 'v', v, b * h * t * d, shape);
  if (keyPadding !== undefined) checkArray('attention', 'keyPadding', keyPadding, b * t, `[B, T] = [${b}, ${t}]`, Uint8Array);
  if (bias !== undefined) checkArray('attention', 'bias', bias, h * t * t, `[H, T, T] = [${h}, ${t}, ${t}]`);
  const out = new Float32Array(b * h * t * d);
  callWasm(() => wasm().attention(out, q, k, v, keyPadding, bias, b, h, t, d, causal));
  return out;
}
