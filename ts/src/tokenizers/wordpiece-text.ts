/**
 * BERT's text pipeline before WordPiece, as the Hugging Face `tokenizers` library runs it
 * (`normalizers/bert.rs`, `pre_tokenizers/bert.rs`, `tokenizer/added_vocabulary.rs`):
 *
 * 1. split off added tokens such as `[MASK]` (leftmost-longest match on the raw text for
 *    `normalized: false` tokens, on the normalised text for `normalized: true` ones);
 * 2. BertNormalizer: clean text (drop NUL, U+FFFD and control characters; every other
 *    whitespace becomes " "), put spaces around CJK ideographs, strip accents (NFD, drop
 *    nonspacing marks Mn), lower-case (per code point);
 * 3. BertPreTokenizer: split on whitespace (removed) and on punctuation (kept, one token each).
 *
 * Where the Rust library and transformers' pure-Python `BertTokenizerLegacy` differ, this
 * follows the Rust library (what `tokenizer.json` means): control = Cc, Cf, Co (unassigned
 * code points are kept); lower-casing maps each code point on its own (Σ → σ even at the end
 * of a word); the CJK ranges are those of `is_chinese_char` in `normalizers/bert.rs`.
 */

/** The options of HF's BertNormalizer. */
export interface BertNormalizerOptions {
  /** Remove control characters and normalise whitespace to " ". */
  cleanText: boolean;
  /** Put spaces around CJK ideographs so each is a word. */
  handleChineseChars: boolean;
  /** Strip accents; `null` follows `lowercase` (original BERT). */
  stripAccents: boolean | null;
  /** Lower-case the text. */
  lowercase: boolean;
}

/** A token matched in the text before pre-tokenization (HF's added tokens). */
export interface AddedTokenSpec {
  id: number;
  content: string;
  /** HF's `special`: `decode(ids, { skipSpecialTokens: true })` drops it. */
  special: boolean;
  /** Matched on the normalised text (true) or on the raw text (false). */
  normalized: boolean;
  /** Only matched when not preceded or followed by a word character (`\w`). */
  singleWord: boolean;
  /** Also swallows the whitespace before / after the match. */
  lstrip: boolean;
  rstrip: boolean;
}

const WHITESPACE = /\p{White_Space}/u;
const CONTROL = /[\p{Cc}\p{Cf}\p{Co}]/u;
const NONSPACING_MARK = /\p{Mn}/gu;
/** `char::is_ascii_punctuation` (ASCII 33-47, 58-64, 91-96, 123-126) or a Unicode P* category. */
const PUNCTUATION = /[!-/:-@[-`{-~]|\p{P}/u;
const WORD_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** True for a code point in the CJK Unified Ideographs ranges of HF `is_chinese_char`. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** True if `ch` (one code point) is BERT punctuation. */
export function isBertPunctuation(ch: string): boolean {
  return PUNCTUATION.test(ch);
}

/** True if `ch` (one code point) is Unicode White_Space (Rust `char::is_whitespace`). */
export function isWhitespace(ch: string): boolean {
  return WHITESPACE.test(ch);
}

/**
 * Lone UTF-16 surrogates become U+FFFD, as when a JS string is encoded to UTF-8 (the Rust
 * library only ever sees UTF-8), so that clean-text drops them.
 */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/** HF BertNormalizer. */
export function bertNormalize(text: string, options: BertNormalizerOptions): string {
  let s = text;
  if (options.cleanText) {
    let out = '';
    for (const ch of s) {
      if (ch === '\0' || ch === '\ufffd' || (ch !== '\t' && ch !== '\n' && ch !== '\r' && CONTROL.test(ch))) continue;
      out += WHITESPACE.test(ch) ? ' ' : ch;
    }
    s = out;
  }
  if (options.handleChineseChars) {
    let out = '';
    for (const ch of s) out += isChineseChar(ch.codePointAt(0) ?? 0) ? ` ${ch} ` : ch;
    s = out;
  }
  if (options.stripAccents ?? options.lowercase) s = s.normalize('NFD').replace(NONSPACING_MARK, '');
  if (options.lowercase) {
    let out = '';
    // One code point at a time, as Rust's `char::to_lowercase`: no final-sigma context rule.
    for (const ch of s) out += ch.toLowerCase();
    s = out;
  }
  return s;
}

/** HF BertPreTokenizer: words split on whitespace (dropped) and punctuation (kept alone). */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let current = '';
  for (const ch of text) {
    if (WHITESPACE.test(ch)) {
      if (current) words.push(current);
      current = '';
    } else if (PUNCTUATION.test(ch)) {
      if (current) words.push(current);
      words.push(ch);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current) words.push(current);
  return words;
}

/** A piece of text between added tokens, or an added token. */
export type TextSplit = { text: string; token?: undefined } | { text: string; token: AddedTokenSpec };

function lastCodePoint(s: string): string {
  const cp = s.codePointAt(s.length - 1) ?? 0;
  if (cp >= 0xdc00 && cp <= 0xdfff && s.length >= 2) return s.slice(-2);
  return s.slice(-1);
}

/**
 * Splits `text` on the given added tokens: leftmost-longest, non-overlapping matches (HF uses
 * an Aho-Corasick automaton with LeftmostLongest), honouring `singleWord`, `lstrip` and
 * `rstrip` as `AddedVocabulary::find_matches` does.
 */
export function splitOnAddedTokens(
  text: string,
  patterns: ReadonlyMap<string, AddedTokenSpec>,
  byFirstChar: ReadonlyMap<string, string[]>,
): TextSplit[] {
  if (patterns.size === 0 || text.length === 0) return text.length === 0 ? [] : [{ text }];
  const splits: TextSplit[] = [];
  let offset = 0;
  let i = 0;
  while (i < text.length) {
    const candidates = byFirstChar.get(text[i] ?? '');
    const content = candidates?.find((c) => text.startsWith(c, i));
    const token = content === undefined ? undefined : patterns.get(content);
    if (content === undefined || token === undefined) {
      i++;
      continue;
    }
    let start = i;
    let stop = i + content.length;
    i = stop;
    if (token.singleWord) {
      const before = text.slice(0, start);
      const after = text.slice(stop);
      if ((before && WORD_CHAR.test(lastCodePoint(before))) || (after && WORD_CHAR.test(String.fromCodePoint(after.codePointAt(0) ?? 0))))
        continue;
    }
    if (token.lstrip) {
      let s = start;
      while (s > offset && WHITESPACE.test(text[s - 1] ?? '')) s--;
      start = s;
    }
    if (token.rstrip) {
      while (stop < text.length && WHITESPACE.test(text[stop] ?? '')) stop++;
      i = stop;
    }
    if (offset < start) splits.push({ text: text.slice(offset, start) });
    splits.push({ text: text.slice(start, stop), token });
    offset = stop;
  }
  if (offset < text.length) splits.push({ text: text.slice(offset) });
  return splits;
}

/** Index of `patterns` by first UTF-16 unit, longest first (for {@link splitOnAddedTokens}). */
export function indexByFirstChar(patterns: Iterable<string>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const p of patterns) {
    if (p.length === 0) continue;
    const key = p[0] ?? '';
    const list = index.get(key) ?? [];
    list.push(p);
    index.set(key, list);
  }
  for (const list of index.values()) list.sort((a, b) => b.length - a.length);
  return index;
}
