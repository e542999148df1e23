/**
 * One AdamW step on WebGPU (adamw.wgsl): the core's `adamw_update`
 * (crates/core/src/optim/adamw.rs, PyTorch's `torch.optim.AdamW`): decoupled weight decay
 * applied first, then the bias-corrected Adam step, per element in the core's order.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkArray, describe } from '../kernels/validate.js';
import ADAMW_WGSL from './adamw.wgsl';
import type { Gpu } from './device.js';
import { checkGpu, grid, runKernel, uniformWords } from './kernel.js';

/** Buffers of {@link gpuAdamW}: one flat parameter group (or a slice of one), all `[N]` float32. */
export interface GpuAdamWState {
  /** `[N]` parameters. */
  params: Float32Array;
  /** `[N]` first moments (zeros before step 1). */
  m: Float32Array;
  /** `[N]` second moments (zeros before step 1). */
  v: Float32Array;
  /** `[N]` gradients. */
  grads: Float32Array;
}

/** Options of {@link gpuAdamW}: this update's hyperparameters (PyTorch's defaults where optional). */
export interface GpuAdamWOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** Learning rate (finite, ≥ 0). */
  lr: number;
  /** The 1-based count of updates, including this one. */
  step: number;
  /** Decoupled weight decay (finite, ≥ 0); default 0.01. */
  weightDecay?: number;
  /** First-moment decay β1 in [0, 1); default 0.9. */
  beta1?: number;
  /** Second-moment decay β2 in [0, 1); default 0.999. */
  beta2?: number;
  /** Added to √v̂ (finite, > 0); default 1e-8. */
  eps?: number;
}

/** The updated buffers from {@link gpuAdamW}, each a new `[N]` float32 array. */
export interface GpuAdamWResult {
  /** `[N]` parameters after the step. */
  params: Float32Array;
  /** `[N]` first moments after the step. */
  m: Float32Array;
  /** `[N]` second moments after the step. */
  v: Float32Array;
}

const WG = 64; // invocations per workgroup (adamw.wgsl WG)

/**
 * One AdamW step on the GPU, per element:
 * `p ← p·(1 − lr·wd)`, `m ← m + (1 − β1)(g − m)`, `v ← β2·v + (1 − β2)g²`,
 * `p ← p − lr/(1 − β1^step) · m / (√v / √(1 − β2^step) + ε)` (the scalars in float64, rounded
 * to float32 once, as the core computes them).
 *
 * @param state - `params, m, v, grads`: float32 `[N]` each (not modified)
 * @returns the new `params, m, v`: float32 `[N]` each
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const next = await gpuAdamW({ params, m, v, grads }, { gpu, lr: 1e-3, step: 1 });
 * ```
 */
export async function gpuAdamW(state: GpuAdamWState, options: GpuAdamWOptions): Promise<GpuAdamWResult> {
  const op = 'gpuAdamW';
  const { gpu, lr, step, weightDecay = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options ?? ({} as GpuAdamWOptions);
  checkGpu(op, gpu);
  for (const [name, value] of [
    ['lr', lr],
    ['weightDecay', weightDecay],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidArgumentError(`${op}: ${name} must be a finite number ≥ 0, got ${value}`);
    }
  }
  for (const [name, value] of [
    ['beta1', beta1],
    ['beta2', beta2],
  ] as const) {
    if (typeof value !== 'number' || !(value >= 0 && value < 1))
      throw new InvalidArgumentError(`${op}: ${name} must be in [0, 1), got ${value}`);
  }
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0)
    throw new InvalidArgumentError(`${op}: eps must be a finite number > 0, got ${eps}`);
  if (!Number.isSafeInteger(step) || step < 1) throw new InvalidArgumentError(`${op}: step is 1-based, got ${step}`);
  const { params, m, v, grads } = state ?? ({} as GpuAdamWState);
  if (!(params instanceof Float32Array)) throw new InvalidArgumentError(`${op}: params must be a Float32Array, got ${describe(params)}`);
  const n = params.length;
  if (n === 0) throw new InvalidArgumentError(`${op}: params must not be empty`);
  for (const [name, array] of Object.entries({ m, v, grads })) checkArray(op, name, array, n, `[N], as params (${n} elements)`);
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const result = await runKernel(gpu, {
    op,
    inputs: { p: params, m, v, grads },
    outputs: {},
    params: uniformWords([
      ['u', n],
      ['f', 1 - lr * weightDecay],
      ['f', lr / bc1],
      ['f', Math.sqrt(bc2)],
      ['f', beta1],
      ['f', beta2],
      ['f', eps],
    ]),
    readInputs: ['p', 'm', 'v'],
    passes: [
      {
        label: 'adamw',
        code: ADAMW_WGSL,
        bindings: [
          [0, 'params'],
          [1, 'p'],
          [2, 'm'],
          [3, 'v'],
          [4, 'grads'],
        ],
        workgroups: grid(gpu, Math.ceil(n / WG)),
      },
    ],
  });
  return { params: result.p!, m: result.m!, v: result.v! };
}
