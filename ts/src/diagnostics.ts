/** Checks that the runtime does what it claims: here, that pool threads really compute. */
import { InvalidArgumentError, callWasm } from './errors.js';
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
