/**
 * GPT-2 style byte-level BPE tokenizer in plain TypeScript: text is split by GPT-2's regex,
 * each piece's UTF-8 bytes become byte-level characters, and learned merges join them into
 * tokens. Ids are identical to Hugging Face `tokenizers` / transformers' `GPT2TokenizerFast`
 * for the same files (a parity test checks this).
 *
 * Text that is not well-formed UTF-16 cannot be represented in UTF-8: a lone surrogate is
 * encoded as U+FFFD (as `TextEncoder` does), so `decode(encode(s)) === s` holds for every
 * string without lone surrogates. Ids whose bytes are not valid UTF-8 (e.g. half of a
 * multi-byte character) decode with U+FFFD per invalid sequence, as HF's `from_utf8_lossy`.
 */
import { CheckpointError, InvalidArgumentError, UnsupportedConfigError } from '../errors.js';
import { learnMerges } from './bpe-train.js';
import {
  buildHuggingFace,
  parseHuggingFace,
  parseMergeList,
  parseMergesText,
  parseVocab,
  type BpeParts,
  type BpeSpecialToken,
  type HuggingFaceTokenizerJSON,
} from './bpe-huggingface.js';
import { mergeWord, PAIR_BASE, type MergeTable } from './bpe-word.js';
import { BYTE_TO_CHAR, forEachPreToken, toByteLevel, tokenBytes, utf8Bytes, utf8Text } from './byte-level.js';

export type { BpeSpecialToken, HuggingFaceAddedToken, HuggingFaceByteLevel, HuggingFaceTokenizerJSON } from './bpe-huggingface.js';

/** Options of {@link BpeTokenizer.train}. */
export interface BpeTrainOptions {
  /** V, the number of tokens wanted: special tokens + 256 byte tokens + merges; at least 256 + specials. */
  vocabSize: number;
  /** Tokens matched verbatim before pre-tokenization (e.g. `<|endoftext|>`); they get ids 0, 1, … */
  specialTokens?: readonly string[];
  /** A pair occurring fewer times than this is not merged, so V may end up smaller (default 2). */
  minFrequency?: number;
}

/** Options of {@link BpeTokenizer.decode}. */
export interface BpeDecodeOptions {
  /** Leave out tokens flagged special (default false: they appear as written). */
  skipSpecialTokens?: boolean;
}

/** Options of {@link BpeTokenizer.fromVocabMerges}. */
export interface BpeVocabMergesOptions {
  /**
   * Tokens matched verbatim before pre-tokenization. Each keeps its id from `vocab.json`, or
   * is appended after the highest id if absent. Default: `['<|endoftext|>']` when the
   * vocabulary has it (as transformers' GPT2Tokenizer), else none.
   */
  specialTokens?: readonly string[];
}

/** The serialised form of a {@link BpeTokenizer}, as written by `toJSON()`. */
export interface BpeTokenizerJSON {
  type: 'bpe';
  /** The model vocabulary: byte-level token string → id. */
  vocab: Record<string, number>;
  /** The merges in rank order. */
  merges: [string, string][];
  /** Tokens matched before pre-tokenization, with their ids. */
  specialTokens: BpeSpecialToken[];
  /** The token used for a byte without a token of its own (never needed when all 256 bytes are in the vocabulary). */
  unkToken: string | null;
  /** Runs of unknown bytes become one `unkToken`. */
  fuseUnk: boolean;
}

/** GPT-2's `vocab.json` (token → id) and `merges.txt` (text), as {@link BpeTokenizer.toVocabMerges} returns them. */
export interface BpeVocabMerges {
  vocab: Record<string, number>;
  merges: string;
}

type ErrorClass = new (message: string) => Error;

/** Pre-tokens remembered with their ids; the cache is emptied when it reaches this size. */
const CACHE_LIMIT = 100_000;

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A growable int32 buffer. */
class IdBuffer {
  data = new Int32Array(1024);
  length = 0;

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  pushAll(ids: Int32Array): void {
    const n = ids.length;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    // Most pre-tokens are one or two tokens: a loop beats TypedArray.set for those.
    if (n <= 8) {
      for (let i = 0; i < n; i++) this.data[this.length + i] = ids[i] as number;
    } else {
      this.data.set(ids, this.length);
    }
    this.length += n;
  }

  private grow(needed: number): void {
    const next = new Int32Array(Math.max(needed, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

/** Maps text to byte-level BPE token ids and back. */
export class BpeTokenizer {
  /** Discriminator of the serialised form. */
  readonly type = 'bpe' as const;
  private readonly parts: BpeParts;
  private readonly tokens: (string | undefined)[];
  private readonly table: MergeTable;
  /** Token id of each byte value, or -1. */
  private readonly byteIds = new Int32Array(256);
  private readonly unkId: number;
  private readonly specialById = new Map<number, BpeSpecialToken>();
  private readonly specialIds = new Map<string, number>();
  private readonly specialPattern: RegExp | undefined;
  private readonly bytesById: (Uint8Array | undefined)[] = [];
  private readonly cache = new Map<string, Int32Array>();

  private constructor(parts: BpeParts, what: string, ErrorType: ErrorClass) {
    const fail = (message: string): Error => new ErrorType(`${what}: ${message}`);
    const tokens: (string | undefined)[] = [];
    for (const [token, id] of parts.vocab) {
      if (id >= PAIR_BASE) throw fail(`token id ${id} of ${show(token)} is too large; ids must be below ${PAIR_BASE}`);
      const other = tokens[id];
      if (other !== undefined) throw fail(`tokens ${show(other)} and ${show(token)} have the same id ${id}`);
      tokens[id] = token;
    }
    for (const special of parts.specialTokens) {
      const { id, content } = special;
      if (typeof content !== 'string' || content.length === 0) throw fail(`special token ${id} must be a non-empty string`);
      if (!Number.isInteger(id) || id < 0 || id >= PAIR_BASE) throw fail(`special token ${show(content)} has id ${show(id)}; expected an integer in [0, ${PAIR_BASE})`);
      const vocabId = parts.vocab.get(content);
      if (vocabId !== undefined && vocabId !== id) throw fail(`special token ${show(content)} has id ${id} but the vocabulary gives it ${vocabId}`);
      if (this.specialIds.has(content)) throw fail(`special token ${show(content)} is listed twice`);
      const holder = this.specialById.get(id)?.content ?? tokens[id];
      if (holder !== undefined && holder !== content) throw fail(`special token ${show(content)} has id ${id}, which belongs to ${show(holder)}`);
      tokens[id] = content;
      this.specialById.set(id, special);
      this.specialIds.set(content, id);
    }
    const ranks = new Map<number, number>();
    const results = new Int32Array(parts.merges.length);
    parts.merges.forEach(([a, b], rank) => {
      const left = parts.vocab.get(a);
      const right = parts.vocab.get(b);
      const merged = parts.vocab.get(a + b);
      if (left === undefined || right === undefined || merged === undefined) {
        const missing = left === undefined ? a : right === undefined ? b : a + b;
        throw fail(`merge ${rank} (${show(a)} ${show(b)}) uses ${show(missing)}, which is not in the vocabulary`);
      }
      // A repeated merge takes the last rank, as in Hugging Face's merge map.
      ranks.set(left * PAIR_BASE + right, rank);
      results[rank] = merged;
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = parts.vocab.get(BYTE_TO_CHAR[b] ?? '') ?? -1;
    this.unkId = -1;
    if (parts.unkToken !== null) {
      const unk = parts.vocab.get(parts.unkToken);
      if (unk === undefined) throw fail(`the unknown token ${show(parts.unkToken)} is not in the vocabulary`);
      this.unkId = unk;
    }
    // Longest first, so that alternation order gives leftmost-longest matches.
    const contents = [...this.specialIds.keys()].sort((a, b) => b.length - a.length);
    this.specialPattern = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
    this.tokens = tokens;
    this.table = { ranks, results };
    this.parts = {
      vocab: new Map(parts.vocab),
      merges: parts.merges.map(([a, b]) => [a, b]),
      specialTokens: parts.specialTokens.map((s) => Object.freeze({ ...s })),
      unkToken: parts.unkToken,
      fuseUnk: parts.fuseUnk,
    };
    for (const merge of this.parts.merges) Object.freeze(merge);
    Object.freeze(this.parts.merges);
    Object.freeze(this.parts.specialTokens);
  }

  /**
   * Learns a vocabulary from text, as Hugging Face's `BpeTrainer` with GPT-2's ByteLevel
   * pre-tokenizer does (same merges, same ids for the same pre-token counts): pair counts over
   * pre-token frequencies, updated incrementally after each merge; ties go to the pair of
   * smaller ids. Special tokens are cut out of the text first (HF's trainer counts them as
   * ordinary text).
   *
   * @param text - the training text, or several documents (no pre-token spans two of them).
   * @throws InvalidArgumentError for a non-string text, a `vocabSize` below 256 + the number of
   *   special tokens, a bad `minFrequency`, or empty / duplicate special tokens.
   */
  static train(text: string | readonly string[], options: BpeTrainOptions): BpeTokenizer {
    const what = 'BpeTokenizer.train';
    const docs = typeof text === 'string' ? [text] : text;
    if (!Array.isArray(docs) || docs.some((d) => typeof d !== 'string')) {
      throw new InvalidArgumentError(`${what}: text must be a string or an array of strings`);
    }
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${what}: options { vocabSize } are required`);
    const specials = options.specialTokens ?? [];
    if (!Array.isArray(specials) || specials.some((s) => typeof s !== 'string' || s.length === 0) || new Set(specials).size !== specials.length) {
      throw new InvalidArgumentError(`${what}: specialTokens must be an array of distinct non-empty strings, got ${show(specials)}`);
    }
    const { vocabSize } = options;
    const minimum = 256 + specials.length;
    if (typeof vocabSize !== 'number' || !Number.isInteger(vocabSize) || vocabSize < minimum || vocabSize > PAIR_BASE) {
      throw new InvalidArgumentError(
        `${what}: vocabSize must be an integer in [${minimum}, ${PAIR_BASE}] (256 byte tokens + ${specials.length} special), got ${show(vocabSize)}`,
      );
    }
    const minFrequency = options.minFrequency ?? 2;
    if (typeof minFrequency !== 'number' || !Number.isInteger(minFrequency) || minFrequency < 0) {
      throw new InvalidArgumentError(`${what}: minFrequency must be a non-negative integer, got ${show(minFrequency)}`);
    }
    const pieces = new Map<string, number>();
    const count = (piece: string): void => {
      pieces.set(piece, (pieces.get(piece) ?? 0) + 1);
    };
    const pattern = specials.length > 0
      ? new RegExp([...specials].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g')
      : undefined;
    for (const doc of docs) {
      for (const segment of pattern ? doc.split(pattern) : [doc]) forEachPreToken(segment, count);
    }
    // Distinct pieces can share a byte-level form (a lone surrogate and U+FFFD), so add up.
    const words = new Map<string, number>();
    for (const [piece, n] of pieces) {
      const word = toByteLevel(piece);
      words.set(word, (words.get(word) ?? 0) + n);
    }
    const learned = learnMerges(words, specials, vocabSize, minFrequency);
    return new BpeTokenizer({
      vocab: new Map(learned.vocab.map((token, id) => [token, id])),
      merges: learned.merges,
      specialTokens: specials.map((content, id) => ({ id, content, special: true })),
      unkToken: null,
      fuseUnk: false,
    }, what, InvalidArgumentError);
  }

  /**
   * Restores a tokenizer saved with {@link BpeTokenizer.toJSON} (after `JSON.parse`).
   *
   * @throws CheckpointError if `json` does not have that shape or is inconsistent (a merge of
   *   tokens not in the vocabulary, two tokens with one id, …).
   */
  static fromJSON(json: unknown): BpeTokenizer {
    const what = 'BpeTokenizer.fromJSON';
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CheckpointError(`${what}: expected an object { type: 'bpe', vocab, merges, specialTokens }, got ${json === null ? 'null' : typeof json}`);
    }
    const j = json as Partial<Record<keyof BpeTokenizerJSON, unknown>>;
    if (j.type !== 'bpe') throw new CheckpointError(`${what}: expected type 'bpe', got ${show(j.type)}`);
    const specials = j.specialTokens ?? [];
    if (!Array.isArray(specials) || specials.some((s: unknown) => typeof s !== 'object' || s === null)) {
      throw new CheckpointError(`${what}: specialTokens must be an array of { id, content, special }`);
    }
    if (j.unkToken !== undefined && j.unkToken !== null && typeof j.unkToken !== 'string') {
      throw new CheckpointError(`${what}: unkToken must be a string or null, got ${show(j.unkToken)}`);
    }
    return new BpeTokenizer({
      vocab: parseVocab(j.vocab, what),
      merges: parseMergeList(j.merges, what),
      specialTokens: (specials as Record<string, unknown>[]).map((s) => ({
        id: s.id as number, content: s.content as string, special: s.special !== false,
      })),
      unkToken: j.unkToken ?? null,
      fuseUnk: j.fuseUnk === true,
    }, what, CheckpointError);
  }

  /**
   * Loads GPT-2's files: `vocab.json` (parsed) and the text of `merges.txt`.
   *
   * @throws CheckpointError if a merge line is malformed or uses a token missing from the vocabulary.
   */
  static fromVocabMerges(vocab: Record<string, number>, merges: string, options: BpeVocabMergesOptions = {}): BpeTokenizer {
    const what = 'BpeTokenizer.fromVocabMerges';
    const map = parseVocab(vocab, what);
    const requested = options.specialTokens ?? (map.has('<|endoftext|>') ? ['<|endoftext|>'] : []);
    if (!Array.isArray(requested) || requested.some((s) => typeof s !== 'string')) {
      throw new CheckpointError(`${what}: specialTokens must be an array of strings`);
    }
    let next = 0;
    for (const id of map.values()) next = Math.max(next, id + 1);
    const specialTokens = requested.map((content) => ({ id: map.get(content) ?? next++, content, special: true }));
    return new BpeTokenizer({ vocab: map, merges: parseMergesText(merges, what), specialTokens, unkToken: null, fuseUnk: false }, what, CheckpointError);
  }

  /**
   * Loads a Hugging Face `tokenizer.json` (after `JSON.parse`) of a byte-level BPE tokenizer
   * (GPT-2, RoBERTa-style, or one trained with `ByteLevelBPETokenizer`). Every entry of
   * `added_tokens` becomes a token matched before pre-tokenization, keeping its `special` flag.
   *
   * @throws UnsupportedConfigError (a CheckpointError) naming the field for anything else: a
   *   Metaspace / sentencepiece tokenizer, a normalizer, `byte_fallback`, dropout,
   *   `add_prefix_space`, a TemplateProcessing post-processor, …
   * @throws CheckpointError if the file is malformed or inconsistent.
   */
  static fromHuggingFace(json: unknown): BpeTokenizer {
    return new BpeTokenizer(parseHuggingFace(json), 'BpeTokenizer.fromHuggingFace', CheckpointError);
  }

  /** V: one more than the highest token id (special tokens included). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The merges in rank order, as pairs of byte-level token strings (frozen). */
  get merges(): readonly (readonly [string, string])[] {
    return this.parts.merges;
  }

  /** The tokens matched before pre-tokenization (frozen). */
  get specialTokens(): readonly BpeSpecialToken[] {
    return this.parts.specialTokens;
  }

  /** The id of a token given as its byte-level string (`'Ġthe'`) or a special token's text, if any. */
  tokenToId(token: string): number | undefined {
    return this.specialIds.get(token) ?? this.parts.vocab.get(token);
  }

  /** The byte-level string (or special token text) of an id, if the id is in use. */
  idToToken(id: number): string | undefined {
    return Number.isInteger(id) ? this.tokens[id] : undefined;
  }

  /**
   * Turns text into token ids: special tokens are matched first (leftmost, longest), the rest
   * is split by GPT-2's regex and each piece's UTF-8 bytes are merged by rank.
   *
   * @returns [N] int32 token ids.
   * @throws InvalidArgumentError if `text` is not a string, or it has a byte that has no token
   *   and the tokenizer has no unknown token (never for a tokenizer from `train`).
   */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new InvalidArgumentError(`BpeTokenizer.encode: text must be a string, got ${typeof text}`);
    const out = new IdBuffer();
    const visit = (piece: string): void => out.pushAll(this.cache.get(piece) ?? this.encodePiece(piece));
    const pattern = this.specialPattern;
    if (pattern === undefined) {
      forEachPreToken(text, visit);
    } else {
      pattern.lastIndex = 0;
      let last = 0;
      for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
        forEachPreToken(text.slice(last, m.index), visit);
        out.push(this.specialIds.get(m[0]) as number);
        last = m.index + m[0].length;
      }
      forEachPreToken(text.slice(last), visit);
    }
    return out.data.slice(0, out.length);
  }

  private encodePiece(piece: string): Int32Array {
    const bytes = utf8Bytes(piece);
    const symbols: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      const id = this.byteIds[byte] as number;
      if (id >= 0) {
        symbols.push(id);
      } else if (this.unkId >= 0) {
        const previousUnknown = i > 0 && this.byteIds[bytes[i - 1] as number] === -1;
        if (!(this.parts.fuseUnk && previousUnknown)) symbols.push(this.unkId);
      } else {
        throw new InvalidArgumentError(
          `BpeTokenizer.encode: byte 0x${byte.toString(16).padStart(2, '0')} of ${show(piece)} has no token ` +
            `(${show(BYTE_TO_CHAR[byte])} is not in the vocabulary) and the tokenizer has no unknown token`,
        );
      }
    }
    const ids = mergeWord(symbols, this.table);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  /**
   * Turns token ids back into text: the bytes of consecutive ordinary tokens are decoded as
   * UTF-8, with U+FFFD for each invalid sequence (as Hugging Face); special tokens appear as
   * written. (HF's ByteLevel decoder also maps special tokens' characters through the byte
   * table, which garbles a special token containing a Latin-1 letter such as `é`; wasmformer
   * keeps it as written.)
   *
   * @param ids - [N] integer token ids, each in use in [0, vocabSize).
   * @throws InvalidArgumentError naming the first id that is not a token id and its position.
   */
  decode(ids: ArrayLike<number>, options: BpeDecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new InvalidArgumentError('BpeTokenizer.decode: ids must be an array-like of token ids');
    }
    const skip = options.skipSpecialTokens === true;
    let text = '';
    let bytes = new Uint8Array(256);
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const token = typeof id === 'number' && Number.isInteger(id) ? this.tokens[id] : undefined;
      if (id === undefined || token === undefined) {
        throw new InvalidArgumentError(
          `BpeTokenizer.decode: ids[${i}] = ${String(id)} is not a token id; expected an integer in [0, ${this.tokens.length}) that is in the vocabulary`,
        );
      }
      const special = this.specialById.get(id);
      if (special !== undefined) {
        // A skipped token does not split the bytes around it (as in Hugging Face).
        if (skip && special.special) continue;
        text += utf8Text(bytes.subarray(0, n)) + special.content;
        n = 0;
        continue;
      }
      let piece = this.bytesById[id];
      if (piece === undefined) {
        piece = tokenBytes(token);
        this.bytesById[id] = piece;
      }
      if (n + piece.length > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, n + piece.length));
        grown.set(bytes.subarray(0, n));
        bytes = grown;
      }
      bytes.set(piece, n);
      n += piece.length;
    }
    return text + utf8Text(bytes.subarray(0, n));
  }

  /** The serialisable form; `BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(t)))` restores `t`. */
  toJSON(): BpeTokenizerJSON {
    const { vocab, merges, specialTokens, unkToken, fuseUnk } = this.parts;
    return {
      type: 'bpe',
      vocab: Object.fromEntries([...vocab].sort((a, b) => a[1] - b[1])),
      merges: merges.map(([a, b]) => [a, b]),
      specialTokens: specialTokens.map((s) => ({ ...s })),
      unkToken,
      fuseUnk,
    };
  }

  /**
   * The Hugging Face `tokenizer.json` object (write it with `JSON.stringify`); transformers
   * loads it with `PreTrainedTokenizerFast(tokenizer_file=...)`, `tokenizers` with
   * `Tokenizer.from_file`. Merges are written as `[left, right]` pairs (tokenizers ≥ 0.20).
   */
  toHuggingFace(): HuggingFaceTokenizerJSON {
    return buildHuggingFace(this.parts);
  }

  /**
   * GPT-2's `vocab.json` object (model vocabulary plus any special token not in it) and
   * `merges.txt` text (`#version: 0.2` then one `left right` line per merge).
   *
   * @throws UnsupportedConfigError if a merged token contains a space or a line break, which
   *   merges.txt cannot represent (never for byte-level tokens).
   */
  toVocabMerges(): BpeVocabMerges {
    const entries = [...this.parts.vocab];
    for (const { id, content } of this.parts.specialTokens) if (!this.parts.vocab.has(content)) entries.push([content, id]);
    const lines = ['#version: 0.2'];
    this.parts.merges.forEach(([a, b], rank) => {
      if (/[ \r\n]/.test(a + b)) {
        throw new UnsupportedConfigError(
          `BpeTokenizer.toVocabMerges: merge ${rank} (${show(a)} ${show(b)}) contains a space or line break, which merges.txt cannot hold`,
          'merges', [a, b],
        );
      }
      lines.push(`${a} ${b}`);
    });
    return { vocab: Object.fromEntries(entries.sort((x, y) => x[1] - y[1])), merges: `${lines.join('\n')}\n` };
  }
}
