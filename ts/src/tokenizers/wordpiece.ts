/**
 * BERT's WordPiece tokenizer, in TypeScript, matching Hugging Face (`BertTokenizer`, backed
 * by the `tokenizers` library) id for id: BertNormalizer (clean text, CJK splitting,
 * lower-casing and accent stripping), BertPreTokenizer (whitespace and punctuation), greedy
 * longest-match-first WordPiece with `##` continuations and `[UNK]` for a word it cannot
 * cover or longer than 100 characters, special tokens such as `[MASK]` kept whole, and the
 * [CLS] A [SEP] B [SEP] template with segment ids. Loads `vocab.txt` and `tokenizer.json`,
 * writes both, and learns a vocabulary from text like HF's `WordPieceTrainer`.
 */
import { CheckpointError, InvalidArgumentError } from '../errors.js';
import {
  addedTokenCount,
  applyTemplate,
  cleanUpTokenizationSpaces,
  decodeWordPiece,
  truncatePieces,
  type Piece,
  type WordPieceTruncation,
} from './wordpiece-encode.js';
import { parseHuggingFace, toHuggingFaceJSON, type WordPieceHFTokenizerJSON, type WordPieceParts } from './wordpiece-huggingface.js';
import {
  bertNormalize,
  bertPreTokenize,
  indexByFirstChar,
  splitOnAddedTokens,
  toWellFormed,
  type AddedTokenSpec,
} from './wordpiece-text.js';
import { trainWordPieceVocab } from './wordpiece-train.js';
import { bertParts, checkBool, normalizerOf, specialToken } from './wordpiece-vocab.js';

export type { WordPieceTruncation } from './wordpiece-encode.js';
export type { WordPieceHFAddedToken, WordPieceHFTemplatePiece, WordPieceHFTokenizerJSON } from './wordpiece-huggingface.js';

/** The names of the special tokens (defaults: `[UNK]`, `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`). */
export interface WordPieceSpecialTokenNames {
  /** Stands for a word not in the vocabulary. Default `'[UNK]'`. */
  unkToken?: string;
  /** Starts every sequence. Default `'[CLS]'`. */
  clsToken?: string;
  /** Ends each segment. Default `'[SEP]'`. */
  sepToken?: string;
  /** Fills short sequences of a batch. Default `'[PAD]'`. */
  padToken?: string;
  /** The masked-LM placeholder. Default `'[MASK]'`. */
  maskToken?: string;
}

/** Options of {@link WordPieceTokenizer.fromVocabTxt} (HF `BertTokenizer` arguments). */
export interface WordPieceVocabOptions extends WordPieceSpecialTokenNames {
  /** Lower-case the text (uncased models). Default true, as HF `do_lower_case`. */
  lowercase?: boolean;
  /** Strip accents (NFD, drop Mn); default `null` = follow `lowercase`, as in HF. */
  stripAccents?: boolean | null;
  /** Drop control characters and normalise whitespace. Default true. */
  cleanText?: boolean;
  /** Split CJK ideographs into one word each. Default true. */
  handleChineseChars?: boolean;
  /** A longer word becomes `[UNK]`. Default 100. */
  maxInputCharsPerWord?: number;
}

/** Options of {@link WordPieceTokenizer.train}. */
export interface WordPieceTrainOptions extends Omit<WordPieceVocabOptions, 'maxInputCharsPerWord'> {
  /** The vocabulary size to reach (special tokens and the alphabet included). */
  vocabSize: number;
  /** A pair seen fewer times is never merged. Default 0, as HF. */
  minFrequency?: number;
  /** Special tokens, ids 0, 1, … in this order. Default `['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']`. */
  specialTokens?: readonly string[];
}

/** Options of {@link WordPieceTokenizer.encode}. */
export interface WordPieceEncodeOptions {
  /** The length to truncate to and/or pad to, special tokens included. */
  maxLength?: number;
  /** How to truncate to `maxLength`; default `'longest_first'` when `maxLength` is given, else false. */
  truncation?: WordPieceTruncation;
  /** `'max_length'` pads to `maxLength`; `'longest'` pads to the longest sequence (of a batch). Default false. */
  padding?: 'max_length' | 'longest' | false;
  /** Add [CLS] / [SEP] by the post-processor template. Default true. */
  addSpecialTokens?: boolean;
}

/** Options of {@link WordPieceTokenizer.decode}. */
export interface WordPieceDecodeOptions {
  /** Drop special tokens ([CLS], [SEP], [PAD], …). Default false. */
  skipSpecialTokens?: boolean;
  /** transformers' `clean_up_tokenization_spaces` ("a ' s" → "a's", " ." → "."). Default false, as transformers 5. */
  cleanUpTokenizationSpaces?: boolean;
}

/** An encoded text or pair: three arrays of the same length T. */
export interface WordPieceEncoding {
  /** [T] int32 token ids. */
  inputIds: Int32Array;
  /** [T] int32 segment ids: 0 for the first text (and its [CLS] / [SEP]), 1 for the second. */
  tokenTypeIds: Int32Array;
  /** [T] int32: 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
}

/** The serialised form of a {@link WordPieceTokenizer}, as written by `toJSON()`. */
export interface WordPieceTokenizerJSON {
  /** Tells the tokenizers of a checkpoint apart. */
  type: 'wordpiece';
  /** The tokenizer as a Hugging Face `tokenizer.json`. */
  tokenizer: WordPieceHFTokenizerJSON;
  /** The special-token names, for the `clsId` … getters. */
  specialTokens: Required<Omit<WordPieceSpecialTokenNames, 'unkToken'>>;
}

const DEFAULT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** BERT's WordPiece tokenizer (see the module comment). Immutable. */
export class WordPieceTokenizer {
  /** Discriminator of the serialised form. */
  readonly type = 'wordpiece' as const;
  private readonly parts: WordPieceParts;
  private readonly ids: ReadonlyMap<string, number>;
  private readonly specialIds: ReadonlySet<number>;
  private readonly raw: { patterns: Map<string, AddedTokenSpec>; index: Map<string, string[]> };
  private readonly normalized: { patterns: Map<string, AddedTokenSpec>; index: Map<string, string[]> };
  private readonly maxTokenChars: number;
  private readonly names: Required<Omit<WordPieceSpecialTokenNames, 'unkToken'>>;

  private constructor(parts: WordPieceParts, names: WordPieceSpecialTokenNames) {
    this.parts = parts;
    this.ids = new Map(parts.vocab.map((t, i) => [t, i]));
    this.specialIds = new Set(parts.addedTokens.filter((t) => t.special).map((t) => t.id));
    const raw = new Map<string, AddedTokenSpec>();
    const normalized = new Map<string, AddedTokenSpec>();
    for (const t of parts.addedTokens) {
      if (t.normalized) normalized.set(parts.normalizer ? bertNormalize(t.content, parts.normalizer) : t.content, t);
      else raw.set(t.content, t);
    }
    this.raw = { patterns: raw, index: indexByFirstChar(raw.keys()) };
    this.normalized = { patterns: normalized, index: indexByFirstChar(normalized.keys()) };
    let longest = 0;
    for (let id = 0; id < parts.modelVocabSize; id++) longest = Math.max(longest, [...(parts.vocab[id] as string)].length);
    this.maxTokenChars = longest;
    const template = parts.postProcessor?.single.filter((p) => p.kind === 'special') ?? [];
    const first = template[0];
    const last = template[template.length - 1];
    const nameOf = (p: typeof first): string | undefined =>
      p && p.kind === 'special' ? parts.postProcessor?.specialTokens.get(p.token)?.tokens[0] : undefined;
    this.names = {
      clsToken: names.clsToken ?? nameOf(first) ?? '[CLS]',
      sepToken: names.sepToken ?? nameOf(last) ?? '[SEP]',
      padToken: names.padToken ?? '[PAD]',
      maskToken: names.maskToken ?? '[MASK]',
    };
  }

  /**
   * Loads a BERT `vocab.txt` (one token per line, id = line number; trailing whitespace is
   * trimmed as HF does), with the settings HF `BertTokenizer` takes.
   *
   * @throws InvalidArgumentError if the vocabulary is empty, has a duplicate, or lacks the
   *   unk, cls or sep token.
   */
  static fromVocabTxt(text: string, options: WordPieceVocabOptions = {}): WordPieceTokenizer {
    const what = 'WordPieceTokenizer.fromVocabTxt';
    if (typeof text !== 'string') throw new InvalidArgumentError(`${what}: text must be a string, got ${typeof text}`);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) throw new InvalidArgumentError(`${what}: the vocabulary is empty`);
    const vocab = lines.map((line) => line.replace(/\p{White_Space}+$/u, ''));
    return new WordPieceTokenizer(bertParts(vocab, options, what), options);
  }

  /**
   * Loads a Hugging Face `tokenizer.json` (parsed) with a WordPiece model. Special-token
   * names default to those of the post-processor template ([CLS] first, [SEP] last) and
   * `[PAD]` / `[MASK]`; pass them when a model uses others.
   *
   * @throws UnsupportedConfigError naming the field for a model, normalizer, pre-tokenizer,
   *   post-processor or decoder this tokenizer does not implement.
   * @throws CheckpointError if the file is malformed.
   */
  static fromHuggingFace(json: unknown, names: WordPieceSpecialTokenNames = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(parseHuggingFace(json), names);
  }

  /**
   * Learns a vocabulary from `texts` as HF `tokenizers`' `WordPieceTrainer` does: the BPE
   * trainer with `##` continuations, merging the most **frequent** pair each step (not the
   * WordPiece likelihood score), until `vocabSize` tokens; see `wordpiece-train.ts`.
   * Deterministic: words are taken in order of first occurrence.
   *
   * @throws InvalidArgumentError on bad options, or if `specialTokens` lacks the unk, cls or sep token.
   */
  static train(texts: Iterable<string>, options: WordPieceTrainOptions): WordPieceTokenizer {
    const what = 'WordPieceTokenizer.train';
    if (texts === null || typeof texts !== 'object' || typeof (texts as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError(`${what}: texts must be an iterable of strings`);
    }
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`${what}: options { vocabSize } are required`);
    const { vocabSize, minFrequency = 0, specialTokens = DEFAULT_SPECIALS } = options;
    if (!Number.isInteger(vocabSize) || vocabSize < 1)
      throw new InvalidArgumentError(`${what}: vocabSize must be an integer >= 1, got ${vocabSize}`);
    if (!Number.isInteger(minFrequency) || minFrequency < 0)
      throw new InvalidArgumentError(`${what}: minFrequency must be an integer >= 0, got ${minFrequency}`);
    if (!Array.isArray(specialTokens) || specialTokens.some((t) => typeof t !== 'string' || t.length === 0)) {
      throw new InvalidArgumentError(`${what}: specialTokens must be an array of non-empty strings`);
    }
    const normalizer = normalizerOf(options, what);
    const wordCounts = new Map<string, number>();
    let i = 0;
    for (const text of texts) {
      if (typeof text !== 'string') throw new InvalidArgumentError(`${what}: texts[${i}] must be a string, got ${typeof text}`);
      for (const word of bertPreTokenize(bertNormalize(toWellFormed(text), normalizer)))
        wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
      i++;
    }
    const vocab = trainWordPieceVocab({
      wordCounts,
      specialTokens: [...new Set(specialTokens)],
      vocabSize,
      minFrequency,
      continuingSubwordPrefix: '##',
    });
    const parts = bertParts(vocab, options, what);
    // Every special token of the trainer is an added (special) token, as HF registers them.
    const present = new Set(parts.addedTokens.map((t) => t.content));
    for (const t of specialTokens) if (!present.has(t)) parts.addedTokens.push(specialToken(vocab.indexOf(t), t));
    parts.addedTokens.sort((x, y) => x.id - y.id);
    return new WordPieceTokenizer(parts, options);
  }

  /**
   * Restores a tokenizer saved with {@link WordPieceTokenizer.toJSON} (after `JSON.parse`).
   *
   * @throws CheckpointError if `json` does not have that shape.
   */
  static fromJSON(json: unknown): WordPieceTokenizer {
    const what = 'WordPieceTokenizer.fromJSON';
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CheckpointError(
        `${what}: expected an object { type: 'wordpiece', tokenizer, specialTokens }, got ${json === null ? 'null' : typeof json}`,
      );
    }
    const { type, tokenizer, specialTokens } = json as { type?: unknown; tokenizer?: unknown; specialTokens?: unknown };
    if (type !== 'wordpiece') throw new CheckpointError(`${what}: expected type 'wordpiece', got ${JSON.stringify(type) ?? String(type)}`);
    const names = (specialTokens ?? {}) as Record<string, unknown>;
    const keys = ['clsToken', 'sepToken', 'padToken', 'maskToken'] as const;
    if (typeof names !== 'object' || keys.some((k) => typeof names[k] !== 'string')) {
      throw new CheckpointError(`${what}: specialTokens must be { clsToken, sepToken, padToken, maskToken } strings`);
    }
    return new WordPieceTokenizer(parseHuggingFace(tokenizer), names as WordPieceSpecialTokenNames);
  }

  /** V, the number of tokens (added tokens included). */
  get vocabSize(): number {
    return this.parts.vocab.length;
  }

  /** The vocabulary: `vocab[id]` is the token of `id` (a copy). */
  get vocab(): string[] {
    return [...this.parts.vocab];
  }

  /** The id of `token`, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The token of `id`, or undefined. */
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) ? this.parts.vocab[id] : undefined;
  }

  private specialId(name: string, kind: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new InvalidArgumentError(`WordPieceTokenizer: the vocabulary has no ${kind} token ${JSON.stringify(name)}`);
    return id;
  }

  /** Id of the [CLS] token. @throws InvalidArgumentError if the vocabulary has none. */
  get clsId(): number {
    return this.specialId(this.names.clsToken, 'cls');
  }
  /** Id of the [SEP] token. @throws InvalidArgumentError if the vocabulary has none. */
  get sepId(): number {
    return this.specialId(this.names.sepToken, 'sep');
  }
  /** Id of the [PAD] token. @throws InvalidArgumentError if the vocabulary has none. */
  get padId(): number {
    return this.specialId(this.names.padToken, 'pad');
  }
  /** Id of the [MASK] token. @throws InvalidArgumentError if the vocabulary has none. */
  get maskId(): number {
    return this.specialId(this.names.maskToken, 'mask');
  }
  /** Id of the [UNK] token. */
  get unkId(): number {
    return this.specialId(this.parts.unkToken, 'unk');
  }

  /** Greedy longest-match-first WordPiece of one pre-tokenized word. */
  private wordPiece(word: string, out: Piece): void {
    const chars = Array.from(word);
    const { vocab, modelVocabSize, unkToken, continuingSubwordPrefix: prefix, maxInputCharsPerWord } = this.parts;
    const unk = (): void => {
      out.ids.push(this.ids.get(unkToken) as number);
      out.tokens.push(unkToken);
    };
    if (chars.length > maxInputCharsPerWord) {
      unk();
      return;
    }
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = Math.min(chars.length, start + this.maxTokenChars);
      let found = -1;
      while (start < end) {
        const sub = (start > 0 ? prefix : '') + chars.slice(start, end).join('');
        const id = this.ids.get(sub);
        if (id !== undefined && id < modelVocabSize) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) {
        unk();
        return;
      }
      ids.push(found);
      start = end;
    }
    for (const id of ids) {
      out.ids.push(id);
      out.tokens.push(vocab[id] as string);
    }
  }

  /** One text → ids and tokens, without special tokens around it. */
  private encodeText(text: string, what: string): Piece {
    if (typeof text !== 'string') throw new InvalidArgumentError(`${what}: text must be a string, got ${typeof text}`);
    const out: Piece = { ids: [], tokens: [] };
    const add = (t: AddedTokenSpec): void => {
      out.ids.push(t.id);
      out.tokens.push(t.content);
    };
    for (const split of splitOnAddedTokens(toWellFormed(text), this.raw.patterns, this.raw.index)) {
      if (split.token) {
        add(split.token);
        continue;
      }
      const normalized = this.parts.normalizer ? bertNormalize(split.text, this.parts.normalizer) : split.text;
      for (const part of splitOnAddedTokens(normalized, this.normalized.patterns, this.normalized.index)) {
        if (part.token) add(part.token);
        else for (const word of bertPreTokenize(part.text)) this.wordPiece(word, out);
      }
    }
    return out;
  }

  /** The tokens of `text` (no [CLS] / [SEP]), as HF `tokenizer.tokenize(text)`. */
  tokenize(text: string): string[] {
    return this.encodeText(text, 'WordPieceTokenizer.tokenize').tokens;
  }

  /**
   * Encodes a text, or a pair of texts, as HF `tokenizer(text, pair, …)`: truncation to
   * `maxLength` (special tokens counted), `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` with
   * segment ids 0 / 1, then padding with `[PAD]` (mask 0) on the right.
   *
   * @returns inputIds, tokenTypeIds, attentionMask: [T] int32 each.
   * @throws InvalidArgumentError on a bad option, if `maxLength` cannot hold the special
   *   tokens, or if `only_first` / `only_second` cannot truncate enough (as HF raises).
   */
  encode(text: string, pair?: string, options: WordPieceEncodeOptions = {}): WordPieceEncoding {
    const what = 'WordPieceTokenizer.encode';
    const { maxLength, padding = false, addSpecialTokens = true } = options;
    const truncation = options.truncation ?? (maxLength !== undefined ? 'longest_first' : false);
    if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 0)) {
      throw new InvalidArgumentError(`${what}: maxLength must be an integer >= 0, got ${maxLength}`);
    }
    if (truncation !== false && truncation !== 'longest_first' && truncation !== 'only_first' && truncation !== 'only_second') {
      throw new InvalidArgumentError(
        `${what}: truncation must be 'longest_first', 'only_first', 'only_second' or false, got ${JSON.stringify(truncation)}`,
      );
    }
    if (padding !== false && padding !== 'max_length' && padding !== 'longest') {
      throw new InvalidArgumentError(`${what}: padding must be 'max_length', 'longest' or false, got ${JSON.stringify(padding)}`);
    }
    checkBool(addSpecialTokens, 'addSpecialTokens', what);
    if ((truncation !== false || padding === 'max_length') && maxLength === undefined) {
      throw new InvalidArgumentError(
        `${what}: truncation ${JSON.stringify(truncation)} / padding ${JSON.stringify(padding)} need maxLength`,
      );
    }
    if (pair !== undefined && typeof pair !== 'string')
      throw new InvalidArgumentError(`${what}: pair must be a string or undefined, got ${typeof pair}`);
    const a = this.encodeText(text, what);
    const b = pair === undefined ? null : this.encodeText(pair, what);
    const pp = this.parts.postProcessor;
    if (truncation !== false && maxLength !== undefined) {
      const added = addSpecialTokens ? addedTokenCount(pp, b !== null) : 0;
      if (maxLength < added) throw new InvalidArgumentError(`${what}: maxLength ${maxLength} cannot hold the ${added} special tokens`);
      truncatePieces(a, b, maxLength - added, truncation);
    }
    const { ids, typeIds } = applyTemplate(pp, a, b, addSpecialTokens);
    const length = padding === 'max_length' && maxLength !== undefined ? Math.max(maxLength, ids.length) : ids.length;
    return this.padded(ids, typeIds, length);
  }

  private padded(ids: readonly number[], typeIds: readonly number[], length: number): WordPieceEncoding {
    const inputIds = new Int32Array(length);
    const tokenTypeIds = new Int32Array(length);
    const attentionMask = new Int32Array(length);
    if (length > ids.length) inputIds.fill(this.padId);
    inputIds.set(ids);
    tokenTypeIds.set(typeIds);
    attentionMask.fill(1, 0, ids.length);
    return { inputIds, tokenTypeIds, attentionMask };
  }

  /**
   * Encodes a batch of texts or `[text, pair]` tuples; `padding` defaults to `'longest'`
   * (every row padded to the longest), `'max_length'` pads to `maxLength`.
   *
   * @returns one encoding per input, all of the same length T unless `padding` is false.
   */
  encodeBatch(inputs: readonly (string | readonly [string, string])[], options: WordPieceEncodeOptions = {}): WordPieceEncoding[] {
    if (!Array.isArray(inputs))
      throw new InvalidArgumentError('WordPieceTokenizer.encodeBatch: inputs must be an array of texts or [text, pair] tuples');
    const { padding = 'longest' } = options;
    const rows = inputs.map((input, i) => {
      if (typeof input === 'string') return this.encode(input, undefined, { ...options, padding: false });
      if (Array.isArray(input) && input.length === 2) return this.encode(input[0], input[1], { ...options, padding: false });
      throw new InvalidArgumentError(`WordPieceTokenizer.encodeBatch: inputs[${i}] must be a string or a [text, pair] tuple`);
    });
    if (padding === false) return rows;
    if (padding === 'max_length' && options.maxLength === undefined)
      throw new InvalidArgumentError("WordPieceTokenizer.encodeBatch: padding 'max_length' needs maxLength");
    const longest = Math.max(0, ...rows.map((r) => r.inputIds.length));
    const target = padding === 'max_length' ? Math.max(options.maxLength ?? 0, longest) : longest;
    return rows.map((r) => this.padded(Array.from(r.inputIds), Array.from(r.tokenTypeIds), target));
  }

  /**
   * Turns ids back into text as HF `decode`: `##` pieces are glued to the previous token,
   * other tokens separated by a space, with the decoder's clean-up (" ." → ".", …).
   *
   * @param ids - [N] integer ids, each in [0, vocabSize).
   * @throws InvalidArgumentError naming the first id that is not an integer in range.
   */
  decode(ids: ArrayLike<number>, options: WordPieceDecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new InvalidArgumentError('WordPieceTokenizer.decode: ids must be an array-like of token ids');
    }
    const { skipSpecialTokens = false, cleanUpTokenizationSpaces: cleanUp = false } = options;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const token = typeof id === 'number' && Number.isInteger(id) ? this.parts.vocab[id] : undefined;
      if (token === undefined) {
        throw new InvalidArgumentError(
          `WordPieceTokenizer.decode: ids[${i}] = ${String(id)} is not a token id; expected an integer in [0, ${this.vocabSize})`,
        );
      }
      if (skipSpecialTokens && this.specialIds.has(id as number)) continue;
      tokens.push(token);
    }
    const text = decodeWordPiece(tokens, this.parts.decoder);
    return cleanUp ? cleanUpTokenizationSpaces(text) : text;
  }

  /**
   * The vocabulary as `vocab.txt` (one token per line, newline-terminated), as HF writes it.
   *
   * @throws InvalidArgumentError if a token cannot be a line (it contains a line break or ends in whitespace).
   */
  toVocabTxt(): string {
    const lines = this.parts.vocab.slice(0, this.parts.modelVocabSize);
    lines.forEach((t, id) => {
      if (/[\n\r]|\p{White_Space}$/u.test(t)) {
        throw new InvalidArgumentError(
          `WordPieceTokenizer.toVocabTxt: token ${id} ${JSON.stringify(t)} cannot be written as a vocab.txt line`,
        );
      }
    });
    return lines.map((t) => `${t}\n`).join('');
  }

  /** The tokenizer as a Hugging Face `tokenizer.json` object (`JSON.stringify` it to save). */
  toHuggingFace(): WordPieceHFTokenizerJSON {
    return toHuggingFaceJSON(this.parts);
  }

  /** The serialisable form; `WordPieceTokenizer.fromJSON(JSON.parse(JSON.stringify(t)))` restores `t`. */
  toJSON(): WordPieceTokenizerJSON {
    return { type: 'wordpiece', tokenizer: this.toHuggingFace(), specialTokens: { ...this.names } };
  }
}
