/**
 * Learning byte-level BPE merges from word frequencies, following the `BpeTrainer` of Hugging
 * Face `tokenizers` (`models/bpe/trainer.rs`) step for step, so that the same words give the
 * same vocabulary and merges:
 *
 * - ids: special tokens first, then the alphabet (the 256 byte-level characters) sorted by
 *   code point, then one id per merge in the order learned;
 * - pair counts are kept incrementally: merging a pair only visits the words that contain it
 *   and adjusts the counts of the pairs around each occurrence;
 * - a max-heap picks the next pair: highest count, ties broken by the smaller (left id, right
 *   id); a popped entry whose count is out of date is pushed back with the current count;
 * - training stops at `vocabSize` tokens, or when the best pair occurs fewer than
 *   `minFrequency` times (or not at all).
 */
import { BYTE_TO_CHAR } from './byte-level.js';

/** What {@link learnMerges} returns. */
export interface LearnedBpe {
  /** `vocab[id]` is the byte-level string of token `id` (special tokens verbatim). */
  vocab: string[];
  /** The merges in the order learned (rank order), as pairs of token strings. */
  merges: [string, string][];
}

/** A pair of token ids as one number: `left * PAIR_BASE + right` (ids below 2^24). */
const PAIR_BASE = 2 ** 24;

/** A candidate merge in the queue, as in HF's `Merge { pair, count, pos }`. */
interface QueueEntry {
  left: number;
  right: number;
  count: number;
  /** Indices of the words the pair was seen in when this entry was pushed. */
  words: Set<number>;
}

/** Queue order: higher count first, then the smaller (left, right) pair. */
function before(a: QueueEntry, b: QueueEntry): boolean {
  if (a.count !== b.count) return a.count > b.count;
  if (a.left !== b.left) return a.left < b.left;
  return a.right < b.right;
}

/** A binary max-heap of queue entries ordered by {@link before}. */
class MergeQueue {
  private readonly items: QueueEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: QueueEntry): void {
    const items = this.items;
    let i = items.length;
    items.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as QueueEntry;
      if (!before(entry, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = entry;
  }

  pop(): QueueEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const n = items.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      if (r < n && before(items[r] as QueueEntry, items[l] as QueueEntry)) child = r;
      const c = items[child] as QueueEntry;
      if (!before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * Merges every occurrence of (`left`, `right`) in `word` into `merged`, left to right, and
 * reports the pair-count changes, exactly as HF's `Word::merge`: for each occurrence, the
 * pair with the previous symbol is replaced by (previous, merged) and the pair with the next
 * symbol by (merged, next).
 */
function mergeWord(word: number[], left: number, right: number, merged: number, changes: number[]): void {
  for (let i = 0; i < word.length; i++) {
    if (word[i] !== left || i + 1 >= word.length || word[i + 1] !== right) continue;
    if (i > 0) {
      const prev = word[i - 1] as number;
      changes.push(prev * PAIR_BASE + left, -1, prev * PAIR_BASE + merged, 1);
    }
    word.splice(i, 2, merged);
    if (i < word.length - 1) {
      const next = word[i + 1] as number;
      changes.push(right * PAIR_BASE + next, -1, merged * PAIR_BASE + next, 1);
    }
  }
}

function addWordToPair(where: Map<number, Set<number>>, pair: number, word: number): void {
  const set = where.get(pair);
  if (set) set.add(word);
  else where.set(pair, new Set([word]));
}

/**
 * Learns BPE merges from pre-token frequencies.
 *
 * @param wordCounts - each pre-token as its byte-level string (see `toByteLevel`) → count.
 * @param specialTokens - given the first ids, in order.
 * @param vocabSize - the target number of tokens, special tokens and alphabet included.
 * @param minFrequency - a pair seen fewer times than this is not merged.
 */
export function learnMerges(
  wordCounts: ReadonlyMap<string, number>,
  specialTokens: readonly string[],
  vocabSize: number,
  minFrequency: number,
): LearnedBpe {
  const vocab: string[] = [];
  const ids = new Map<string, number>();
  const add = (token: string): void => {
    if (ids.has(token)) return;
    ids.set(token, vocab.length);
    vocab.push(token);
  };
  for (const token of specialTokens) add(token);

  // The alphabet: the 256 byte characters (all characters of byte-level words are among them).
  for (const ch of [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))) add(ch);

  // Words as arrays of ids, and the initial pair counts with the words each pair occurs in.
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    const symbols: number[] = [];
    for (let i = 0; i < word.length; i++) symbols.push(ids.get(word[i] ?? '') ?? 0);
    words.push(symbols);
    counts.push(count);
  }
  const pairCounts = new Map<number, number>();
  let where = new Map<number, Set<number>>();
  words.forEach((symbols, w) => {
    const count = counts[w] ?? 0;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const pair = (symbols[i] as number) * PAIR_BASE + (symbols[i + 1] as number);
      pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + count);
      addWordToPair(where, pair, w);
    }
  });

  const queue = new MergeQueue();
  const pushAll = (): void => {
    for (const [pair, set] of where) {
      const count = pairCounts.get(pair) ?? 0;
      if (count > 0) queue.push({ left: Math.floor(pair / PAIR_BASE), right: pair % PAIR_BASE, count, words: set });
    }
    where = new Map();
  };
  pushAll();

  const merges: [string, string][] = [];
  const changes: number[] = [];
  while (ids.size < vocabSize && queue.size > 0) {
    const top = queue.pop() as QueueEntry;
    const pair = top.left * PAIR_BASE + top.right;
    const current = pairCounts.get(pair) ?? 0;
    if (top.count !== current) {
      top.count = current;
      queue.push(top);
      continue;
    }
    if (top.count < 1 || top.count < minFrequency) break;

    const leftToken = vocab[top.left] ?? '';
    const rightToken = vocab[top.right] ?? '';
    const token = leftToken + rightToken;
    add(token);
    const merged = ids.get(token) as number;
    merges.push([leftToken, rightToken]);

    for (const w of top.words) {
      const word = words[w] as number[];
      changes.length = 0;
      mergeWord(word, top.left, top.right, merged, changes);
      const count = counts[w] ?? 0;
      for (let c = 0; c < changes.length; c += 2) {
        const changed = changes[c] as number;
        const delta = changes[c + 1] as number;
        pairCounts.set(changed, (pairCounts.get(changed) ?? 0) + delta * count);
        if (delta > 0) addWordToPair(where, changed, w);
      }
    }
    pushAll();
  }
  return { vocab, merges };
}
