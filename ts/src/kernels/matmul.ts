/** Matrix product over `Float32Array`s and {@link WasmArray}s. */
import { InvalidArgumentError, callWasm } from '../errors.js';
import type { F32Buffer } from '../wasm/gen/simd/wasmformer.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkChoice, checkDim, checkLength, describe } from './validate.js';
import { WasmArray, bufferOf } from './wasm-array.js';

/**
 * How the operands of {@link matmul} are stored: `'ab'` a [M, K] · b [K, N];
 * `'abt'` a [M, K] · bᵀ with b stored [N, K]; `'atb'` aᵀ · b with a stored [K, M], b [K, N].
 */
export type MatmulForm = 'ab' | 'abt' | 'atb';

/** An operand of {@link matmul}: a JS array (copied in for the call) or one already in WebAssembly memory. */
export type MatmulOperand = Float32Array | WasmArray;

/** Dimensions and extras of {@link matmul}. */
export interface MatmulOptions {
  /** M: rows of the result (and of `a`). */
  m: number;
  /** K: the shared dimension (columns of `a`, rows of `b`). */
  k: number;
  /** N: columns of the result (and of `b`). */
  n: number;
  /** Storage of a and b; default `'ab'`. */
  form?: MatmulForm;
  /** `[N]` float32, added to every row of the result. */
  bias?: Float32Array;
  /**
   * `[M, N]`: write the result here (overwriting it) instead of returning a new
   * `Float32Array`. Must not be `a` or `b`.
   */
  out?: WasmArray;
}

const FORMS: readonly MatmulForm[] = ['ab', 'abt', 'atb'];

/**
 * Matrix product `out = op(a) · op(b) (+ bias)`.
 *
 * Operands given as {@link WasmArray}s are read in place; `Float32Array`s are copied in for
 * the call. With `options.out` the result stays in WebAssembly memory.
 *
 * @param a - float32, `[M, K]` (`'atb'`: `[K, M]`)
 * @param b - float32, `[K, N]` (`'abt'`: `[N, K]`)
 * @returns `[M, N]` float32: a new `Float32Array`, or `options.out` when given
 *
 * @example
 * ```ts
 * const c = matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
 * // c = [19, 22, 43, 50]
 * ```
 */
export function matmul(a: MatmulOperand, b: MatmulOperand, options: MatmulOptions & { out: WasmArray }): WasmArray;
export function matmul(a: MatmulOperand, b: MatmulOperand, options: MatmulOptions): Float32Array;
export function matmul(a: MatmulOperand, b: MatmulOperand, options: MatmulOptions): Float32Array | WasmArray {
  const { m, k, n, form = 'ab', bias, out } = options;
  checkDim('matmul', 'm', m);
  checkDim('matmul', 'k', k);
  checkDim('matmul', 'n', n);
  checkChoice('matmul', 'form', form, FORMS);
  checkOperand('a', a, m * k, form === 'atb' ? `[K, M] = [${k}, ${m}]` : `[M, K] = [${m}, ${k}]`);
  checkOperand('b', b, k * n, form === 'abt' ? `[N, K] = [${n}, ${k}]` : `[K, N] = [${k}, ${n}]`);
  if (bias !== undefined) checkArray('matmul', 'bias', bias, n, `[N] = [${n}]`);
  if (out !== undefined) {
    if (!(out instanceof WasmArray)) {
      throw new InvalidArgumentError(
        `matmul: out must be a WasmArray (without it, matmul returns a new Float32Array), got ${describe(out)}`,
      );
    }
    checkOperand('out', out, m * n, `[M, N] = [${m}, ${n}]`);
    if (out === a || out === b) throw new InvalidArgumentError('matmul: out must be a different WasmArray from a and b');
  }
  if (a instanceof Float32Array && b instanceof Float32Array && out === undefined) {
    const result = new Float32Array(m * n);
    callWasm(() => wasm().matmul(result, a, b, bias, { m, k, n, form }));
    return result;
  }
  // At least one operand lives in the module: the others are copied in, and the call reads
  // every operand in place.
  const temporaries: WasmArray[] = [];
  const temporary = (array: WasmArray): WasmArray => {
    temporaries.push(array);
    return array;
  };
  const inModule = (array: MatmulOperand): WasmArray => (array instanceof WasmArray ? array : temporary(WasmArray.from(array)));
  try {
    const outArray = out ?? temporary(WasmArray.zeros(m * n));
    const buffers: [F32Buffer, F32Buffer, F32Buffer] = [
      bufferOf(outArray, 'matmul', 'out'),
      bufferOf(inModule(a), 'matmul', 'a'),
      bufferOf(inModule(b), 'matmul', 'b'),
    ];
    callWasm(() => wasm().matmulBuffers(...buffers, bias, { m, k, n, form }));
    return out ?? outArray.toArray();
  } finally {
    for (const array of temporaries) array.dispose();
  }
}

/** A Float32Array or live WasmArray of exactly `length` elements. */
function checkOperand(name: string, value: unknown, length: number, shape: string): void {
  if (value instanceof WasmArray) {
    bufferOf(value, 'matmul', name);
    checkLength('matmul', name, value.length, length, shape);
  } else if (value instanceof Float32Array) {
    checkLength('matmul', name, value.length, length, shape);
  } else {
    throw new InvalidArgumentError(`matmul: ${name} must be a Float32Array or WasmArray ${shape}, got ${describe(value)}`);
  }
}
