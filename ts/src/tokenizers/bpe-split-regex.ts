/**
 * The `Split` pre-tokenizer regexes wasmformer can run, translated by hand from the Oniguruma
 * syntax of Hugging Face `tokenizers` to JavaScript `u`-flag regexes. A pattern not in this
 * table is refused rather than translated by guesswork: Oniguruma and JavaScript differ in
 * `\s` (Unicode White_Space there, see {@link WS}) and in scoped flags such as `(?i:…)`, which
 * JavaScript lacks and which are expanded here letter by letter (`'[sS]`). Oniguruma's
 * case-insensitive `'s` does not match the long s `ſ` in `tokenizers` 0.23 (checked by the
 * fixtures), so ASCII pairs are the exact expansion.
 */
import { GPT2_PATTERN, WS } from './byte-level.js';

/** A known pre-tokenization regex: its name (for messages) and its JavaScript form. */
export interface KnownSplitPattern {
  name: string;
  /** Global, Unicode-aware; matches the same pieces as the Oniguruma original. */
  regex: RegExp;
}

/** `(?i:'s|'t|'re|'ve|'m|'ll|'d)` expanded; the alternation order is kept. */
const CONTRACTIONS_ANY_CASE = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";

/** Llama-3 / tiktoken cl100k_base, with `\p{N}{1,3}` (Qwen2 has `\p{N}`: pass `digits`). */
function tiktokenStyle(digits: string): RegExp {
  return new RegExp(
    `${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|${digits}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*` +
      `|[${WS}]*[\\r\\n]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
    'gu',
  );
}

const LLAMA3 = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;

const KNOWN = new Map<string, KnownSplitPattern>([
  [LLAMA3, { name: 'Llama-3 (tiktoken cl100k_base)', regex: tiktokenStyle('\\p{N}{1,3}') }],
  [QWEN2, { name: 'Qwen2', regex: tiktokenStyle('\\p{N}') }],
  [GPT2, { name: 'GPT-2', regex: GPT2_PATTERN }],
]);

/** The Oniguruma sources of the patterns {@link knownSplitPattern} accepts. */
export const KNOWN_SPLIT_PATTERNS: readonly string[] = [...KNOWN.keys()];

/** The JavaScript equivalent of a `Split` regex from a tokenizer.json, or undefined if it is not a known one. */
export function knownSplitPattern(source: string): KnownSplitPattern | undefined {
  return KNOWN.get(source);
}

/**
 * Calls `visit` with each piece of `text` split by `regex` with HF's `Isolated` behaviour:
 * every match and every non-empty stretch between matches, in order (they concatenate to
 * `text`). Empty matches are skipped.
 */
export function forEachIsolated(text: string, regex: RegExp, visit: (piece: string) => void): void {
  const re = new RegExp(regex.source, regex.flags);
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    if (m.index > last) visit(text.slice(last, m.index));
    visit(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) visit(text.slice(last));
}
