/**
 * Global-norm gradient clipping on WebGPU (clip.wgsl): the core's `clip_grad_norm`
 * (crates/core/src/optim/clip.rs, PyTorch's `clip_grad_norm_`), with the sum of squares reduced
 * in a fixed order on the GPU (no atomics) and the scale applied there too, in one submission.
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../kernels/validate.js';
import CLIP_WGSL from './clip.wgsl';
import type { Gpu } from './device.js';
import { checkGpu, grid, type KernelPass, runKernel, uniformWords } from './kernel.js';

/** Options of {@link gpuClipGradNorm}. */
export interface GpuClipOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** The largest global L2 norm kept (> 0; `Infinity`: measure only, never clip). */
  maxNorm: number;
}

/** The result of {@link gpuClipGradNorm}. */
export interface GpuClipResult {
  /** The global L2 norm before clipping (`Infinity` or `NaN` if a gradient is). */
  norm: number;
  /** `[N]` float32, the gradients after clipping (a new array; unchanged values if not clipped). */
  grads: Float32Array;
}

const WG = 64; // invocations per workgroup (clip.wgsl WG)
const BLOCK = 1024; // elements per partial sum (clip.wgsl BLOCK)

/**
 * Clips gradients to a global L2 norm on the GPU: `norm = √(Σ g²)` (f32, summed in a fixed
 * order), `coef = maxNorm / (norm + 1e-6)`, `g ← g · coef` when `coef < 1` and the norm is
 * finite. Several gradient buffers are clipped together by passing them as one (the planned
 * gradient arena is one buffer).
 *
 * @param grads - float32 `[N]` (not modified)
 * @returns the norm before clipping and the clipped `grads: [N]`
 * @throws InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { norm, grads: clipped } = await gpuClipGradNorm(grads, { gpu, maxNorm: 1 });
 * ```
 */
export async function gpuClipGradNorm(grads: Float32Array, options: GpuClipOptions): Promise<GpuClipResult> {
  const op = 'gpuClipGradNorm';
  const { gpu, maxNorm } = options ?? ({} as GpuClipOptions);
  checkGpu(op, gpu);
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm <= 0) {
    throw new InvalidArgumentError(`${op}: maxNorm must be a number > 0, got ${maxNorm}`);
  }
  if (!(grads instanceof Float32Array)) throw new InvalidArgumentError(`${op}: grads must be a Float32Array, got ${describe(grads)}`);
  const n = grads.length;
  if (n === 0) throw new InvalidArgumentError(`${op}: grads must not be empty`);
  const blocks = Math.ceil(n / BLOCK);
  const passes: KernelPass[] = [
    {
      label: 'clip.partial_sums',
      code: CLIP_WGSL,
      entryPoint: 'partial_sums',
      bindings: [
        [0, 'params'],
        [1, 'grads'],
        [2, 'partial'],
      ],
      workgroups: grid(gpu, blocks),
    },
    {
      label: 'clip.total',
      code: CLIP_WGSL,
      entryPoint: 'total',
      bindings: [
        [0, 'params'],
        [2, 'partial'],
        [3, 'sumsq'],
      ],
      workgroups: [1],
    },
  ];
  // An infinite maxNorm never clips (and WGSL may assume no infinities): no scale pass.
  if (Number.isFinite(maxNorm)) {
    passes.push({
      label: 'clip.scale',
      code: CLIP_WGSL,
      entryPoint: 'scale',
      bindings: [
        [0, 'params'],
        [1, 'grads'],
        [3, 'sumsq'],
      ],
      workgroups: grid(gpu, Math.ceil(n / WG)),
    });
  }
  const result = await runKernel(gpu, {
    op,
    inputs: { grads },
    readInputs: ['grads'],
    outputs: { sumsq: 1 },
    scratch: { partial: blocks },
    params: uniformWords([
      ['u', n],
      ['u', blocks],
      ['f', Number.isFinite(maxNorm) ? maxNorm : 0],
    ]),
    passes,
  });
  return { norm: Math.fround(Math.sqrt(result.sumsq![0]!)), grads: result.grads! };
}
