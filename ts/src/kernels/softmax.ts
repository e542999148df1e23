/** Softmax and cross-entropy over the last dimension. */
import { InvalidArgumentError, callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkDim } from './validate.js';

/** Dimensions of {@link softmax} and {@link crossEntropy}: `rows` rows of `vocab` logits. */
export interface SoftmaxOptions {
  /** Rows, each a distribution (e.g. B·T). */
  rows: number;
  /** V: classes per row (the softmax dimension). */
  vocab: number;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends SoftmaxOptions {
  /** Rows with this target are skipped (loss 0, left out of the mean), like PyTorch's -100. */
  ignoreIndex?: number;
}

/** The result of {@link crossEntropy}. */
export interface CrossEntropyResult {
  /** Mean over rows not ignored (0 if all are). */
  loss: number;
  /** `[N]` per-row losses (0 for ignored rows). */
  losses: Float32Array;
}

/**
 * Numerically stable softmax of each row.
 *
 * @param logits - float32 `[N, V]`
 * @returns float32 `[N, V]`, rows summing to 1
 *
 * @example
 * ```ts
 * kernels.softmax(new Float32Array([0, Math.log(3)]), { rows: 1, vocab: 2 }); // [0.25, 0.75]
 * ```
 */
export function softmax(logits: Float32Array, options: SoftmaxOptions): Float32Array {
  const { rows, vocab } = options;
  checkDim('softmax', 'rows', rows);
  checkDim('softmax', 'vocab', vocab);
  checkArray('softmax', 'logits', logits, rows * vocab, `[N, V] = [${rows}, ${vocab}]`);
  const probs = new Float32Array(logits.length);
  callWasm(() => wasm().softmax(probs, logits, { rows, vocab }));
  return probs;
}

/**
 * Cross-entropy `−log softmax(logits)[target]` per row, fused and stable for large logits.
 *
 * @param logits - float32 `[N, V]`
 * @param targets - int32 `[N]`, each in `0..V` or equal to `ignoreIndex`
 *
 * @example
 * ```ts
 * const { loss } = kernels.crossEntropy(logits, new Int32Array([2, -100]), { rows: 2, vocab: 5, ignoreIndex: -100 });
 * ```
 */
export function crossEntropy(logits: Float32Array, targets: Int32Array, options: CrossEntropyOptions): CrossEntropyResult {
  const { rows, vocab, ignoreIndex } = options;
  checkDim('crossEntropy', 'rows', rows);
  checkDim('crossEntropy', 'vocab', vocab);
  checkArray('crossEntropy', 'logits', logits, rows * vocab, `[N, V] = [${rows}, ${vocab}]`);
  checkArray('crossEntropy', 'targets', targets, rows, `[N] = [${rows}]`, Int32Array);
  if (ignoreIndex !== undefined && (!Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex) > 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`crossEntropy: ignoreIndex must be a 32-bit integer, got ${ignoreIndex}`);
  }
  targets.forEach((target, row) => {
    if (target !== ignoreIndex && (target < 0 || target >= vocab)) {
      throw new InvalidArgumentError(
        `crossEntropy: targets[${row}] = ${target} is outside 0..${vocab - 1}${ignoreIndex === undefined ? '' : ` and is not ignoreIndex (${ignoreIndex})`}`,
      );
    }
  });
  const losses = new Float32Array(rows);
  const loss = callWasm(() => wasm().crossEntropy(losses, logits, targets, { rows, vocab, ignoreIndex }));
  return { loss, losses };
}
