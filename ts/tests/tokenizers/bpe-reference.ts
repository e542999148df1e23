/**
 * Plain reference implementations of byte-level BPE for the tests: GPT-2's original `bpe()`
 * (openai/gpt-2 `encoder.py`) for encoding, and training that recounts every pair from
 * scratch before each merge. Slow and obvious, as specifications of the fast paths.
 */
import { BYTE_TO_CHAR, forEachPreToken, toByteLevel } from '../../src/tokenizers/byte-level.js';

/** Merges every occurrence of (`first`, `second`) in `word`, left to right. */
function mergeAll(word: string[], first: string, second: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; ) {
    if (word[i] === first && i + 1 < word.length && word[i + 1] === second) {
      out.push(first + second);
      i += 2;
    } else {
      out.push(word[i] as string);
      i += 1;
    }
  }
  return out;
}

/** GPT-2's encoder: per pre-token, merge the lowest-ranked pair everywhere, repeat. Returns token strings. */
export function naiveEncode(text: string, ranks: ReadonlyMap<string, number>): string[] {
  const tokens: string[] = [];
  forEachPreToken(text, (piece) => {
    let word = [...toByteLevel(piece)];
    for (;;) {
      let best: [string, string] | undefined;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = [word[i] as string, word[i + 1] as string];
        }
      }
      if (best === undefined) break;
      word = mergeAll(word, best[0], best[1]);
    }
    tokens.push(...word);
  });
  return tokens;
}

/**
 * BPE training by full recount: before each merge count every adjacent pair over all words
 * (weighted by word count), take the most frequent, ties to the smaller (left id, right id),
 * ids being the byte alphabet by code point then merges in order. Stops when the vocabulary
 * (without special tokens) has `vocabSize` tokens or the best count is below `minFrequency`.
 */
export function naiveTrain(words: ReadonlyMap<string, number>, vocabSize: number, minFrequency: number): [string, string][] {
  const ids = new Map<string, number>();
  for (const ch of [...BYTE_TO_CHAR].sort()) ids.set(ch, ids.size);
  let seqs = [...words].map(([word, count]) => ({ symbols: [...word], count }));
  const merges: [string, string][] = [];
  while (ids.size < vocabSize) {
    const counts = new Map<string, { a: string; b: string; n: number }>();
    for (const { symbols, count } of seqs) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`;
        const entry = counts.get(key) ?? { a: symbols[i] as string, b: symbols[i + 1] as string, n: 0 };
        entry.n += count;
        counts.set(key, entry);
      }
    }
    let best: { a: string; b: string; n: number } | undefined;
    for (const entry of counts.values()) {
      if (best === undefined || entry.n > best.n) {
        best = entry;
      } else if (entry.n === best.n) {
        const [ea, eb, ba, bb] = [ids.get(entry.a), ids.get(entry.b), ids.get(best.a), ids.get(best.b)] as number[];
        if ((ea as number) < (ba as number) || (ea === ba && (eb as number) < (bb as number))) best = entry;
      }
    }
    if (best === undefined || best.n < 1 || best.n < minFrequency) break;
    const { a, b } = best;
    if (!ids.has(a + b)) ids.set(a + b, ids.size);
    merges.push([a, b]);
    seqs = seqs.map(({ symbols, count }) => ({ symbols: mergeAll(symbols, a, b), count }));
  }
  return merges;
}
