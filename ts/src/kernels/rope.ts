/** Rotary position embedding (Hugging Face Llama "rotate_half" layout). */
import { InvalidArgumentError, callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import type { RopeScaling } from '../models/config.js';
import { checkArray, checkChoice, checkDim, checkNumber } from './validate.js';

/** Dimensions and settings of {@link rope}. */
export interface RopeOptions {
  /** B: batch size. */
  b: number;
  /** T: sequence length (positions `positionOffset … positionOffset + T - 1`). */
  t: number;
  /** H: heads. */
  h: number;
  /** D: head size. */
  d: number;
  /** Rotated leading dims of each head (even, ≤ D); the rest pass through. Default D. */
  rotaryDim?: number;
  /** θᵢ = base^(−2i/rotaryDim). Default 10000. */
  base?: number;
  /** Position of the first row (for a KV cache). Default 0. */
  positionOffset?: number;
  /** How positions are stretched past the trained context (the model config's `ropeScaling`); default `null`: none. */
  scaling?: RopeScaling | null;
}

/**
 * Rotates each pair (xᵢ, x_{i + r/2}) of every head by the angle `pos · θᵢ`.
 *
 * @param x - float32 `[B, T, H, D]`
 * @returns float32 `[B, T, H, D]`
 *
 * @example
 * ```ts
 * const qRotated = kernels.rope(q, { b: 1, t: 16, h: 4, d: 32, positionOffset: 100 });
 * ```
 */
export function rope(x: Float32Array, options: RopeOptions): Float32Array {
  const { b, t, h, d, rotaryDim = d, base = 10000, positionOffset = 0, scaling = null } = options;
  for (const [name, value] of [
    ['b', b],
    ['t', t],
    ['h', h],
    ['d', d],
    ['rotaryDim', rotaryDim],
  ] as const) {
    checkDim('rope', name, value);
  }
  checkNumber('rope', 'base', base, true);
  if (!Number.isInteger(positionOffset) || positionOffset < 0) {
    throw new InvalidArgumentError(`rope: positionOffset must be an integer ≥ 0, got ${positionOffset}`);
  }
  if (scaling !== null) {
    if (typeof scaling !== 'object')
      throw new InvalidArgumentError(`rope: scaling must be null or { type: 'linear' | 'ntk', factor }, got ${JSON.stringify(scaling)}`);
    checkChoice('rope', 'scaling.type', scaling.type, ['linear', 'ntk']);
    checkNumber('rope', 'scaling.factor', scaling.factor, true);
  }
  const type = scaling?.type ?? 'none';
  const factor = scaling?.factor ?? 1;
  checkArray('rope', 'x', x, b * t * h * d, `[B, T, H, D] = [${b}, ${t}, ${h}, ${d}]`);
  const out = new Float32Array(x.length);
  callWasm(() => wasm().rope(out, x, { b, t, h, d, rotaryDim, base, positionOffset, scaling: type, factor }));
  return out;
}
