/**
 * GPT-2's byte-level pieces, shared by the BPE tokenizer and its trainer: the reversible map
 * from the 256 byte values to printable Unicode characters, the pre-tokenization regex, and
 * UTF-8 conversion with the same error handling as Hugging Face `tokenizers`.
 *
 * Reference: openai/gpt-2 `src/encoder.py` (`bytes_to_unicode`, the `pat` regex) and
 * huggingface/tokenizers `pre_tokenizers/byte_level.rs`.
 */

/**
 * `BYTE_TO_CHAR[b]` is the character GPT-2 uses for byte `b`: printable Latin-1 bytes
 * (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to themselves, the other 68 bytes to U+0100 onwards in
 * byte order (so a space, 0x20, becomes `Ġ` U+0120 and a newline `Ċ` U+010A).
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + next++);
  }
  return Object.freeze(table);
})();

/** The inverse of {@link BYTE_TO_CHAR}: the byte of a byte-level character (one UTF-16 unit). */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((ch, b) => [ch, b]));

/**
 * Unicode White_Space, which is what `\s` means in the Oniguruma regex engine Hugging Face
 * `tokenizers` uses. JavaScript's `\s` differs: it lacks U+0085 (NEL) and adds U+FEFF (BOM).
 */
export const WS = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * GPT-2's pre-tokenization pattern,
 * `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
 * with `\s` spelled out as Unicode White_Space (see {@link WS}); global and Unicode-aware.
 */
export const GPT2_PATTERN = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
  'gu',
);

/**
 * Calls `visit` with each pre-token of `text`, in order: the matches of {@link GPT2_PATTERN}
 * and any text between them (the pattern matches every character, so in practice there is
 * none). The pieces concatenate back to `text`.
 */
export function forEachPreToken(text: string, visit: (piece: string) => void): void {
  const re = new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags);
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) visit(text.slice(last, m.index));
    const piece = m[0];
    // Every alternative consumes at least one character, so the regex always advances.
    visit(piece);
    last = m.index + piece.length;
  }
  if (last < text.length) visit(text.slice(last));
}

const utf8Encoder = new TextEncoder();
// `ignoreBOM` keeps a leading U+FEFF (the default would strip it); non-fatal decoding puts one
// U+FFFD per maximal ill-formed subsequence, exactly as Rust's `String::from_utf8_lossy`.
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 bytes of `s`; a lone surrogate becomes the bytes of U+FFFD (as `TextEncoder` does). */
export function utf8Bytes(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Text of UTF-8 `bytes`; each invalid sequence becomes U+FFFD, a leading BOM is kept. */
export function utf8Text(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** The byte-level string of `s`: its UTF-8 bytes, each as its {@link BYTE_TO_CHAR} character. */
export function toByteLevel(s: string): string {
  const bytes = utf8Encoder.encode(s);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i] ?? 0] ?? '';
  return out;
}

/**
 * The bytes a vocabulary token stands for, as the ByteLevel decoder of Hugging Face computes
 * them: each character's byte if every character is a byte-level character, else the token's
 * own UTF-8 bytes.
 */
export function tokenBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i] ?? '');
    if (b === undefined) return utf8Encoder.encode(token);
    out[i] = b;
  }
  return out;
}
