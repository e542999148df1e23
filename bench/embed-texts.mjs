// The texts of the bert-embed benchmark, shared by bench/bert-embed.bench.mjs and its
// transformers.js peer: `n` texts of 140 words, each at least 128 WordPiece tokens (cut to 128).
const WORDS = 'the quick brown fox jumps over the lazy dog while a small bird sings in the old tree near the river bank'.split(' ');

/** `n` deterministic texts of 140 words. */
export function embedTexts(n) {
  return Array.from({ length: n }, (_, i) => Array.from({ length: 140 }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' '));
}
