/**
 * Hugging Face `tokenizer.json` (the `tokenizers` library's serialisation) for a WordPiece
 * model, read and written. Reading accepts what {@link WordPieceTokenizer} implements — a
 * WordPiece model, a BertNormalizer (or none), the BertPreTokenizer, a TemplateProcessing or
 * BertProcessing post-processor (or none), a WordPiece decoder (or none) — and refuses
 * anything else with an {@link UnsupportedConfigError} naming the field. `truncation` and
 * `padding` are accepted and ignored: they are per-call options of `encode` here.
 */
import { CheckpointError, UnsupportedConfigError } from '../errors.js';
import type { HuggingFaceAddedToken, HuggingFaceTemplatePiece, HuggingFaceTemplateProcessing } from './huggingface-json.js';
import type { AddedTokenSpec, BertNormalizerOptions } from './wordpiece-text.js';

/** One entry of `added_tokens` in a `tokenizer.json`. */
export type WordPieceHFAddedToken = HuggingFaceAddedToken;

/** One piece of a TemplateProcessing template. */
export type WordPieceHFTemplatePiece = HuggingFaceTemplatePiece;

/** A Hugging Face `tokenizer.json` of a BERT WordPiece tokenizer, as {@link WordPieceTokenizer.toHuggingFace} writes it. */
export interface WordPieceHFTokenizerJSON {
  /** The format version, `'1.0'`. */
  version: '1.0';
  /** Not stored (truncation is an option of `encode`). */
  truncation: null;
  /** Not stored (padding is an option of `encode`). */
  padding: null;
  /** Tokens matched whole before pre-tokenization (the special tokens among them). */
  added_tokens: WordPieceHFAddedToken[];
  /** BERT's text clean-up, or null for none. */
  normalizer: {
    /** Always `'BertNormalizer'`. */
    type: 'BertNormalizer';
    /** Drops control characters and turns whitespace into spaces. */
    clean_text: boolean;
    /** Puts spaces around CJK characters. */
    handle_chinese_chars: boolean;
    /** Strips accents (null: as `lowercase`). */
    strip_accents: boolean | null;
    /** Lower-cases the text (uncased models). */
    lowercase: boolean;
  } | null;
  /** BERT's split on whitespace and punctuation. */
  pre_tokenizer: {
    /** Always `'BertPreTokenizer'`. */
    type: 'BertPreTokenizer';
  };
  /** Where [CLS] and [SEP] go, or null for none. */
  post_processor: HuggingFaceTemplateProcessing | null;
  /** Joins `##` continuation pieces back into words, or null for none. */
  decoder: {
    /** Always `'WordPiece'`. */
    type: 'WordPiece';
    /** The continuation prefix, `'##'`. */
    prefix: string;
    /** Removes the spaces decoding puts before punctuation and in contractions. */
    cleanup: boolean;
  } | null;
  /** The WordPiece model. */
  model: {
    /** Always `'WordPiece'`. */
    type: 'WordPiece';
    /** The token for a word that cannot be split into vocabulary pieces. */
    unk_token: string;
    /** Prefix of a piece that continues a word, `'##'`. */
    continuing_subword_prefix: string;
    /** A longer word becomes `unk_token` without splitting. */
    max_input_chars_per_word: number;
    /** token → id. */
    vocab: Record<string, number>;
  };
}

/** One piece of a post-processing template. */
export type TemplatePiece = { kind: 'special'; token: string; typeId: number } | { kind: 'sequence'; sequence: 'A' | 'B'; typeId: number };

/** The post-processor: where [CLS] / [SEP] go and the segment ids. */
export interface PostProcessorSpec {
  single: TemplatePiece[];
  pair: TemplatePiece[];
  /** Special-token name → the ids and tokens it stands for. */
  specialTokens: Map<string, { ids: number[]; tokens: string[] }>;
}

/** Everything that defines a WordPiece tokenizer, before validation. */
export interface WordPieceParts {
  /** `vocab[id]`, dense; added tokens outside the model vocabulary are appended. */
  vocab: string[];
  /** Size of the WordPiece model vocabulary (`vocab.length` minus appended added tokens). */
  modelVocabSize: number;
  unkToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  normalizer: BertNormalizerOptions | null;
  addedTokens: AddedTokenSpec[];
  postProcessor: PostProcessorSpec | null;
  decoder: { prefix: string; cleanup: boolean } | null;
}

const WHAT = 'WordPieceTokenizer.fromHuggingFace';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function show(x: unknown): string {
  return JSON.stringify(x) ?? String(x);
}

function field<T>(
  obj: Record<string, unknown>,
  key: string,
  where: string,
  check: (v: unknown) => v is T,
  expected: string,
  fallback?: T,
): T {
  const v = obj[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (!check(v)) throw new CheckpointError(`${WHAT}: ${where}.${key} must be ${expected}, got ${show(v)}`);
  return v;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function unsupported(path: string, value: unknown, what: string): never {
  throw new UnsupportedConfigError(`${WHAT}: ${path} ${show(value)} is not supported; ${what}`, path, value);
}

function parseNormalizer(n: unknown): BertNormalizerOptions | null {
  if (n === null || n === undefined) return null;
  if (!isObject(n)) throw new CheckpointError(`${WHAT}: normalizer must be an object or null, got ${show(n)}`);
  if (n.type !== 'BertNormalizer') unsupported('normalizer.type', n.type, 'expected BertNormalizer or no normalizer');
  const stripAccents = n.strip_accents ?? null;
  if (stripAccents !== null && typeof stripAccents !== 'boolean') {
    throw new CheckpointError(`${WHAT}: normalizer.strip_accents must be a boolean or null, got ${show(stripAccents)}`);
  }
  return {
    cleanText: field(n, 'clean_text', 'normalizer', isBool, 'a boolean', true),
    handleChineseChars: field(n, 'handle_chinese_chars', 'normalizer', isBool, 'a boolean', true),
    stripAccents,
    lowercase: field(n, 'lowercase', 'normalizer', isBool, 'a boolean', true),
  };
}

function parseTemplate(t: unknown, path: string): TemplatePiece[] {
  if (!Array.isArray(t)) throw new CheckpointError(`${WHAT}: ${path} must be an array of template pieces, got ${show(t)}`);
  return t.map((piece, i): TemplatePiece => {
    const where = `${path}[${i}]`;
    if (isObject(piece) && isObject(piece.SpecialToken)) {
      const s = piece.SpecialToken;
      return {
        kind: 'special',
        token: field(s, 'id', where, isString, 'a string'),
        typeId: field(s, 'type_id', where, isId, 'a non-negative integer'),
      };
    }
    if (isObject(piece) && isObject(piece.Sequence)) {
      const s = piece.Sequence;
      const id = s.id;
      if (id !== 'A' && id !== 'B') throw new CheckpointError(`${WHAT}: ${where}.Sequence.id must be "A" or "B", got ${show(id)}`);
      return { kind: 'sequence', sequence: id, typeId: field(s, 'type_id', where, isId, 'a non-negative integer') };
    }
    throw new CheckpointError(`${WHAT}: ${where} must be { SpecialToken } or { Sequence }, got ${show(piece)}`);
  });
}

function parsePostProcessor(p: unknown, tokenId: (token: string) => number | undefined): PostProcessorSpec | null {
  if (p === null || p === undefined) return null;
  if (!isObject(p)) throw new CheckpointError(`${WHAT}: post_processor must be an object or null, got ${show(p)}`);
  if (p.type === 'BertProcessing') {
    const pairOf = (key: 'cls' | 'sep'): [string, number] => {
      const v = p[key];
      if (!Array.isArray(v) || v.length !== 2 || !isString(v[0]) || !isId(v[1])) {
        throw new CheckpointError(`${WHAT}: post_processor.${key} must be [token, id], got ${show(v)}`);
      }
      return [v[0], v[1]];
    };
    const [cls, clsId] = pairOf('cls');
    const [sep, sepId] = pairOf('sep');
    const specialTokens = new Map([
      [cls, { ids: [clsId], tokens: [cls] }],
      [sep, { ids: [sepId], tokens: [sep] }],
    ]);
    const s = (token: string, typeId: number): TemplatePiece => ({ kind: 'special', token, typeId });
    const q = (sequence: 'A' | 'B', typeId: number): TemplatePiece => ({ kind: 'sequence', sequence, typeId });
    return { single: [s(cls, 0), q('A', 0), s(sep, 0)], pair: [s(cls, 0), q('A', 0), s(sep, 0), q('B', 1), s(sep, 1)], specialTokens };
  }
  if (p.type !== 'TemplateProcessing')
    unsupported('post_processor.type', p.type, 'expected TemplateProcessing, BertProcessing or no post-processor');
  const single = parseTemplate(p.single, 'post_processor.single');
  const pair = parseTemplate(p.pair, 'post_processor.pair');
  const specials = p.special_tokens ?? {};
  if (!isObject(specials)) throw new CheckpointError(`${WHAT}: post_processor.special_tokens must be an object, got ${show(specials)}`);
  const specialTokens = new Map<string, { ids: number[]; tokens: string[] }>();
  for (const [name, spec] of Object.entries(specials)) {
    const where = `post_processor.special_tokens[${show(name)}]`;
    if (
      !isObject(spec) ||
      !Array.isArray(spec.ids) ||
      !spec.ids.every(isId) ||
      !Array.isArray(spec.tokens) ||
      !spec.tokens.every(isString) ||
      spec.ids.length !== spec.tokens.length
    ) {
      throw new CheckpointError(`${WHAT}: ${where} must be { id, ids: number[], tokens: string[] } of equal lengths, got ${show(spec)}`);
    }
    const ids = spec.ids as number[];
    const tokens = spec.tokens as string[];
    tokens.forEach((t, i) => {
      if (tokenId(t) !== ids[i])
        throw new CheckpointError(`${WHAT}: ${where} maps ${show(t)} to id ${ids[i]}, but the vocabulary has it at ${show(tokenId(t))}`);
    });
    specialTokens.set(name, { ids, tokens });
  }
  for (const piece of [...single, ...pair]) {
    if (piece.kind === 'special' && !specialTokens.has(piece.token)) {
      throw new CheckpointError(`${WHAT}: the template uses ${show(piece.token)}, missing from post_processor.special_tokens`);
    }
  }
  const sequences = (t: TemplatePiece[]): string =>
    t
      .filter((x) => x.kind === 'sequence')
      .map((x) => (x.kind === 'sequence' ? x.sequence : ''))
      .join('');
  if (sequences(single) !== 'A') throw new CheckpointError(`${WHAT}: post_processor.single must contain the sequence A exactly once`);
  if (sequences(pair) !== 'AB') throw new CheckpointError(`${WHAT}: post_processor.pair must contain A then B, once each`);
  return { single, pair, specialTokens };
}

/** Reads a parsed `tokenizer.json` (see the module comment for what is accepted). */
export function parseHuggingFace(json: unknown): WordPieceParts {
  if (!isObject(json)) throw new CheckpointError(`${WHAT}: expected a tokenizer.json object, got ${json === null ? 'null' : typeof json}`);
  const model = json.model;
  if (!isObject(model)) throw new CheckpointError(`${WHAT}: model must be an object, got ${show(model)}`);
  if (model.type !== 'WordPiece') unsupported('model.type', model.type, 'expected WordPiece');
  const rawVocab = model.vocab;
  if (!isObject(rawVocab)) throw new CheckpointError(`${WHAT}: model.vocab must be an object token → id`);
  const entries = Object.entries(rawVocab);
  const vocab = new Array<string | undefined>(entries.length).fill(undefined);
  for (const [token, id] of entries) {
    if (!isId(id) || id >= entries.length) {
      throw new CheckpointError(`${WHAT}: model.vocab[${show(token)}] = ${show(id)}; ids must be the integers 0 … ${entries.length - 1}`);
    }
    if (vocab[id] !== undefined)
      throw new CheckpointError(`${WHAT}: model.vocab gives id ${id} to both ${show(vocab[id])} and ${show(token)}`);
    vocab[id] = token;
  }
  const dense = vocab as string[];
  const modelVocabSize = dense.length;
  const ids = new Map(dense.map((t, i) => [t, i]));

  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new CheckpointError(`${WHAT}: added_tokens must be an array, got ${show(added)}`);
  const addedTokens = added.map((t, i): AddedTokenSpec => {
    const where = `added_tokens[${i}]`;
    if (!isObject(t)) throw new CheckpointError(`${WHAT}: ${where} must be an object, got ${show(t)}`);
    const spec: AddedTokenSpec = {
      id: field(t, 'id', where, isId, 'a non-negative integer'),
      content: field(t, 'content', where, isString, 'a string'),
      special: field(t, 'special', where, isBool, 'a boolean', false),
      normalized: field(t, 'normalized', where, isBool, 'a boolean', true),
      singleWord: field(t, 'single_word', where, isBool, 'a boolean', false),
      lstrip: field(t, 'lstrip', where, isBool, 'a boolean', false),
      rstrip: field(t, 'rstrip', where, isBool, 'a boolean', false),
    };
    if (spec.content.length === 0) throw new CheckpointError(`${WHAT}: ${where}.content is empty`);
    const existing = ids.get(spec.content);
    if (existing !== undefined && existing !== spec.id) {
      throw new CheckpointError(`${WHAT}: ${where} ${show(spec.content)} has id ${spec.id} but the vocabulary has it at ${existing}`);
    }
    if (existing === undefined) {
      if (spec.id !== dense.length) {
        throw new CheckpointError(
          `${WHAT}: ${where} ${show(spec.content)} has id ${spec.id}; an added token outside the model vocabulary must take the next id, ${dense.length}`,
        );
      }
      dense.push(spec.content);
      ids.set(spec.content, spec.id);
    }
    return spec;
  });

  const unkToken = field(model, 'unk_token', 'model', isString, 'a string');
  if (!ids.has(unkToken)) throw new CheckpointError(`${WHAT}: model.unk_token ${show(unkToken)} is not in the vocabulary`);
  const maxInputCharsPerWord = field(model, 'max_input_chars_per_word', 'model', isId, 'a non-negative integer', 100);
  const continuingSubwordPrefix = field(model, 'continuing_subword_prefix', 'model', isString, 'a string', '##');

  const pre = json.pre_tokenizer;
  if (!isObject(pre) || pre.type !== 'BertPreTokenizer') {
    unsupported('pre_tokenizer', isObject(pre) ? pre.type : pre, 'expected { type: "BertPreTokenizer" }');
  }
  const dec = json.decoder;
  let decoder: WordPieceParts['decoder'] = null;
  if (dec !== null && dec !== undefined) {
    if (!isObject(dec) || dec.type !== 'WordPiece')
      unsupported('decoder.type', isObject(dec) ? dec.type : dec, 'expected WordPiece or no decoder');
    decoder = {
      prefix: field(dec, 'prefix', 'decoder', isString, 'a string', '##'),
      cleanup: field(dec, 'cleanup', 'decoder', isBool, 'a boolean', true),
    };
  }
  for (const key of ['truncation', 'padding'] as const) {
    const v = json[key];
    if (v !== null && v !== undefined && !isObject(v))
      throw new CheckpointError(`${WHAT}: ${key} must be an object or null, got ${show(v)}`);
  }
  return {
    vocab: dense,
    modelVocabSize,
    unkToken,
    continuingSubwordPrefix,
    maxInputCharsPerWord,
    normalizer: parseNormalizer(json.normalizer),
    addedTokens,
    postProcessor: parsePostProcessor(json.post_processor, (t) => ids.get(t)),
    decoder,
  };
}

/** Writes `parts` as a `tokenizer.json` object (key order as the `tokenizers` library writes it). */
export function toHuggingFaceJSON(parts: WordPieceParts): WordPieceHFTokenizerJSON {
  // fromEntries defines own properties, so a token such as "__proto__" is kept as data.
  const vocab: Record<string, number> = Object.fromEntries(parts.vocab.slice(0, parts.modelVocabSize).map((t, id) => [t, id]));
  const piece = (p: TemplatePiece): WordPieceHFTemplatePiece =>
    p.kind === 'special' ? { SpecialToken: { id: p.token, type_id: p.typeId } } : { Sequence: { id: p.sequence, type_id: p.typeId } };
  const pp = parts.postProcessor;
  const n = parts.normalizer;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: parts.addedTokens.map((t) => ({
      id: t.id,
      content: t.content,
      single_word: t.singleWord,
      lstrip: t.lstrip,
      rstrip: t.rstrip,
      normalized: t.normalized,
      special: t.special,
    })),
    normalizer: n
      ? {
          type: 'BertNormalizer',
          clean_text: n.cleanText,
          handle_chinese_chars: n.handleChineseChars,
          strip_accents: n.stripAccents,
          lowercase: n.lowercase,
        }
      : null,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: pp
      ? {
          type: 'TemplateProcessing',
          single: pp.single.map(piece),
          pair: pp.pair.map(piece),
          special_tokens: Object.fromEntries(
            [...pp.specialTokens].map(([name, s]) => [name, { id: name, ids: [...s.ids], tokens: [...s.tokens] }]),
          ),
        }
      : null,
    decoder: parts.decoder ? { type: 'WordPiece', prefix: parts.decoder.prefix, cleanup: parts.decoder.cleanup } : null,
    model: {
      type: 'WordPiece',
      unk_token: parts.unkToken,
      continuing_subword_prefix: parts.continuingSubwordPrefix,
      max_input_chars_per_word: parts.maxInputCharsPerWord,
      vocab,
    },
  };
}
