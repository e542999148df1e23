/**
 * Learning a WordPiece vocabulary the way Hugging Face `tokenizers`' `WordPieceTrainer` does:
 * it is the BPE trainer (`models/bpe/trainer.rs`) with `continuing_subword_prefix = "##"`,
 * whose vocabulary (not its merges) becomes the WordPiece model. So merges are chosen by pair
 * **frequency** (BPE), not by the WordPiece likelihood score count(ab) / (count(a)·count(b))
 * of the original Google paper.
 *
 * 1. The special tokens, in the given order, take ids 0, 1, ….
 * 2. The alphabet: every code point of the words, sorted by code point.
 * 3. Each word becomes its characters, all but the first with the `##` prefix (these `##x`
 *    tokens get ids in the order they are first met).
 * 4. Repeatedly the most frequent adjacent pair (ties: the pair of smaller ids) is merged into
 *    one token (`a` + `##b` → `ab`, `##a` + `##b` → `##ab`), left to right inside each word,
 *    until the vocabulary has `vocabSize` tokens or no pair occurs `minFrequency` times.
 *
 * The bookkeeping (lazy priority queue of pairs with the words they occur in, per-word change
 * lists) is the Rust trainer's, so the result is the same up to the order of ties. HF iterates
 * its word counts in hash-map order, which makes its ids (and, on ties between `##` pairs, its
 * vocabulary) vary between runs; here words are taken in order of first occurrence, so the
 * result is deterministic.
 */
import { InvalidArgumentError } from '../errors.js';

/** A pair of adjacent symbols, with its count and the words it (may) occur in. */
interface Merge {
  a: number;
  b: number;
  count: number;
  pos: Set<number>;
}

const PAIR_BASE = 2 ** 32;
const pairKey = (a: number, b: number): number => a * PAIR_BASE + b;

/** Max-heap on (count, then the smaller pair first), as `impl Ord for Merge` in the Rust trainer. */
class MergeQueue {
  private readonly heap: Merge[] = [];

  private static before(x: Merge, y: Merge): boolean {
    if (x.count !== y.count) return x.count > y.count;
    return x.a !== y.a ? x.a < y.a : x.b < y.b;
  }

  push(m: Merge): void {
    const h = this.heap;
    h.push(m);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Merge;
      if (!MergeQueue.before(m, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = m;
  }

  pop(): Merge | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && MergeQueue.before(h[r] as Merge, h[l] as Merge) ? r : l;
      const c = h[child] as Merge;
      if (!MergeQueue.before(c, last)) break;
      h[i] = c;
      i = child;
    }
    h[i] = last;
    return top;
  }
}

/**
 * Merges every (left to right, non-overlapping) occurrence of `c1 c2` in `symbols` into
 * `replacement` and returns the pair-count changes (`Word::merge` in the Rust trainer).
 */
function mergeWord(symbols: number[], c1: number, c2: number, replacement: number): [number, number, number][] {
  const changes: [number, number, number][] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] !== c1 || i + 1 >= symbols.length || symbols[i + 1] !== c2) continue;
    const first = c1;
    const second = c2;
    if (i > 0) {
      const prev = symbols[i - 1] as number;
      changes.push([prev, first, -1], [prev, replacement, 1]);
    }
    symbols.splice(i, 2, replacement);
    if (i < symbols.length - 1) {
      const next = symbols[i + 1] as number;
      changes.push([second, next, -1], [replacement, next, 1]);
    }
  }
  return changes;
}

/** What {@link trainWordPieceVocab} needs. */
export interface WordPieceTrainerConfig {
  /** Word → count, in order of first occurrence. */
  wordCounts: ReadonlyMap<string, number>;
  specialTokens: readonly string[];
  vocabSize: number;
  minFrequency: number;
  /** `##`. */
  continuingSubwordPrefix: string;
}

/** Runs the trainer; returns the vocabulary, `vocab[id]` being the token of `id`. */
export function trainWordPieceVocab(config: WordPieceTrainerConfig): string[] {
  const { wordCounts, specialTokens, vocabSize, minFrequency, continuingSubwordPrefix: prefix } = config;
  const w2id = new Map<string, number>();
  const id2w: string[] = [];
  const add = (token: string): number => {
    const existing = w2id.get(token);
    if (existing !== undefined) return existing;
    id2w.push(token);
    w2id.set(token, id2w.length - 1);
    return id2w.length - 1;
  };

  // 1. Special tokens.
  for (const t of specialTokens) add(t);

  // 2. Alphabet, sorted by code point.
  const alphabet = new Set<number>();
  for (const word of wordCounts.keys()) for (const ch of word) alphabet.add(ch.codePointAt(0) ?? 0);
  for (const cp of [...alphabet].sort((x, y) => x - y)) add(String.fromCodePoint(cp));

  // 3. Words as symbol ids.
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    const symbols: number[] = [];
    let first = true;
    for (const ch of word) {
      symbols.push(add(first ? ch : prefix + ch));
      first = false;
    }
    words.push(symbols);
    counts.push(count);
  }
  if (id2w.length > 2 ** 21)
    throw new InvalidArgumentError(`WordPieceTokenizer.train: ${id2w.length} initial symbols; at most 2^21 are supported`);

  // 4. Pair counts and where each pair occurs.
  const pairCounts = new Map<number, number>();
  let whereToUpdate = new Map<number, Merge>();
  const touch = (a: number, b: number, delta: number, wordIndex: number, track: boolean): void => {
    const key = pairKey(a, b);
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (!track) return;
    let entry = whereToUpdate.get(key);
    if (!entry) {
      entry = { a, b, count: 0, pos: new Set<number>() };
      whereToUpdate.set(key, entry);
    }
    entry.pos.add(wordIndex);
  };
  words.forEach((symbols, i) => {
    for (let j = 0; j + 1 < symbols.length; j++) touch(symbols[j] as number, symbols[j + 1] as number, counts[i] as number, i, true);
  });
  const queue = new MergeQueue();
  const flush = (): void => {
    for (const [key, entry] of whereToUpdate) {
      const count = pairCounts.get(key) ?? 0;
      if (count > 0) queue.push({ ...entry, count });
    }
    whereToUpdate = new Map();
  };
  flush();

  // 5. Merges.
  for (;;) {
    if (w2id.size >= vocabSize) break;
    const top = queue.pop();
    if (!top) break;
    const current = pairCounts.get(pairKey(top.a, top.b)) ?? 0;
    if (top.count !== current) {
      top.count = current;
      queue.push(top);
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) break;
    const partA = id2w[top.a] as string;
    const tokenB = id2w[top.b] as string;
    const partB = tokenB.startsWith(prefix) ? tokenB.slice(prefix.length) : tokenB;
    const newId = add(partA + partB);
    for (const i of [...top.pos].sort((x, y) => x - y)) {
      for (const [a, b, change] of mergeWord(words[i] as number[], top.a, top.b, newId)) {
        touch(a, b, change * (counts[i] as number), i, change > 0);
      }
    }
    flush();
  }
  return id2w;
}
