/**
 * Character-level tokenizer, as in nanoGPT's `shakespeare_char`: one token per Unicode code
 * point. Text is iterated with `for..of`, so an astral character such as "😀" (two UTF-16 code
 * units) is a single token.
 */
import { CheckpointError, InvalidArgumentError } from '../errors.js';

/** The serialised form of a {@link CharTokenizer}, as written by `toJSON()`. */
export interface CharTokenizerJSON {
  /** Tells the tokenizers of a checkpoint apart. */
  type: 'char';
  /** `vocab[id]` is the character of token `id`; each entry is exactly one code point. */
  vocab: string[];
}

type ErrorClass = new (message: string) => Error;

/** True if `s` is exactly one code point (a BMP unit, a surrogate pair or a lone surrogate). */
function isOneCodePoint(s: string): boolean {
  if (s.length === 0 || s.length > 2) return false;
  const cp = s.codePointAt(0) ?? 0;
  return s.length === (cp > 0xffff ? 2 : 1);
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** Maps each Unicode code point of a fixed vocabulary to an int32 token id and back. */
export class CharTokenizer {
  /** Discriminator of the serialised form. */
  readonly type = 'char' as const;
  private readonly chars: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  private constructor(vocab: readonly string[], what: string, ErrorType: ErrorClass) {
    if (vocab.length === 0) throw new ErrorType(`${what}: the vocabulary is empty; expected at least one character`);
    const ids = new Map<string, number>();
    vocab.forEach((ch, id) => {
      if (typeof ch !== 'string' || !isOneCodePoint(ch)) {
        throw new ErrorType(
          `${what}: vocab[${id}] must be a string of exactly one Unicode character, got ${JSON.stringify(ch) ?? String(ch)}`,
        );
      }
      const previous = ids.get(ch);
      if (previous !== undefined) {
        throw new ErrorType(`${what}: vocab[${id}] ${describeChar(ch)} duplicates vocab[${previous}]; characters must be unique`);
      }
      ids.set(ch, id);
    });
    this.chars = Object.freeze([...vocab]);
    this.ids = ids;
  }

  /**
   * Builds the vocabulary from every distinct code point in `text`, sorted by code point
   * (token ids are stable for a given set of characters).
   *
   * @throws InvalidArgumentError if `text` is not a string or is empty.
   */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string') {
      throw new InvalidArgumentError(`CharTokenizer.fromText: text must be a string, got ${typeof text}`);
    }
    const unique = new Set<string>();
    for (const ch of text) unique.add(ch);
    const vocab = [...unique].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
    return new CharTokenizer(vocab, 'CharTokenizer.fromText', InvalidArgumentError);
  }

  /**
   * Builds a tokenizer from an explicit vocabulary; `vocab[id]` becomes token `id`.
   *
   * @param vocab - non-empty, unique, one code point per entry.
   * @throws InvalidArgumentError if the vocabulary is empty, has duplicates or a multi-character entry.
   */
  static fromVocab(vocab: readonly string[]): CharTokenizer {
    if (!Array.isArray(vocab)) throw new InvalidArgumentError('CharTokenizer.fromVocab: vocab must be an array of strings');
    return new CharTokenizer(vocab, 'CharTokenizer.fromVocab', InvalidArgumentError);
  }

  /**
   * Restores a tokenizer saved with {@link CharTokenizer.toJSON} (after `JSON.parse`). Token
   * ids are kept exactly as saved.
   *
   * @param json - an object `{ type: 'char', vocab: string[] }`.
   * @throws CheckpointError if `json` does not have that shape or the vocabulary is invalid.
   */
  static fromJSON(json: unknown): CharTokenizer {
    const what = 'CharTokenizer.fromJSON';
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CheckpointError(
        `${what}: expected an object { type: 'char', vocab: string[] }, got ${json === null ? 'null' : typeof json}`,
      );
    }
    const { type, vocab } = json as { type?: unknown; vocab?: unknown };
    if (type !== 'char') {
      throw new CheckpointError(`${what}: expected type 'char', got ${JSON.stringify(type) ?? String(type)}`);
    }
    if (!Array.isArray(vocab)) {
      throw new CheckpointError(`${what}: expected vocab to be an array of strings, got ${typeof vocab}`);
    }
    return new CharTokenizer(vocab as unknown[] as string[], what, CheckpointError);
  }

  /** V, the number of tokens. */
  get vocabSize(): number {
    return this.chars.length;
  }

  /** The vocabulary: `vocab[id]` is the character of token `id` (frozen). */
  get vocab(): readonly string[] {
    return this.chars;
  }

  /**
   * Turns text into token ids, one per code point.
   *
   * @returns [N] int32 ids, N = number of code points in `text`.
   * @throws InvalidArgumentError naming the first character not in the vocabulary and its
   *   index (UTF-16 code unit offset, as `text.slice` counts).
   */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') {
      throw new InvalidArgumentError(`CharTokenizer.encode: text must be a string, got ${typeof text}`);
    }
    const out = new Int32Array(text.length);
    let n = 0;
    let index = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new InvalidArgumentError(
          `CharTokenizer.encode: character ${describeChar(ch)} at index ${index} is not in the vocabulary ` +
            `(${this.chars.length} characters); expected only characters seen when the tokenizer was built`,
        );
      }
      out[n++] = id;
      index += ch.length;
    }
    return out.slice(0, n);
  }

  /**
   * Turns token ids back into text.
   *
   * @param ids - [N] integer ids, each in [0, vocabSize).
   * @throws InvalidArgumentError naming the first id that is not an integer in range and its position.
   */
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new InvalidArgumentError('CharTokenizer.decode: ids must be an array-like of token ids');
    }
    const V = this.chars.length;
    const parts: string[] = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const ch = typeof id === 'number' && Number.isInteger(id) ? this.chars[id] : undefined;
      if (ch === undefined) {
        throw new InvalidArgumentError(
          `CharTokenizer.decode: ids[${i}] = ${String(id)} is not a token id; expected an integer in [0, ${V})`,
        );
      }
      parts[i] = ch;
    }
    return parts.join('');
  }

  /** The serialisable form; `CharTokenizer.fromJSON(JSON.parse(JSON.stringify(t)))` restores `t`. */
  toJSON(): CharTokenizerJSON {
    return { type: 'char', vocab: [...this.chars] };
  }
}
