/**
 * Random-window batches from one long token stream, as nanoGPT's `get_batch` does:
 * each row starts at a uniformly random offset `i` in [0, len − T − 1], inputs are
 * `data[i : i + T]` and targets are `data[i + 1 : i + T + 1]`.
 *
 * Shapes (house legend): B = `batchSize`, T = `blockSize`; batches are row-major int32.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import type { Rng } from './rng.js';

/** Batch geometry of a {@link TokenDataset}. */
export interface TokenDatasetOptions {
  /** T, the context length of each row (nanoGPT `block_size`); a positive integer. */
  blockSize: number;
  /** B, the number of rows per batch; a positive integer. */
  batchSize: number;
}

/** One batch of training windows. */
export interface TokenBatch {
  /** [B, T] int32: token ids. */
  inputs: Int32Array;
  /** [B, T] int32: `inputs` shifted left by one position (the next token at each position). */
  targets: Int32Array;
}

/** A train/validation split of a token stream. */
export interface TokenSplit {
  /** The first `floor(len × (1 − valFraction))` tokens (a view, not a copy). */
  train: Int32Array;
  /** The remaining last tokens (a view, not a copy). */
  val: Int32Array;
}

function checkPositiveInt(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`TokenDataset: ${name} must be a positive integer, got ${String(value)}`);
  }
}

/** Samples nanoGPT-style random batches of [B, T] windows from a token stream. */
export class TokenDataset {
  /** The token stream, [N] int32 (held by reference, never modified). */
  readonly tokens: Int32Array;
  /** T, the number of positions per row. */
  readonly blockSize: number;
  /** B, the number of rows per batch. */
  readonly batchSize: number;

  /**
   * @param tokens - [N] int32 token ids, N ≥ blockSize + 1 (one window plus its last target).
   * @param options - batch geometry, see {@link TokenDatasetOptions}.
   * @throws InvalidArgumentError if `tokens` is not an Int32Array or a size is not a positive integer.
   * @throws ShapeError if `tokens` is shorter than `blockSize + 1`.
   */
  constructor(tokens: Int32Array, options: TokenDatasetOptions) {
    if (!(tokens instanceof Int32Array)) {
      throw new InvalidArgumentError('TokenDataset: tokens must be an Int32Array of token ids');
    }
    checkPositiveInt('blockSize', options?.blockSize);
    checkPositiveInt('batchSize', options.batchSize);
    if (tokens.length < options.blockSize + 1) {
      throw new ShapeError(
        `TokenDataset: need at least blockSize + 1 = ${options.blockSize + 1} tokens for one window and its targets, ` +
          `got ${tokens.length}; use more text or a smaller blockSize`,
        `at least ${options.blockSize + 1} tokens`,
        `${tokens.length} tokens`,
      );
    }
    this.tokens = tokens;
    this.blockSize = options.blockSize;
    this.batchSize = options.batchSize;
  }

  /**
   * Splits a token stream into train and validation parts like nanoGPT
   * (`n = int(0.9 * len(data))`; train = `data[:n]`, val = `data[n:]`).
   *
   * @param tokens - [N] int32 token ids.
   * @param valFraction - fraction held out at the end, in [0, 1); nanoGPT uses 0.1.
   * @returns views into `tokens`: train [floor(N × (1 − valFraction))], val [the rest].
   * @throws InvalidArgumentError if `tokens` is not an Int32Array or `valFraction` is outside [0, 1).
   */
  static split(tokens: Int32Array, valFraction: number): TokenSplit {
    if (!(tokens instanceof Int32Array)) {
      throw new InvalidArgumentError('TokenDataset.split: tokens must be an Int32Array of token ids');
    }
    if (typeof valFraction !== 'number' || !(valFraction >= 0 && valFraction < 1)) {
      throw new InvalidArgumentError(`TokenDataset.split: valFraction must be a number in [0, 1), got ${String(valFraction)}`);
    }
    const n = Math.floor(tokens.length * (1 - valFraction));
    return { train: tokens.subarray(0, n), val: tokens.subarray(n) };
  }

  /** The number of distinct window starts, N − T (starts are 0 … N − T − 1). */
  get windowCount(): number {
    return this.tokens.length - this.blockSize;
  }

  /**
   * Draws a fresh batch of B random windows.
   *
   * @param rng - the generator to draw window starts from (B draws of `nextInt(N − T)`).
   * @returns inputs [B, T] int32 and targets [B, T] int32 (inputs shifted by one).
   */
  sampleBatch(rng: Rng): TokenBatch {
    const size = this.batchSize * this.blockSize;
    const batch = { inputs: new Int32Array(size), targets: new Int32Array(size) };
    this.batchInto(rng, batch.inputs, batch.targets);
    return batch;
  }

  /**
   * Like {@link TokenDataset.sampleBatch} but writes into caller-owned arrays, so a training
   * loop allocates nothing per step. Draws exactly the same windows as `sampleBatch` would
   * from the same generator state.
   *
   * @param rng - the generator to draw window starts from.
   * @param inputs - [B, T] int32, overwritten with the input windows.
   * @param targets - [B, T] int32, overwritten with the target windows.
   * @throws InvalidArgumentError if an output is not an Int32Array.
   * @throws ShapeError if an output does not have exactly B × T elements.
   */
  batchInto(rng: Rng, inputs: Int32Array, targets: Int32Array): void {
    const B = this.batchSize;
    const T = this.blockSize;
    for (const [name, array] of [
      ['inputs', inputs],
      ['targets', targets],
    ] as const) {
      if (!(array instanceof Int32Array)) {
        throw new InvalidArgumentError(`TokenDataset.batchInto: ${name} must be an Int32Array [B, T] = [${B}, ${T}]`);
      }
      if (array.length !== B * T) {
        throw new ShapeError(
          `TokenDataset.batchInto: ${name} must have B * T = ${B * T} elements ([${B}, ${T}]), got ${array.length}`,
          `${B * T} elements ([B, T] = [${B}, ${T}])`,
          `${array.length} elements`,
        );
      }
    }
    const windows = this.windowCount;
    for (let b = 0; b < B; b++) {
      const start = rng.nextInt(windows);
      inputs.set(this.tokens.subarray(start, start + T), b * T);
      targets.set(this.tokens.subarray(start + 1, start + T + 1), b * T);
    }
  }
}
