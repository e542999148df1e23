/**
 * Rotary position embedding on WebGPU (rope.wgsl), forward and backward: the core's
 * `rope_forward` / `rope_backward` (crates/core/src/kernels/rope.rs) in the Hugging Face
 * "rotate_half" layout, with partial rotation and linear or NTK-aware scaling. The cos/sin
 * table is computed on the host in float64 and rounded once, as the core's `RopeTable` is.
 */
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import type { RopeScaling } from '../models/config.js';
import { checkArray, checkChoice, checkDim, checkNumber } from '../kernels/validate.js';
import type { Gpu } from './device.js';
import { checkGpu, grid, runKernel, uniformWords } from './kernel.js';
import ROPE_WGSL from './rope.wgsl';

/**
 * Options of {@link gpuRope} and {@link gpuRopeBackward}: the wasm `rope`'s (declared here for
 * the reason given in activation.ts), plus the device.
 * `scaling` may be `'linear'` or `'ntk'` (YaRN is not there yet on the GPU).
 */
export interface GpuRopeOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
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
  /** How positions are stretched past the trained context; default `null`: none. */
  scaling?: RopeScaling | null;
}

/** The cos/sin table of {@link ropeTable}. */
export interface RopeTableArrays {
  /** `[T, r/2]` float32: `cos(pos_t · θ_i)`. */
  cos: Float32Array;
  /** `[T, r/2]` float32: `sin(pos_t · θ_i)`. */
  sin: Float32Array;
}

const WG = 64; // invocations per workgroup (rope.wgsl WG)

/**
 * Rotates each pair `(xᵢ, x_{i + r/2})` of every head by `pos · θᵢ` on the GPU, as the wasm
 * `rope`.
 *
 * @param x - float32 `[B, T, H, D]`
 * @returns float32 `[B, T, H, D]`
 * @throws ShapeError or InvalidArgumentError for bad arguments, UnsupportedError for YaRN
 *   scaling, before any GPU work
 * @throws OutOfMemoryError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const qRotated = await gpuRope(q, { gpu, b: 1, t: 16, h: 4, d: 32, positionOffset: 100 });
 * ```
 */
export function gpuRope(x: Float32Array, options: GpuRopeOptions): Promise<Float32Array> {
  return rotate('gpuRope', x, options, 1);
}

/**
 * Gradient of {@link gpuRope}: `dinp = RoPEᵀ(dout)`, the rotation by `−pos · θᵢ` (assigned).
 *
 * @param dout - float32 `[B, T, H, D]`
 * @returns `dinp`: float32 `[B, T, H, D]`
 * @throws ShapeError or InvalidArgumentError for bad arguments, UnsupportedError for YaRN
 *   scaling, before any GPU work
 * @throws OutOfMemoryError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const dq = await gpuRopeBackward(dqRotated, { gpu, b: 1, t: 16, h: 4, d: 32 });
 * ```
 */
export function gpuRopeBackward(dout: Float32Array, options: GpuRopeOptions): Promise<Float32Array> {
  return rotate('gpuRopeBackward', dout, options, -1);
}

/**
 * The cos/sin table for positions `positionOffset … positionOffset + T − 1` (float64, rounded
 * once): `θᵢ = base'^(−2i/r)`, `pos = position / s`, with `s = factor` for linear scaling and
 * `base' = base · factor^(r/(r − 2))` for NTK-aware scaling.
 *
 * @returns `cos, sin`: float32 `[T, r/2]`
 */
export function ropeTable(options: {
  t: number;
  rotaryDim: number;
  base: number;
  positionOffset: number;
  scaling: 'none' | 'linear' | 'ntk';
  factor: number;
}): RopeTableArrays {
  const { t, rotaryDim: r, base, positionOffset, scaling, factor } = options;
  const half = r / 2;
  const effectiveBase = scaling === 'ntk' ? base * factor ** (r / (r - 2)) : base;
  const posScale = scaling === 'linear' ? 1 / factor : 1;
  const freq = Array.from({ length: half }, (_, i) => effectiveBase ** ((-2 * i) / r));
  const cos = new Float32Array(t * half);
  const sin = new Float32Array(t * half);
  for (let p = 0; p < t; p++) {
    const pos = (positionOffset + p) * posScale;
    freq.forEach((f, i) => {
      cos[p * half + i] = Math.cos(pos * f);
      sin[p * half + i] = Math.sin(pos * f);
    });
  }
  return { cos, sin };
}

/** The forward (sign 1) or backward (sign −1) rotation. */
async function rotate(op: string, x: Float32Array, options: GpuRopeOptions, sign: 1 | -1): Promise<Float32Array> {
  const { gpu, b, t, h, d, rotaryDim = options?.d, base = 10000, positionOffset = 0, scaling = null } = options ?? ({} as GpuRopeOptions);
  checkGpu(op, gpu);
  for (const [name, value] of Object.entries({ b, t, h, d, rotaryDim })) checkDim(op, name, value);
  if (rotaryDim % 2 !== 0 || rotaryDim > d)
    throw new InvalidArgumentError(`${op}: rotaryDim must be even and ≤ d = ${d}, got ${rotaryDim}`);
  checkNumber(op, 'base', base, true);
  if (!(base > 1)) throw new InvalidArgumentError(`${op}: base must be > 1, got ${base}`);
  if (!Number.isSafeInteger(positionOffset) || positionOffset < 0) {
    throw new InvalidArgumentError(`${op}: positionOffset must be an integer ≥ 0, got ${positionOffset}`);
  }
  let type: 'none' | 'linear' | 'ntk' = 'none';
  let factor = 1;
  if (scaling !== null) {
    if (typeof scaling !== 'object')
      throw new InvalidArgumentError(`${op}: scaling must be null or { type, factor }, got ${JSON.stringify(scaling)}`);
    if (scaling.type === 'yarn') throw new UnsupportedError(`${op}: YaRN scaling is not implemented on WebGPU yet (use 'linear' or 'ntk')`);
    checkChoice(op, 'scaling.type', scaling.type, ['linear', 'ntk']);
    checkNumber(op, 'scaling.factor', scaling.factor, true);
    if (scaling.type === 'ntk' && rotaryDim === 2) throw new InvalidArgumentError(`${op}: NTK-aware scaling needs rotaryDim > 2`);
    [type, factor] = [scaling.type, scaling.factor];
  }
  const n = b * t * h * d;
  checkArray(op, sign === 1 ? 'x' : 'dout', x, n, `[B, T, H, D] = [${b}, ${t}, ${h}, ${d}]`);
  const { cos, sin } = ropeTable({ t, rotaryDim, base, positionOffset, scaling: type, factor });
  const { out } = await runKernel(gpu, {
    op,
    inputs: { x, cos, sin },
    outputs: { out: n },
    params: uniformWords([
      ['u', n],
      ['u', t],
      ['u', h],
      ['u', d],
      ['u', rotaryDim],
      ['f', sign],
    ]),
    passes: [
      {
        label: 'rope',
        code: ROPE_WGSL,
        bindings: [
          [0, 'params'],
          [1, 'x'],
          [2, 'cos'],
          [3, 'sin'],
          [4, 'out'],
        ],
        workgroups: grid(gpu, Math.ceil(n / WG)),
      },
    ],
  });
  return out!;
}
