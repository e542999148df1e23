/**
 * Checks that the runtime does what it claims (pool threads really compute), and entries for
 * the benchmarks (bench/) that the kernel API does not offer.
 */
import { InvalidArgumentError, callWasm } from './errors.js';
import { checkHeadArrays } from './kernels/validate.js';
import { wasm } from './wasm/load.js';

/** The result of {@link poolSmoke}. */
export interface PoolSmokeReport {
  /** Items each pool thread computed (index = pool thread). */
  itemsPerThread: number[];
  /** Items computed on the calling thread (outside the pool). */
  callerItems: number;
  /** The sum over all items; equal to the serial sum up to rounding. */
  checksum: number;
}

/**
 * Splits `nItems` units of deliberately slow work over the thread pool and reports which
 * thread did how much.
 *
 * @example
 * ```ts
 * await init({ threads: 2 });
 * poolSmoke(64).itemsPerThread; // e.g. [32, 32]
 * ```
 */
export function poolSmoke(nItems: number): PoolSmokeReport {
  if (!Number.isInteger(nItems) || nItems < 0 || nItems > 1e7) {
    throw new InvalidArgumentError(`poolSmoke: nItems must be an integer from 0 to 1e7, got ${nItems}`);
  }
  const raw = Array.from(callWasm(() => wasm().poolSmoke(nItems)));
  const checksum = raw.pop() ?? 0;
  const callerItems = raw.pop() ?? 0;
  return { itemsPerThread: raw, callerItems, checksum };
}

/** Dimensions and upstream gradient of {@link attentionTrainingPass}. */
export interface AttentionTrainingPassOptions {
  /** B: batch size. */
  b: number;
  /** H: heads. */
  h: number;
  /** T: sequence length. */
  t: number;
  /** D: head size. */
  d: number;
  /** Query i sees only keys j ≤ i (GPT). Default false. */
  causal?: boolean;
  /** float32 `[B, H, T, D]`: the gradient of the loss with respect to the output. Default: the output itself. */
  dout?: Float32Array;
}

/** The result of {@link attentionTrainingPass}: float32 `[B, H, T, D]` each. */
export interface AttentionTrainingPassResult {
  /** The attention output. */
  out: Float32Array;
  /** Gradient with respect to the queries. */
  dq: Float32Array;
  /** Gradient with respect to the keys. */
  dk: Float32Array;
  /** Gradient with respect to the values. */
  dv: Float32Array;
}

/**
 * Benchmark and diagnostic entry, not a stable API (it may change without notice): one
 * training pass of multi-head attention in a single WebAssembly call, the forward that saves
 * each row's log-sum-exp followed by the backward, as the GPT training step runs them.
 * `bench/attention.bench.mjs` times it. No key padding or bias; for inference use
 * `kernels.attention`.
 *
 * @param q - float32 `[B, H, T, D]`
 * @param k - float32 `[B, H, T, D]`
 * @param v - float32 `[B, H, T, D]`
 * @returns `out = softmax(q·kᵀ/√D + mask) · v` and `dq`, `dk`, `dv` for the upstream gradient
 *   `options.dout`, all float32 `[B, H, T, D]`
 *
 * @example
 * ```ts
 * const { out, dq } = attentionTrainingPass(q, k, v, { b: 1, h: 8, t: 128, d: 64, causal: true });
 * ```
 */
export function attentionTrainingPass(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  options: AttentionTrainingPassOptions,
): AttentionTrainingPassResult {
  const op = 'attentionTrainingPass';
  const { b, h, t, d, causal = false, dout } = options;
  const n = checkHeadArrays(op, options, { q, k, v, dout });
  const out = new Float32Array(n);
  const dq = new Float32Array(n);
  const dk = new Float32Array(n);
  const dv = new Float32Array(n);
  callWasm(() => wasm().attentionTrainStep(out, dq, dk, dv, q, k, v, dout, { b, h, t, d, causal }));
  return { out, dq, dk, dv };
}
