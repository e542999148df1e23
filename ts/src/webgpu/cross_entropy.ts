/**
 * Softmax + cross-entropy on WebGPU (cross_entropy.wgsl), forward and backward: the math of
 * the core's `crossentropy_forward` / `crossentropy_backward`
 * (crates/core/src/kernels/softmax_xent.rs), with its ignore index and mean over the rows not
 * ignored. The forward saves `lse` (log-sum-exp per row) in place of the probabilities.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkArray, checkDim, checkNumber } from '../kernels/validate.js';
import CROSS_ENTROPY_WGSL from './cross_entropy.wgsl';
import type { Gpu } from './device.js';
import { checkGpu, grid, runKernel, uniformWords } from './kernel.js';

/** Options of {@link gpuCrossEntropy}: the wasm `crossEntropy`'s, plus the device. */
export interface GpuCrossEntropyOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** N: rows, each a distribution (e.g. B·T). */
  rows: number;
  /** V: classes per row. */
  vocab: number;
  /** Rows with this target are skipped (loss 0, gradient 0, left out of the mean), like PyTorch's -100. */
  ignoreIndex?: number;
}

/** Options of {@link gpuCrossEntropyBackward}. */
export interface GpuCrossEntropyBackwardOptions extends GpuCrossEntropyOptions {
  /**
   * `dlogits` is the gradient of `scale · Σ_rows losses`; default `1 / (rows not ignored)`
   * (0 if all are), the gradient of the mean loss.
   */
  scale?: number;
}

/** The result of {@link gpuCrossEntropy}. */
export interface GpuCrossEntropyResult {
  /** Mean over rows not ignored (0 if all are), summed in float64 on the host as the core does. */
  loss: number;
  /** `[N]` float32 per-row losses (0 for ignored rows). */
  losses: Float32Array;
  /** `[N]` float32 `logsumexp` of each row (saved for the backward). */
  lse: Float32Array;
}

/** Inputs of {@link gpuCrossEntropyBackward}. */
export interface GpuCrossEntropyBackwardInputs {
  /** `[N, V]` float32, the forward's logits. */
  logits: Float32Array;
  /** `[N]` int32, the forward's targets. */
  targets: Int32Array;
  /** `[N]` float32, from {@link gpuCrossEntropy}. */
  lse: Float32Array;
}

const WG = 64; // invocations per workgroup (cross_entropy.wgsl WG)

/**
 * Cross-entropy `−log softmax(logits)[target]` per row on the GPU, as `logsumexp − logit[target]`
 * (stable for large logits).
 *
 * @param logits - float32 `[N, V]`
 * @param targets - int32 `[N]`, each in `0..V` or equal to `ignoreIndex`
 * @returns the mean `loss`, `losses: [N]` and the saved `lse: [N]`
 * @throws ShapeError or InvalidArgumentError for bad arguments (a target out of range names
 *   its row), before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { loss, lse } = await gpuCrossEntropy(logits, new Int32Array([2, -100]), { gpu, rows: 2, vocab: 5, ignoreIndex: -100 });
 * ```
 */
export async function gpuCrossEntropy(
  logits: Float32Array,
  targets: Int32Array,
  options: GpuCrossEntropyOptions,
): Promise<GpuCrossEntropyResult> {
  const { gpu, rows, vocab, ignoreIndex, count } = checkCall('gpuCrossEntropy', logits, targets, options);
  const { losses, lse } = await runKernel(gpu, {
    op: 'gpuCrossEntropy',
    inputs: { logits, targets },
    outputs: { losses: rows, lse: rows },
    params: params(rows, vocab, ignoreIndex, 0),
    passes: [
      {
        label: 'cross_entropy.forward',
        code: CROSS_ENTROPY_WGSL,
        entryPoint: 'forward',
        bindings: [
          [0, 'params'],
          [1, 'logits'],
          [2, 'targets'],
          [3, 'losses'],
          [4, 'lse'],
        ],
        workgroups: grid(gpu, rows),
      },
    ],
  });
  let sum = 0;
  for (const loss of losses!) sum += loss;
  return { loss: count === 0 ? 0 : sum / count, losses: losses!, lse: lse! };
}

/**
 * Gradient of {@link gpuCrossEntropy}: `dlogits = (softmax(logits) − onehot(target)) · scale`
 * per row (assigned), 0 for ignored rows, the probabilities recomputed from `lse`.
 *
 * @param inputs - `logits: [N, V]` float32, `targets: [N]` int32, `lse: [N]` float32
 * @returns `dlogits`: float32 `[N, V]`
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const dlogits = await gpuCrossEntropyBackward({ logits, targets, lse }, { gpu, rows: 2, vocab: 5, ignoreIndex: -100 });
 * ```
 */
export async function gpuCrossEntropyBackward(
  inputs: GpuCrossEntropyBackwardInputs,
  options: GpuCrossEntropyBackwardOptions,
): Promise<Float32Array> {
  const op = 'gpuCrossEntropyBackward';
  const { logits, targets, lse } = inputs ?? ({} as GpuCrossEntropyBackwardInputs);
  const { gpu, rows, vocab, ignoreIndex, count } = checkCall(op, logits, targets, options);
  checkArray(op, 'lse', lse, rows, `[N] = [${rows}]`);
  const scale = options.scale ?? (count === 0 ? 0 : 1 / count);
  checkNumber(op, 'scale', scale);
  const { dlogits } = await runKernel(gpu, {
    op,
    inputs: { logits, targets, lse },
    outputs: { dlogits: rows * vocab },
    params: params(rows, vocab, ignoreIndex, scale),
    passes: [
      {
        label: 'cross_entropy.backward',
        code: CROSS_ENTROPY_WGSL,
        entryPoint: 'backward',
        bindings: [
          [0, 'params'],
          [1, 'logits'],
          [2, 'targets'],
          [4, 'lse'],
          [5, 'dlogits'],
        ],
        workgroups: grid(gpu, Math.ceil((rows * vocab) / WG)),
      },
    ],
  });
  return dlogits!;
}

/** Checks everything the forward and the backward share; returns it with the count of rows not ignored. */
function checkCall(
  op: string,
  logits: Float32Array,
  targets: Int32Array,
  options: GpuCrossEntropyOptions,
): GpuCrossEntropyOptions & { count: number } {
  const { gpu, rows, vocab, ignoreIndex } = options ?? ({} as GpuCrossEntropyOptions);
  checkGpu(op, gpu);
  checkDim(op, 'rows', rows);
  checkDim(op, 'vocab', vocab);
  checkArray(op, 'logits', logits, rows * vocab, `[N, V] = [${rows}, ${vocab}]`);
  checkArray(op, 'targets', targets, rows, `[N] = [${rows}]`, Int32Array);
  if (ignoreIndex !== undefined && (!Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex > 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`${op}: ignoreIndex must be a 32-bit integer, got ${ignoreIndex}`);
  }
  let count = 0;
  targets.forEach((target, row) => {
    if (target === ignoreIndex) return;
    if (target < 0 || target >= vocab) {
      throw new InvalidArgumentError(
        `${op}: targets[${row}] = ${target} is outside 0..${vocab - 1}${ignoreIndex === undefined ? '' : ` and is not ignoreIndex (${ignoreIndex})`}`,
      );
    }
    count++;
  });
  return { gpu, rows, vocab, ignoreIndex, count };
}

/** rows, vocab, ignore index, whether there is one, scale. */
function params(rows: number, vocab: number, ignoreIndex: number | undefined, scale: number): ArrayBuffer {
  return uniformWords([
    ['u', rows],
    ['u', vocab],
    ['i', ignoreIndex ?? 0],
    ['u', ignoreIndex === undefined ? 0 : 1],
    ['f', scale],
  ]);
}
