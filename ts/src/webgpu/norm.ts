/**
 * LayerNorm and RMSNorm on WebGPU (norm.wgsl), forward and backward: the math of the core's
 * `layernorm_forward` / `layernorm_backward` and `rmsnorm_*` (crates/core/src/kernels/norm.rs).
 * The forward returns the saved state (`mean`, `rstd`); the backward takes it and returns
 * `dinp`, `dweight` (and `dbias`), the parameter gradients summed over rows in a fixed order.
 */
import { checkArray, checkDim, checkNumber } from '../kernels/validate.js';
import type { Gpu } from './device.js';
import { checkGpu, grid, type KernelPass, runKernel, uniformWords } from './kernel.js';
import NORM_WGSL from './norm.wgsl';

/** Options of the GPU norms: the wasm `layerNorm` / `rmsNorm`'s, plus the device. */
export interface GpuNormOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** N: rows normalised independently (e.g. B·T). */
  rows: number;
  /** C: values per row (the normalised dimension). */
  channels: number;
  /** Added to the variance; default 1e-5. */
  eps?: number;
}

/** The result of {@link gpuLayerNorm}. */
export interface GpuLayerNormResult {
  /** `[N, C]` float32. */
  out: Float32Array;
  /** `[N]` float32, row means (saved for the backward). */
  mean: Float32Array;
  /** `[N]` float32, `1 / sqrt(var + eps)` per row (saved for the backward). */
  rstd: Float32Array;
}

/** The result of {@link gpuRmsNorm}. */
export interface GpuRmsNormResult {
  /** `[N, C]` float32. */
  out: Float32Array;
  /** `[N]` float32, `1 / sqrt(mean(x²) + eps)` per row (saved for the backward). */
  rstd: Float32Array;
}

/** Inputs of {@link gpuLayerNormBackward}. */
export interface GpuLayerNormBackwardInputs {
  /** `[N, C]` float32, the gradient of the forward's `out`. */
  dout: Float32Array;
  /** `[N, C]` float32, the forward's input. */
  x: Float32Array;
  /** `[C]` float32. */
  weight: Float32Array;
  /** `[N]` float32, from {@link gpuLayerNorm}. */
  mean: Float32Array;
  /** `[N]` float32, from {@link gpuLayerNorm}. */
  rstd: Float32Array;
}

/** Options of {@link gpuLayerNormBackward}. */
export interface GpuLayerNormBackwardOptions extends Omit<GpuNormOptions, 'eps'> {
  /** Whether the forward had a bias (then `dbias` is returned); default true. */
  bias?: boolean;
}

/** Gradients from {@link gpuLayerNormBackward}, each a new array (assigned, not accumulated). */
export interface GpuLayerNormGradients {
  /** `[N, C]` float32. */
  dinp: Float32Array;
  /** `[C]` float32: Σ over rows of `norm · dout`. */
  dweight: Float32Array;
  /** `[C]` float32: Σ over rows of `dout` (undefined when `bias: false`). */
  dbias?: Float32Array;
}

/** Inputs of {@link gpuRmsNormBackward}. */
export type GpuRmsNormBackwardInputs = Omit<GpuLayerNormBackwardInputs, 'mean'>;

/** Gradients from {@link gpuRmsNormBackward}, each a new array. */
export interface GpuRmsNormGradients {
  /** `[N, C]` float32. */
  dinp: Float32Array;
  /** `[C]` float32: Σ over rows of `norm · dout`. */
  dweight: Float32Array;
}

const WG = 64; // invocations per workgroup and rows per partial block (norm.wgsl WG, BLOCK)

/**
 * LayerNorm `(x − mean) / sqrt(var + eps) · weight + bias` per row, on the GPU.
 *
 * @param x - float32 `[N, C]`
 * @param weight - float32 `[C]`
 * @param bias - float32 `[C]`, or undefined for none
 * @returns `out: [N, C]`, and the saved `mean, rstd: [N]`, float32
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { out, mean, rstd } = await gpuLayerNorm(x, gamma, beta, { gpu, rows: 4, channels: 128 });
 * ```
 */
export async function gpuLayerNorm(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array | undefined,
  options: GpuNormOptions,
): Promise<GpuLayerNormResult> {
  const { gpu, rows, channels, eps } = checkOptions('gpuLayerNorm', options);
  checkArray('gpuLayerNorm', 'x', x, rows * channels, `[N, C] = [${rows}, ${channels}]`);
  checkArray('gpuLayerNorm', 'weight', weight, channels, `[C] = [${channels}]`);
  if (bias !== undefined) checkArray('gpuLayerNorm', 'bias', bias, channels, `[C] = [${channels}]`);
  const { out, mean, rstd } = await forward(gpu, 'gpuLayerNorm', { x, weight, bias, rows, channels, eps, rms: false });
  return { out: out!, mean: mean!, rstd: rstd! };
}

/**
 * RMSNorm `x / sqrt(mean(x²) + eps) · weight` per row, on the GPU.
 *
 * @param x - float32 `[N, C]`
 * @param weight - float32 `[C]`
 * @returns `out: [N, C]` and the saved `rstd: [N]`, float32
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { out, rstd } = await gpuRmsNorm(x, gamma, { gpu, rows: 4, channels: 128, eps: 1e-6 });
 * ```
 */
export async function gpuRmsNorm(x: Float32Array, weight: Float32Array, options: GpuNormOptions): Promise<GpuRmsNormResult> {
  const { gpu, rows, channels, eps } = checkOptions('gpuRmsNorm', options);
  checkArray('gpuRmsNorm', 'x', x, rows * channels, `[N, C] = [${rows}, ${channels}]`);
  checkArray('gpuRmsNorm', 'weight', weight, channels, `[C] = [${channels}]`);
  const { out, rstd } = await forward(gpu, 'gpuRmsNorm', { x, weight, bias: undefined, rows, channels, eps, rms: true });
  return { out: out!, rstd: rstd! };
}

/**
 * Gradients of {@link gpuLayerNorm}: with `g = weight · dout`,
 * `dinp = rstd · (g − mean(g) − norm · mean(g · norm))`, `dweight = Σ_rows norm · dout`,
 * `dbias = Σ_rows dout` (summed over blocks of 64 rows, then over blocks, in order: no atomics).
 *
 * @param inputs - `dout, x: [N, C]`, `weight: [C]`, `mean, rstd: [N]`, all float32
 * @returns `dinp: [N, C]`, `dweight, dbias: [C]` float32
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { dinp, dweight, dbias } = await gpuLayerNormBackward({ dout, x, weight, mean, rstd }, { gpu, rows, channels });
 * ```
 */
export async function gpuLayerNormBackward(
  inputs: GpuLayerNormBackwardInputs,
  options: GpuLayerNormBackwardOptions,
): Promise<GpuLayerNormGradients> {
  const op = 'gpuLayerNormBackward';
  const { gpu, rows, channels } = checkOptions(op, options);
  const hasBias = options.bias ?? true;
  const { dout, x, weight, mean, rstd } = inputs ?? ({} as GpuLayerNormBackwardInputs);
  checkBackwardArrays(op, { dout, x, weight, rstd }, rows, channels);
  checkArray(op, 'mean', mean, rows, `[N] = [${rows}]`);
  const grads = await backward(gpu, op, { dout, x, weight, mean, rstd, rows, channels, rms: false, hasBias });
  return hasBias ? { dinp: grads.dinp!, dweight: grads.dweight!, dbias: grads.dbias! } : { dinp: grads.dinp!, dweight: grads.dweight! };
}

/**
 * Gradients of {@link gpuRmsNorm}: with `g = weight · dout`,
 * `dinp = rstd · (g − norm · mean(g · norm))`, `dweight = Σ_rows norm · dout` (in a fixed order).
 *
 * @param inputs - `dout, x: [N, C]`, `weight: [C]`, `rstd: [N]`, all float32
 * @returns `dinp: [N, C]`, `dweight: [C]` float32
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { dinp, dweight } = await gpuRmsNormBackward({ dout, x, weight, rstd }, { gpu, rows, channels });
 * ```
 */
export async function gpuRmsNormBackward(
  inputs: GpuRmsNormBackwardInputs,
  options: Omit<GpuNormOptions, 'eps'>,
): Promise<GpuRmsNormGradients> {
  const op = 'gpuRmsNormBackward';
  const { gpu, rows, channels } = checkOptions(op, options);
  const { dout, x, weight, rstd } = inputs ?? ({} as GpuRmsNormBackwardInputs);
  checkBackwardArrays(op, { dout, x, weight, rstd }, rows, channels);
  const grads = await backward(gpu, op, { dout, x, weight, mean: undefined, rstd, rows, channels, rms: true, hasBias: false });
  return { dinp: grads.dinp!, dweight: grads.dweight! };
}

/** The device, dimensions and eps, checked. */
function checkOptions(op: string, options: GpuNormOptions): Required<GpuNormOptions> {
  const { gpu, rows, channels, eps = 1e-5 } = options ?? ({} as GpuNormOptions);
  checkGpu(op, gpu);
  checkDim(op, 'rows', rows);
  checkDim(op, 'channels', channels);
  checkNumber(op, 'eps', eps, true);
  return { gpu, rows, channels, eps };
}

/** The arrays every norm backward takes. */
function checkBackwardArrays(op: string, arrays: GpuRmsNormBackwardInputs, rows: number, channels: number): void {
  checkArray(op, 'dout', arrays.dout, rows * channels, `[N, C] = [${rows}, ${channels}]`);
  checkArray(op, 'x', arrays.x, rows * channels, `[N, C] = [${rows}, ${channels}]`);
  checkArray(op, 'weight', arrays.weight, channels, `[C] = [${channels}]`);
  checkArray(op, 'rstd', arrays.rstd, rows, `[N] = [${rows}]`);
}

/** Shared params: rows, channels, eps, blocks. */
function params(rows: number, channels: number, eps: number): ArrayBuffer {
  return uniformWords([
    ['u', rows],
    ['u', channels],
    ['f', eps],
    ['u', Math.ceil(rows / WG)],
  ]);
}

/** The forward pass of either norm. */
function forward(
  gpu: Gpu,
  op: string,
  args: {
    x: Float32Array;
    weight: Float32Array;
    bias: Float32Array | undefined;
    rows: number;
    channels: number;
    eps: number;
    rms: boolean;
  },
): Promise<Record<string, Float32Array>> {
  const { x, weight, bias, rows, channels, eps, rms } = args;
  const constants = { RMS: rms ? 1 : 0, HAS_BIAS: bias ? 1 : 0 };
  return runKernel(gpu, {
    op,
    inputs: { x, weight, bias: bias ?? new Float32Array(1) },
    outputs: { out: rows * channels, mean: rows, rstd: rows },
    params: params(rows, channels, eps),
    passes: [
      {
        label: 'norm.forward',
        code: NORM_WGSL,
        entryPoint: 'forward',
        constants,
        bindings: [
          [0, 'params'],
          [1, 'x'],
          [2, 'weight'],
          [3, 'bias'],
          [4, 'out'],
          [5, 'mean'],
          [6, 'rstd'],
        ],
        workgroups: grid(gpu, rows),
      },
    ],
  });
}

/** The backward passes of either norm: dinp per row, then dweight (dbias) over row blocks. */
function backward(
  gpu: Gpu,
  op: string,
  args: GpuRmsNormBackwardInputs & { mean: Float32Array | undefined; rows: number; channels: number; rms: boolean; hasBias: boolean },
): Promise<Record<string, Float32Array>> {
  const { dout, x, weight, mean, rstd, rows, channels, rms, hasBias } = args;
  const constants = { RMS: rms ? 1 : 0, HAS_BIAS: hasBias ? 1 : 0 };
  const blocks = Math.ceil(rows / WG);
  const state: [number, string][] = [
    [0, 'params'],
    [1, 'x'],
    [5, 'mean'],
    [6, 'rstd'],
    [7, 'dout'],
  ];
  const passes: KernelPass[] = [
    {
      label: 'norm.backward_rows',
      code: NORM_WGSL,
      entryPoint: 'backward_rows',
      constants,
      bindings: [...state, [2, 'weight'], [8, 'dinp']],
      workgroups: grid(gpu, rows),
    },
    {
      label: 'norm.backward_partial',
      code: NORM_WGSL,
      entryPoint: 'backward_partial',
      constants,
      bindings: [...state, [9, 'partial']],
      workgroups: [Math.ceil(channels / WG), blocks],
    },
    {
      label: 'norm.backward_reduce',
      code: NORM_WGSL,
      entryPoint: 'backward_reduce',
      constants,
      bindings: [
        [0, 'params'],
        [9, 'partial'],
        [10, 'dweight'],
        [11, 'dbias'],
      ],
      workgroups: [Math.ceil(channels / WG)],
    },
  ];
  return runKernel(gpu, {
    op,
    inputs: { dout, x, weight, mean: mean ?? new Float32Array(1), rstd },
    outputs: hasBias ? { dinp: rows * channels, dweight: channels, dbias: channels } : { dinp: rows * channels, dweight: channels },
    scratch: hasBias ? { partial: blocks * 2 * channels } : { partial: blocks * 2 * channels, dbias: 1 },
    params: params(rows, channels, 1), // the backward does not read eps
    passes,
  });
}
