/**
 * Low-level kernels over `Float32Array`s. Shapes are checked here, before Rust is called, and
 * throw {@link ShapeError} / {@link InvalidArgumentError}; results are new JS-owned arrays.
 */
import { InvalidArgumentError, ShapeError, callWasm } from './errors.js';
import { wasm } from './wasm/load.js';

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

function checkDim(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${op}: ${name} must be a positive integer, got ${value}`);
  }
}

function checkArray(op: string, name: string, array: unknown, length: number, shape: string): void {
  if (!(array instanceof Float32Array)) {
    throw new InvalidArgumentError(`${op}: ${name} must be a Float32Array ${shape}, got ${describe(array)}`);
  }
  if (array.length !== length) {
    throw new ShapeError(
      `${op}: ${name} must have ${length} elements (${shape}), got ${array.length}`,
      `${length} elements (${shape})`,
      `${array.length} elements`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

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
  if (!FORMS.includes(form)) {
    throw new InvalidArgumentError(`matmul: form must be "ab", "abt" or "atb", got ${JSON.stringify(form)}`);
  }
  checkArray('matmul', 'a', a, m * k, form === 'atb' ? `[K, M] = [${k}, ${m}]` : `[M, K] = [${m}, ${k}]`);
  checkArray('matmul', 'b', b, k * n, form === 'abt' ? `[N, K] = [${n}, ${k}]` : `[K, N] = [${k}, ${n}]`);
  if (bias !== undefined) checkArray('matmul', 'bias', bias, n, `[N] = [${n}]`);
  const out = new Float32Array(m * n);
  callWasm(() => wasm().matmul(out, a, b, bias, m, k, n, form));
  return out;
}
