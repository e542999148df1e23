/**
 * Batches of similar length (Hugging Face's `group_by_length`), drawn without state: the
 * examples are sorted by length and cut into groups; a batch is drawn from one group.
 */
import type { Rng } from './rng.js';

/** Example indices sorted by length, then by index: `[n]`. */
export function sortByLength(lengths: readonly number[]): number[] {
  return lengths
    .map((length, i) => ({ length, i }))
    .sort((a, b) => a.length - b.length || a.i - b.i)
    .map((e) => e.i);
}

/**
 * `batchSize` example indices from one group of `groupSize` consecutive entries of `order`
 * (a {@link sortByLength} result). An anchor drawn uniformly picks a group with probability
 * ∝ its size, and a uniform draw inside it then makes every example equally likely, as
 * without grouping.
 */
export function drawLengthGroup(rng: Rng, order: readonly number[], batchSize: number, groupSize: number): number[] {
  const n = order.length;
  const start = Math.floor(rng.nextInt(n) / groupSize) * groupSize;
  const size = Math.min(groupSize, n - start);
  return Array.from({ length: batchSize }, () => order[start + rng.nextInt(size)] as number);
}
