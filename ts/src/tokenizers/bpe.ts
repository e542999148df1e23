/**
 * BPE tokenizer in plain TypeScript. Trained ones are GPT-2 style byte-level BPE: text is split
 * by GPT-2's regex, each piece's UTF-8 bytes become byte-level characters, and learned merges
 * join them into tokens. Loaded from a Hugging Face `tokenizer.json`, it can also be a
 * Llama-3-style byte-level BPE or a SentencePiece-style BPE (Llama-1/2, Mistral) — see
 * `bpe-pipeline.ts`. Ids are identical to Hugging Face `tokenizers` / transformers'
 * `GPT2TokenizerFast` / `PreTrainedTokenizerFast` for the same files (parity tests check this).
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
import { decodeChain } from './bpe-decode.js';
import { BpeModel, buildMergeTable } from './bpe-model.js';
import { GPT2_PIPELINE, isByteLevel, isGpt2Pipeline, pipelineJson, type BpePipeline } from './bpe-pipeline.js';
import { compilePreTokenizer, type PreTokenizerRun } from './bpe-pretokenize.js';
import {
  readPipeline,
  type BpeDecodeOptions,
  type BpeEncodeOptions,
  type BpeFamily,
  type BpeTokenizerJSON,
  type BpeTrainOptions,
  type BpeVocabMerges,
  type BpeVocabMergesOptions,
} from './bpe-options.js';
import { PAIR_BASE } from './bpe-word.js';
import { IdBuffer } from './id-buffer.js';
import { forEachPreToken, toByteLevel, tokenBytes, utf8Text } from './byte-level.js';

export type { BpeSpecialToken, HuggingFaceAddedToken, HuggingFaceByteLevel, HuggingFaceTokenizerJSON } from './bpe-huggingface.js';
export type {
  BpeDecoderStep,
  BpeNormalizerStep,
  BpePipeline,
  BpePreTokenizer,
  BpeTemplate,
  BpeTemplatePiece,
  MetaspacePrependScheme,
} from './bpe-pipeline.js';
export type {
  BpeDecodeOptions,
  BpeEncodeOptions,
  BpeFamily,
  BpePipelineJSON,
  BpeTokenizerJSON,
  BpeTrainOptions,
  BpeVocabMerges,
  BpeVocabMergesOptions,
} from './bpe-options.js';

type ErrorClass = new (message: string) => Error;

/** Lone surrogates, which `tokenizers` (Rust strings) cannot receive: they become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Maps text to byte-level BPE token ids and back. */
export class BpeTokenizer {
  /** Discriminator of the serialised form. */
  readonly type = 'bpe' as const;
  private readonly parts: BpeParts;
  private readonly tokens: (string | undefined)[];
  private readonly model: BpeModel;
  private readonly preTokenizer: PreTokenizerRun;
  /** Whether model tokens are byte-level strings (GPT-2, Llama-3) and decode through bytes. */
  private readonly byteLevel: boolean;
  /** [n] ids the post-processor template puts before and after the text. */
  private readonly templateIds: { before: number[]; after: number[] };
  private readonly specialById = new Map<number, BpeSpecialToken>();
  private readonly specialIds = new Map<string, number>();
  private readonly specialPattern: RegExp | undefined;
  private readonly bytesById: (Uint8Array | undefined)[] = [];

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
      if (!Number.isInteger(id) || id < 0 || id >= PAIR_BASE)
        throw fail(`special token ${show(content)} has id ${show(id)}; expected an integer in [0, ${PAIR_BASE})`);
      const vocabId = parts.vocab.get(content);
      if (vocabId !== undefined && vocabId !== id)
        throw fail(`special token ${show(content)} has id ${id} but the vocabulary gives it ${vocabId}`);
      if (this.specialIds.has(content)) throw fail(`special token ${show(content)} is listed twice`);
      const holder = this.specialById.get(id)?.content ?? tokens[id];
      if (holder !== undefined && holder !== content)
        throw fail(`special token ${show(content)} has id ${id}, which belongs to ${show(holder)}`);
      tokens[id] = content;
      this.specialById.set(id, special);
      this.specialIds.set(content, id);
    }
    const { pipeline } = parts;
    this.byteLevel = isByteLevel(pipeline);
    this.model = new BpeModel(
      parts.vocab,
      buildMergeTable(parts.vocab, parts.merges, fail),
      {
        byteLevel: this.byteLevel,
        unkToken: parts.unkToken,
        fuseUnk: parts.fuseUnk,
        byteFallback: pipeline.byteFallback,
        ignoreMerges: pipeline.ignoreMerges,
      },
      fail,
    );
    this.preTokenizer = compilePreTokenizer(pipeline);
    this.templateIds = { before: [], after: [] };
    let afterText = false;
    for (const piece of pipeline.postProcessor?.single ?? []) {
      if ('Sequence' in piece) {
        afterText = true;
        continue;
      }
      for (const id of pipeline.postProcessor?.special_tokens[piece.SpecialToken.id]?.ids ?? []) {
        if (tokens[id] === undefined)
          throw fail(`the post-processor template adds id ${id} (${show(piece.SpecialToken.id)}), which is not a token`);
        (afterText ? this.templateIds.after : this.templateIds.before).push(id);
      }
    }
    // Longest first, so that alternation order gives leftmost-longest matches.
    const contents = [...this.specialIds.keys()].sort((a, b) => b.length - a.length);
    this.specialPattern = contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join('|'), 'g') : undefined;
    this.tokens = tokens;
    this.parts = {
      vocab: new Map(parts.vocab),
      merges: parts.merges.map(([a, b]) => [a, b]),
      specialTokens: parts.specialTokens.map((s) => Object.freeze({ ...s })),
      unkToken: parts.unkToken,
      fuseUnk: parts.fuseUnk,
      pipeline: deepFreeze(structuredClone(pipeline)),
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
    if (
      !Array.isArray(specials) ||
      specials.some((s) => typeof s !== 'string' || s.length === 0) ||
      new Set(specials).size !== specials.length
    ) {
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
    const pattern =
      specials.length > 0
        ? new RegExp(
            [...specials]
              .sort((a, b) => b.length - a.length)
              .map(escapeRegExp)
              .join('|'),
            'g',
          )
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
    return new BpeTokenizer(
      {
        vocab: new Map(learned.vocab.map((token, id) => [token, id])),
        merges: learned.merges,
        specialTokens: specials.map((content, id) => ({ id, content, special: true })),
        unkToken: null,
        fuseUnk: false,
        pipeline: GPT2_PIPELINE,
      },
      what,
      InvalidArgumentError,
    );
  }

  /**
   * Restores a tokenizer saved with {@link BpeTokenizer.toJSON} (after `JSON.parse`).
   *
   * @throws CheckpointError if `json` does not have that shape or is inconsistent (a merge of
   *   tokens not in the vocabulary, two tokens with one id, …); UnsupportedConfigError for a
   *   `pipeline` this version does not implement.
   */
  static fromJSON(json: unknown): BpeTokenizer {
    const what = 'BpeTokenizer.fromJSON';
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new CheckpointError(
        `${what}: expected an object { type: 'bpe', vocab, merges, specialTokens }, got ${json === null ? 'null' : typeof json}`,
      );
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
    return new BpeTokenizer(
      {
        vocab: parseVocab(j.vocab, what),
        merges: parseMergeList(j.merges, what),
        specialTokens: (specials as Record<string, unknown>[]).map((s) => ({
          id: s.id as number,
          content: s.content as string,
          special: s.special !== false,
        })),
        unkToken: j.unkToken ?? null,
        fuseUnk: j.fuseUnk === true,
        pipeline: j.pipeline === undefined ? GPT2_PIPELINE : readPipeline(j.pipeline, what),
      },
      what,
      CheckpointError,
    );
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
    return new BpeTokenizer(
      { vocab: map, merges: parseMergesText(merges, what), specialTokens, unkToken: null, fuseUnk: false, pipeline: GPT2_PIPELINE },
      what,
      CheckpointError,
    );
  }

  /**
   * Loads a Hugging Face `tokenizer.json` (after `JSON.parse`) of a BPE tokenizer, encoding
   * with the ids `tokenizers` gives:
   * - GPT-2-style byte-level BPE (GPT-2, RoBERTa-style, `ByteLevelBPETokenizer`);
   * - Llama-3 / tiktoken-style byte-level BPE: pre-tokenizer Sequence[Split(Regex, Isolated),
   *   ByteLevel(use_regex false)] with the Llama-3 (cl100k), Qwen2 or GPT-2 regex,
   *   `ignore_merges`;
   * - SentencePiece-style BPE as HF converts Llama-1/2 and Mistral: a Metaspace pre-tokenizer
   *   or the normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], `byte_fallback`,
   *   `fuse_unk`, decoder Sequence[Replace, ByteFallback, Fuse, Strip] or Metaspace.
   * A TemplateProcessing post-processor (e.g. adding `<s>`) is applied by `encode` unless
   * `addSpecialTokens: false`. Every entry of `added_tokens` becomes a token matched before
   * pre-tokenization, keeping its `special` flag.
   *
   * @throws UnsupportedConfigError (a CheckpointError) naming the field for anything else: a
   *   Unigram / WordPiece model, a Split regex wasmformer has not translated, a Regex Replace,
   *   dropout, `add_prefix_space`, RobertaProcessing, … (see `parseHuggingFace`).
   * @throws CheckpointError if the file is malformed or inconsistent.
   */
  static fromHuggingFace(json: unknown): BpeTokenizer {
    return new BpeTokenizer(parseHuggingFace(json), 'BpeTokenizer.fromHuggingFace', CheckpointError);
  }

  /** Which kind of BPE this is (see {@link BpeFamily}). */
  get family(): BpeFamily {
    if (isGpt2Pipeline(this.parts.pipeline)) return 'gpt2';
    return this.byteLevel ? 'byte-level' : 'sentencepiece';
  }

  /** The normalizer, pre-tokenizer, decoder and post-processor in use (frozen). */
  get pipeline(): BpePipeline {
    return this.parts.pipeline;
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
   * Turns text into token ids: special tokens are matched first (leftmost, longest), the text
   * between them is normalized and pre-tokenized (GPT-2's regex for trained tokenizers), and
   * each pre-token is merged by rank; then the post-processor template adds its special tokens.
   *
   * @returns [N] int32 token ids.
   * @throws InvalidArgumentError if `text` is not a string, or it has a byte (or character)
   *   that has no token and the tokenizer has no unknown token (never for a tokenizer from
   *   `train`; Hugging Face drops such characters silently instead).
   */
  encode(text: string, options: BpeEncodeOptions = {}): Int32Array {
    if (typeof text !== 'string') throw new InvalidArgumentError(`BpeTokenizer.encode: text must be a string, got ${typeof text}`);
    const addSpecialTokens = options.addSpecialTokens ?? true;
    if (typeof addSpecialTokens !== 'boolean')
      throw new InvalidArgumentError(`BpeTokenizer.encode: addSpecialTokens must be a boolean, got ${show(addSpecialTokens)}`);
    const out = new IdBuffer();
    if (addSpecialTokens) for (const id of this.templateIds.before) out.push(id);
    const visit = (piece: string): void => out.pushAll(this.model.tokenize(piece));
    const input = this.byteLevel ? text : text.replace(LONE_SURROGATE, '\ufffd');
    const segment = (from: number, to: number): void => {
      if (to > from) this.preTokenizer.run(input.slice(from, to), from === 0, visit);
    };
    const pattern = this.specialPattern;
    if (pattern === undefined) {
      segment(0, input.length);
    } else {
      pattern.lastIndex = 0;
      let last = 0;
      for (let m = pattern.exec(input); m !== null; m = pattern.exec(input)) {
        segment(last, m.index);
        out.push(this.specialIds.get(m[0]) as number);
        last = m.index + m[0].length;
      }
      segment(last, input.length);
    }
    if (addSpecialTokens) for (const id of this.templateIds.after) out.push(id);
    return out.data.slice(0, out.length);
  }

  /**
   * Turns token ids back into text: the bytes of consecutive ordinary tokens are decoded as
   * UTF-8, with U+FFFD for each invalid sequence (as Hugging Face); special tokens appear as
   * written. (HF's ByteLevel decoder also maps special tokens' characters through the byte
   * table, which garbles a special token containing a Latin-1 letter such as `é`; wasmformer
   * keeps it as written.) SentencePiece-style tokenizers run HF's decoder chain instead
   * (`▁` → space, `<0xNN>` runs → UTF-8 or one U+FFFD per byte, strip of the first space).
   *
   * @param ids - [N] integer token ids, each in use in [0, vocabSize).
   * @throws InvalidArgumentError naming the first id that is not a token id and its position.
   */
  decode(ids: ArrayLike<number>, options: BpeDecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new InvalidArgumentError('BpeTokenizer.decode: ids must be an array-like of token ids');
    }
    const skip = options.skipSpecialTokens === true;
    if (!this.byteLevel) return decodeChain(this.tokenStrings(ids, skip), this.parts.pipeline.decoder);
    let text = '';
    let bytes = new Uint8Array(256);
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const token = this.tokenOf(ids[i], i);
      const id = ids[i] as number; // checked by tokenOf
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

  /** The token string of `ids[i]` = `id`. @throws InvalidArgumentError if it is not a token id. */
  private tokenOf(id: number | undefined, i: number): string {
    const token = typeof id === 'number' && Number.isInteger(id) ? this.tokens[id] : undefined;
    if (id === undefined || token === undefined) {
      throw new InvalidArgumentError(
        `BpeTokenizer.decode: ids[${i}] = ${String(id)} is not a token id; expected an integer in [0, ${this.tokens.length}) that is in the vocabulary`,
      );
    }
    return token;
  }

  /** The token strings of `ids` (special tokens as written, or left out with `skip`), for the decoder chain. */
  private tokenStrings(ids: ArrayLike<number>, skip: boolean): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const token = this.tokenOf(ids[i], i);
      const id = ids[i] as number; // checked by tokenOf
      if (!(skip && this.specialById.get(id)?.special === true)) out.push(token);
    }
    return out;
  }

  /** The serialisable form; `BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(t)))` restores `t`. */
  toJSON(): BpeTokenizerJSON {
    const { vocab, merges, specialTokens, unkToken, fuseUnk, pipeline } = this.parts;
    const json: BpeTokenizerJSON = {
      type: 'bpe',
      vocab: Object.fromEntries([...vocab].sort((a, b) => a[1] - b[1])),
      merges: merges.map(([a, b]) => [a, b]),
      specialTokens: specialTokens.map((s) => ({ ...s })),
      unkToken,
      fuseUnk,
    };
    if (!isGpt2Pipeline(pipeline))
      json.pipeline = { ...pipelineJson(pipeline), byte_fallback: pipeline.byteFallback, ignore_merges: pipeline.ignoreMerges };
    return json;
  }

  /**
   * The Hugging Face `tokenizer.json` object (write it with `JSON.stringify`), for every
   * family: a loaded Llama-3 or SentencePiece-style tokenizer is written back with its
   * pipeline (the post-processor as TemplateProcessing, in a Sequence after ByteLevel for
   * byte-level ones), and `tokenizers` encodes with it to the same ids; transformers
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
   * @throws UnsupportedConfigError if the tokenizer is not GPT-2 style ({@link family} is not
   *   `'gpt2'`: these files cannot hold its pre-tokenizer, decoder or template), or if a merged
   *   token contains a space or a line break, which merges.txt cannot represent.
   */
  toVocabMerges(): BpeVocabMerges {
    if (this.family !== 'gpt2') {
      throw new UnsupportedConfigError(
        `BpeTokenizer.toVocabMerges: a ${this.family} tokenizer cannot be written as vocab.json + merges.txt (they hold only GPT-2's byte-level pipeline); write toHuggingFace() as tokenizer.json`,
        'pre_tokenizer',
        pipelineJson(this.parts.pipeline).pre_tokenizer,
      );
    }
    const entries = [...this.parts.vocab];
    for (const { id, content } of this.parts.specialTokens) if (!this.parts.vocab.has(content)) entries.push([content, id]);
    const lines = ['#version: 0.2'];
    this.parts.merges.forEach(([a, b], rank) => {
      if (/[ \r\n]/.test(a + b)) {
        throw new UnsupportedConfigError(
          `BpeTokenizer.toVocabMerges: merge ${rank} (${show(a)} ${show(b)}) contains a space or line break, which merges.txt cannot hold`,
          'merges',
          [a, b],
        );
      }
      lines.push(`${a} ${b}`);
    });
    return { vocab: Object.fromEntries(entries.sort((x, y) => x[1] - y[1])), merges: `${lines.join('\n')}\n` };
  }
}
