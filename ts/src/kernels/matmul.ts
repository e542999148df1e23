/** Matrix product over `Float32Array`s. */
import { callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkChoice, checkDim } from './validate.js';

/**
 * How the operands of {@link matmul} are stored: `'ab'` a [M, K] · b [K, N];
 * `'abt'` a [M, K] · bᵀ with b stored [N, K]; `'atb'` aᵀ · b with a stored [K, M], b [K, N].
 */
export type MatmulForm = 'ab' | 'abt' | 'atb';

/** Dimensions and extras of {@link matmul}. */
export interface MatmulOptions {
  m: number;
  k: number;
  n: number;
  /** Storage of a and b; default `'ab'`. */
  form?: MatmulForm;
  /** `[N]` float32, added to every row of the result. */
  bias?: Float32Array;
}

const FORMS: readonly MatmulForm[] = ['ab', 'abt', 'atb'];

/**
 * Matrix product `out = op(a) · op(b) (+ bias)`.
 *
 * @param a - float32, `[M, K]` (`'atb'`: `[K, M]`)
 * @param b - float32, `[K, N]` (`'abt'`: `[N, K]`)
 * @returns `[M, N]` float32
 *
 * @example
 * ```ts
 * const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
 * // c = [19, 22, 43, 50]
 * ```
 */
export function matmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Float32Array {
  const { m, k, n, form = 'ab', bias } = options;
  checkDim('matmul', 'm', m);
  checkDim('matmul', 'k', k);
  checkDim('matmul', 'n', n);
  checkChoice('matmul', 'form', form, FORMS);
  checkArray('matmul', 'a', a, m * k, form === 'atb' ? `[K, M] = [${k}, ${m}]` : `[M, K] = [${m}, ${k}]`);
  checkArray('matmul', 'b', b, k * n, form === 'abt' ? `[N, K] = [${n}, ${k}]` : `[K, N] = [${k}, ${n}]`);
  if (bias !== undefined) checkArray('matmul', 'bias', bias, n, `[N] = [${n}]`);
  const out = new Float32Array(m * n);
  callWasm(() => wasm().matmul(out, a, b, bias, m, k, n, form));
  return out;
}
