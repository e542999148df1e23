/**
 * Applying BPE merges to one pre-token, as `Word::merge_all` of Hugging Face `tokenizers`
 * (`models/bpe/word.rs`): the symbols form a linked list, and a min-heap ordered by (merge
 * rank, position) picks the next pair. Entries made stale by an earlier merge are skipped when
 * popped. This gives the same result as GPT-2's `bpe()` (merge the lowest-rank pair
 * everywhere, repeat) in O(n log n) rather than O(n²) for an n-byte pre-token.
 */

/** A pair of token ids as one number: `left * PAIR_BASE + right` (ids below 2^24). */
export const PAIR_BASE = 2 ** 24;

/** The merges, looked up by pair: `ranks.get(left * PAIR_BASE + right)` is the rank, `results[rank]` the merged id. */
export interface MergeTable {
  ranks: ReadonlyMap<number, number>;
  results: Int32Array;
}

/** A binary min-heap of (rank, position, merged id), ordered by rank then position. */
class PairHeap {
  private rank: number[] = [];
  private pos: number[] = [];
  private id: number[] = [];
  size = 0;

  private less(i: number, j: number): boolean {
    const ri = this.rank[i] as number;
    const rj = this.rank[j] as number;
    return ri !== rj ? ri < rj : (this.pos[i] as number) < (this.pos[j] as number);
  }

  private swap(i: number, j: number): void {
    const { rank, pos, id } = this;
    const r = rank[i] as number;
    rank[i] = rank[j] as number;
    rank[j] = r;
    const p = pos[i] as number;
    pos[i] = pos[j] as number;
    pos[j] = p;
    const d = id[i] as number;
    id[i] = id[j] as number;
    id[j] = d;
  }

  push(rank: number, pos: number, id: number): void {
    let i = this.size++;
    this.rank[i] = rank;
    this.pos[i] = pos;
    this.id[i] = id;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the smallest entry into `out` ([rank, pos, id]). */
  pop(out: [number, number, number]): void {
    out[0] = this.rank[0] as number;
    out[1] = this.pos[0] as number;
    out[2] = this.id[0] as number;
    const last = --this.size;
    if (last > 0) {
      this.rank[0] = this.rank[last] as number;
      this.pos[0] = this.pos[last] as number;
      this.id[0] = this.id[last] as number;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const child = r < last && this.less(r, l) ? r : l;
        if (!this.less(child, i)) break;
        this.swap(i, child);
        i = child;
      }
    }
  }
}

/**
 * Merges the symbols of one pre-token.
 *
 * @param symbols - [n] token ids of the pre-token's bytes (or unknown-token ids).
 * @returns the token ids after every applicable merge, in order.
 */
export function mergeWord(symbols: ArrayLike<number>, table: MergeTable): Int32Array {
  const n = symbols.length;
  const c = Int32Array.from(symbols);
  if (n < 2) return c;
  const { ranks, results } = table;
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  const removed = new Uint8Array(n);
  const heap = new PairHeap();
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
    if (i + 1 < n) {
      const rank = ranks.get((c[i] as number) * PAIR_BASE + (c[i + 1] as number));
      if (rank !== undefined) heap.push(rank, i, results[rank] as number);
    }
  }
  const top: [number, number, number] = [0, 0, 0];
  let count = n;
  while (heap.size > 0) {
    heap.pop(top);
    const [, pos, id] = top;
    const right = next[pos] as number;
    if (removed[pos] === 1 || right === -1) continue;
    // Skip an entry made stale by an earlier merge at this position.
    const rank = ranks.get((c[pos] as number) * PAIR_BASE + (c[right] as number));
    if (rank === undefined || results[rank] !== id) continue;
    c[pos] = id;
    removed[right] = 1;
    count--;
    const after = next[right] as number;
    next[pos] = after;
    if (after !== -1) prev[after] = pos;
    const before = prev[pos] as number;
    if (before !== -1) {
      const r = ranks.get((c[before] as number) * PAIR_BASE + id);
      if (r !== undefined) heap.push(r, before, results[r] as number);
    }
    if (after !== -1) {
      const r = ranks.get(id * PAIR_BASE + (c[after] as number));
      if (r !== undefined) heap.push(r, pos, results[r] as number);
    }
  }
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i !== -1; i = next[i] as number) out[k++] = c[i] as number;
  return out;
}
