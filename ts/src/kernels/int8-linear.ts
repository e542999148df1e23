/** A linear layer's weight held in WebAssembly memory, as float32 or quantised to int8 (W8A16). */
import { DisposedError, InvalidArgumentError, OutOfMemoryError, callWasm } from '../errors.js';
import type { LinearWeights } from '../wasm/gen/simd/wasmformer.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkChoice, checkDim } from './validate.js';

/** How a {@link LinearWeight} stores its values. */
export type LinearDtype = 'float32' | 'int8';

/** Shape and storage of {@link LinearWeight.from}. */
export interface LinearWeightOptions {
  /** N: output features (rows of the weight). */
  n: number;
  /** K: input features (columns of the weight). */
  k: number;
  /** Storage; default `'int8'`. */
  dtype?: LinearDtype;
  /**
   * int8 only: one scale per block of this many values along K (a multiple of 8 from 8 to
   * 2048; 32 is llama.cpp's GGUF `Q8_0` layout). Default: one scale per output feature.
   */
  blockSize?: number;
}

/** Rows and bias of {@link LinearWeight.apply}. */
export interface LinearApplyOptions {
  /** M: rows of the input and of the result. */
  m: number;
  /** `[N]` float32, added to every row of the result. */
  bias?: Float32Array;
}

/** Largest int8 scale block: the i32 sums of the kernels are bounded to this many values of K. */
const MAX_BLOCK = 2048;
/** Most int8 values one weight can hold: WebAssembly addresses 4 GiB. */
const MAX_VALUES = 2 ** 32 - 1;
const DTYPES: readonly LinearDtype[] = ['float32', 'int8'];

/** The module-owned weight behind each live object (kept out of the class's public shape). */
const WEIGHTS = new WeakMap<LinearWeight, LinearWeights>();

/**
 * A linear layer's weight `[N, K]` (PyTorch's `[out, in]` layout) copied into WebAssembly
 * memory once, applied as `out = x · weightᵀ (+ bias)` as the models' decoding path applies
 * its layers: a streaming kernel for up to 8 rows, a tiled product above.
 *
 * With `dtype: 'int8'` (the default) the weight is quantised once, symmetrically to
 * [−127, 127] with one float32 scale per output feature (or per `blockSize` values along K),
 * and every call quantises each input row to int16 (scale `max|x| / 32767`), then multiplies
 * in integers (`i32x4.dot_i16x8_s`): a quarter of float32's weight bytes. The result differs
 * from the float32 product by at most `Σ_k (sx/2·|w_k| + |x̂_k|·sw/2)` per element, half a
 * quantisation step of each operand (docs/design/int8.md).
 *
 * Free it with {@link LinearWeight.dispose} (or `using`): WebAssembly memory never shrinks.
 *
 * @example
 * ```ts
 * import { init, kernels } from 'wasmformer';
 * await init();
 * const w = kernels.LinearWeight.from(new Float32Array(3 * 4).fill(0.5), { n: 3, k: 4 }); // [N, K], int8
 * const y = w.apply(new Float32Array([1, 2, 3, 4]), { m: 1 });                           // [1, 3] ≈ 5
 * w.dispose();
 * ```
 */
export class LinearWeight {
  /** N: output features. */
  readonly n: number;
  /** K: input features. */
  readonly k: number;
  /** How the values are stored. */
  readonly dtype: LinearDtype;
  /** int8 scale block along K, or `undefined` for one scale per output feature (and for float32). */
  readonly blockSize: number | undefined;

  private constructor(
    weights: LinearWeights,
    options: Required<Omit<LinearWeightOptions, 'blockSize'>> & { blockSize: number | undefined },
  ) {
    this.n = options.n;
    this.k = options.k;
    this.dtype = options.dtype;
    this.blockSize = options.blockSize;
    WEIGHTS.set(this, weights);
  }

  /**
   * Copies (float32) or quantises (int8) `weight` into WebAssembly memory.
   *
   * @param weight - `[N, K]` float32; finite for int8
   * @throws ShapeError unless `weight.length === n · k`
   * @throws InvalidArgumentError for a bad dimension, dtype or block size, or a non-finite weight (int8)
   * @throws OutOfMemoryError when the module cannot hold the weight
   */
  static from(weight: Float32Array, options: LinearWeightOptions): LinearWeight {
    const { n, k, dtype = 'int8', blockSize } = options;
    checkDim('LinearWeight', 'n', n);
    checkDim('LinearWeight', 'k', k);
    checkChoice('LinearWeight', 'dtype', dtype, DTYPES);
    checkArray('LinearWeight', 'weight', weight, n * k, `[N, K] = [${n}, ${k}]`);
    if (blockSize !== undefined) {
      if (dtype !== 'int8') throw new InvalidArgumentError('LinearWeight: blockSize applies to dtype "int8" only');
      if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize > MAX_BLOCK || blockSize % 8 !== 0) {
        throw new InvalidArgumentError(`LinearWeight: blockSize must be a multiple of 8 from 8 to ${MAX_BLOCK}, got ${blockSize}`);
      }
    }
    if (n * Math.ceil(k / 8) * 8 * (dtype === 'int8' ? 1 : 4) > MAX_VALUES) {
      throw new OutOfMemoryError(`LinearWeight: a [${n}, ${k}] ${dtype} weight does not fit WebAssembly's 4 GiB`);
    }
    if (dtype === 'int8') {
      const bad = weight.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new InvalidArgumentError(`LinearWeight: weight[${bad}] is ${weight[bad]}; only finite weights can be quantised to int8`);
      }
    }
    const weights = callWasm(() => new (wasm().LinearWeights)(weight, { n, k, dtype, block: blockSize ?? 0 }));
    return new LinearWeight(weights, { n, k, dtype, blockSize });
  }

  /** Bytes the stored weight takes in WebAssembly memory (int8: values and scales). */
  get byteLength(): number {
    return this.#weights('byteLength').byteLength();
  }

  /** Whether {@link LinearWeight.dispose} has been called. */
  get disposed(): boolean {
    return !WEIGHTS.has(this);
  }

  /**
   * `out = x · weightᵀ (+ bias)`. With int8, each row of `x` is quantised to int16 for the
   * call; a row with a NaN or ±∞ gives NaN outputs.
   *
   * @param x - `[M, K]` float32
   * @returns `[M, N]` float32, a new array
   * @throws ShapeError when `x` or `bias` does not match `m`, `k`, `n`
   * @throws DisposedError after {@link LinearWeight.dispose}
   */
  apply(x: Float32Array, options: LinearApplyOptions): Float32Array {
    const { m, bias } = options;
    const weights = this.#weights('apply');
    checkDim('LinearWeight.apply', 'm', m);
    checkArray('LinearWeight.apply', 'x', x, m * this.k, `[M, K] = [${m}, ${this.k}]`);
    if (bias !== undefined) checkArray('LinearWeight.apply', 'bias', bias, this.n, `[N] = [${this.n}]`);
    const out = new Float32Array(m * this.n);
    callWasm(() => weights.apply(out, x, bias, { m }));
    return out;
  }

  /** Frees the WebAssembly memory. Idempotent; other methods throw {@link DisposedError} after it. */
  dispose(): void {
    WEIGHTS.get(this)?.free();
    WEIGHTS.delete(this);
  }

  /** {@link LinearWeight.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #weights(op: string): LinearWeights {
    const weights = WEIGHTS.get(this);
    if (!weights) throw new DisposedError(`LinearWeight.${op}: this weight was disposed`);
    return weights;
  }
}
