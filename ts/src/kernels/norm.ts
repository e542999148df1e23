/** LayerNorm and RMSNorm over the last dimension. */
import { callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkDim, checkNumber } from './validate.js';

/** Dimensions of a norm: `rows` independent rows of `channels` values. */
export interface NormOptions {
  /** Rows normalised independently (e.g. B·T). */
  rows: number;
  /** C: values per row (the normalised dimension). */
  channels: number;
  /** Added to the variance. Default 1e-5 (PyTorch's default). */
  eps?: number;
}

function checkNorm(op: string, x: Float32Array, weight: Float32Array, options: NormOptions): number {
  const { rows, channels, eps = 1e-5 } = options;
  checkDim(op, 'rows', rows);
  checkDim(op, 'channels', channels);
  checkNumber(op, 'eps', eps, true);
  checkArray(op, 'x', x, rows * channels, `[N, C] = [${rows}, ${channels}]`);
  checkArray(op, 'weight', weight, channels, `[C] = [${channels}]`);
  return eps;
}

/**
 * `(x − mean) / sqrt(var + eps) · weight + bias`, per row.
 *
 * @param x - float32 `[N, C]`
 * @param weight - float32 `[C]`
 * @param bias - float32 `[C]`, or undefined for none
 * @returns float32 `[N, C]`
 *
 * @example
 * ```ts
 * const y = kernels.layerNorm(x, gamma, beta, { rows: 4, channels: 128 });
 * ```
 */
export function layerNorm(x: Float32Array, weight: Float32Array, bias: Float32Array | undefined, options: NormOptions): Float32Array {
  const eps = checkNorm('layerNorm', x, weight, options);
  if (bias !== undefined) checkArray('layerNorm', 'bias', bias, options.channels, `[C] = [${options.channels}]`);
  const out = new Float32Array(x.length);
  callWasm(() => wasm().layerNorm(out, x, weight, bias, { rows: options.rows, channels: options.channels, eps }));
  return out;
}

/**
 * `x / sqrt(mean(x²) + eps) · weight`, per row.
 *
 * @param x - float32 `[N, C]`
 * @param weight - float32 `[C]`
 * @returns float32 `[N, C]`
 *
 * @example
 * ```ts
 * const y = kernels.rmsNorm(x, gamma, { rows: 4, channels: 128, eps: 1e-6 });
 * ```
 */
export function rmsNorm(x: Float32Array, weight: Float32Array, options: NormOptions): Float32Array {
  const eps = checkNorm('rmsNorm', x, weight, options);
  const out = new Float32Array(x.length);
  callWasm(() => wasm().rmsNorm(out, x, weight, { rows: options.rows, channels: options.channels, eps }));
  return out;
}
