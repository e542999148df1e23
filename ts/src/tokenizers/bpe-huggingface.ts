/**
 * The Hugging Face file formats of a BPE tokenizer: `tokenizer.json` (the `tokenizers`
 * library's serialisation) and GPT-2's `vocab.json` + `merges.txt`. Reading accepts exactly
 * what {@link BpeTokenizer} implements — a BPE model with one of the pipelines of
 * `bpe-pipeline.ts` (GPT-2 byte-level, Llama-3 byte-level, SentencePiece-style) — and refuses
 * everything else with an {@link UnsupportedConfigError} naming the field.
 */
import { CheckpointError, UnsupportedConfigError } from '../errors.js';
import { checkPipeline, PipelineReader, pipelineJson, type BpePipeline } from './bpe-pipeline.js';
import type { HuggingFaceAddedToken } from './huggingface-json.js';

export type { HuggingFaceAddedToken } from './huggingface-json.js';

/** The ByteLevel pre-tokenizer / post-processor / decoder entry of a `tokenizer.json`. */
export interface HuggingFaceByteLevel {
  /** Always `'ByteLevel'`. */
  type: 'ByteLevel';
  /** Puts a space before the text (GPT-2: false). */
  add_prefix_space: boolean;
  /** Offsets leave out the spaces a token starts with. */
  trim_offsets: boolean;
  /** Splits with GPT-2's regex before mapping bytes (false after a Split pre-tokenizer). */
  use_regex: boolean;
}

/**
 * A Hugging Face `tokenizer.json` of a BPE tokenizer, as {@link BpeTokenizer.toHuggingFace}
 * writes it. The components are GPT-2's ByteLevel ones for a GPT-2-style tokenizer; for the
 * other pipelines they are the `tokenizers` objects read (Metaspace, Sequence, …).
 */
export interface HuggingFaceTokenizerJSON {
  /** The format version, `'1.0'`. */
  version: '1.0';
  /** Not stored (truncation is an option of `encode`). */
  truncation: null;
  /** Not stored. */
  padding: null;
  /** Tokens matched whole before pre-tokenization (the special tokens among them). */
  added_tokens: HuggingFaceAddedToken[];
  /** The normalizer (null for GPT-2 and Llama-3; Prepend / Replace for older SentencePiece models). */
  normalizer: Record<string, unknown> | null;
  /** How text is cut into pre-tokens (ByteLevel for GPT-2). */
  pre_tokenizer: HuggingFaceByteLevel | Record<string, unknown> | null;
  /** Special tokens added around an encoded text (ByteLevel: none, offsets only). */
  post_processor: HuggingFaceByteLevel | Record<string, unknown> | null;
  /** How token strings become text again. */
  decoder: HuggingFaceByteLevel | Record<string, unknown>;
  /** The BPE model. */
  model: {
    /** Always `'BPE'`. */
    type: 'BPE';
    /** BPE-dropout is not implemented: null. */
    dropout: null;
    /** The token for unknown characters (null: byte-level models have none). */
    unk_token: string | null;
    /** Not used: null. */
    continuing_subword_prefix: null;
    /** Not used: null. */
    end_of_word_suffix: null;
    /** Consecutive unknown tokens become one. */
    fuse_unk: boolean;
    /** An unknown character becomes its UTF-8 bytes' `<0xNN>` tokens. */
    byte_fallback: boolean;
    /** A pre-token that is in the vocabulary is one token, without merging. */
    ignore_merges: boolean;
    /** token → id. */
    vocab: Record<string, number>;
    /** In rank order. */
    merges: [string, string][];
  };
}

/** A token matched in the text before pre-tokenization (HF's added tokens). */
export interface BpeSpecialToken {
  /** Its id. */
  id: number;
  /** Its text, matched whole before BPE runs. */
  content: string;
  /** HF's `special` flag: whether `decode(ids, { skipSpecialTokens: true })` drops it. */
  special: boolean;
}

/** Everything that defines a BPE tokenizer, before validation. */
export interface BpeParts {
  /** The model vocabulary: byte-level token string → id. */
  vocab: Map<string, number>;
  /** In rank order. */
  merges: [string, string][];
  specialTokens: BpeSpecialToken[];
  /** Used for a byte that has no token of its own; null to refuse such bytes. */
  unkToken: string | null;
  /** Merge runs of unknown bytes (or characters) into one unknown token. */
  fuseUnk: boolean;
  /** Normalizer, pre-tokenizer, decoder, post-processor and model flags. */
  pipeline: BpePipeline;
}

const WHAT = 'BpeTokenizer.fromHuggingFace';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function unsupported(field: string, value: unknown, why: string): UnsupportedConfigError {
  return new UnsupportedConfigError(`${WHAT}: ${field} = ${show(value)} is not supported; ${why}`, field, value);
}

function checkModelOption(model: Record<string, unknown>, key: string, allowed: (v: unknown) => boolean, why: string): void {
  const value = model[key];
  if (value !== undefined && !allowed(value)) throw unsupported(`model.${key}`, value, why);
}

/** Reads the `vocab` object of a tokenizer.json model or a vocab.json. */
export function parseVocab(vocab: unknown, where: string): Map<string, number> {
  if (!isObject(vocab)) throw new CheckpointError(`${where}: the vocabulary must be an object { token: id }, got ${show(vocab)}`);
  const out = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new CheckpointError(`${where}: the id of token ${show(token)} must be a non-negative integer, got ${show(id)}`);
    }
    out.set(token, id);
  }
  return out;
}

/** Reads merges as `[a, b]` pairs or `"a b"` strings (both forms of tokenizer.json). */
export function parseMergeList(merges: unknown, where: string): [string, string][] {
  if (!Array.isArray(merges)) throw new CheckpointError(`${where}: merges must be an array, got ${show(merges)}`);
  return merges.map((merge: unknown, i) => {
    if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === 'string' && typeof merge[1] === 'string') {
      return [merge[0], merge[1]];
    }
    if (typeof merge === 'string') {
      const parts = merge.split(' ');
      if (parts.length === 2) return [parts[0] ?? '', parts[1] ?? ''];
    }
    throw new CheckpointError(`${where}: merges[${i}] must be [left, right] or "left right", got ${show(merge)}`);
  });
}

/**
 * Reads a `merges.txt`: one `left right` merge per line in rank order; a first line starting
 * with `#version` and empty lines are skipped, CRLF line ends accepted.
 */
export function parseMergesText(text: string, where: string): [string, string][] {
  if (typeof text !== 'string') throw new CheckpointError(`${where}: merges.txt must be a string, got ${typeof text}`);
  const merges: [string, string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2) {
      throw new CheckpointError(`${where}: merges.txt line ${i + 1} must be two tokens separated by one space, got ${show(line)}`);
    }
    merges.push([parts[0] ?? '', parts[1] ?? '']);
  });
  return merges;
}

function parseAddedTokens(added: unknown, hasNormalizer: boolean): BpeSpecialToken[] {
  if (added === undefined || added === null) return [];
  if (!Array.isArray(added)) throw new CheckpointError(`${WHAT}: added_tokens must be an array, got ${show(added)}`);
  return added.map((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry.content !== 'string' || typeof entry.id !== 'number') {
      throw new CheckpointError(`${WHAT}: added_tokens[${i}] must be an object with a string content and a numeric id, got ${show(entry)}`);
    }
    for (const flag of ['single_word', 'lstrip', 'rstrip'] as const) {
      if (entry[flag] === true) {
        throw unsupported(`added_tokens[${i}].${flag}`, true, `token ${show(entry.content)} must be matched exactly as written`);
      }
    }
    if (hasNormalizer && entry.normalized === true) {
      throw unsupported(
        `added_tokens[${i}].normalized`,
        true,
        `with a normalizer, token ${show(entry.content)} must be matched in the raw text (normalized: false)`,
      );
    }
    return { id: entry.id, content: entry.content, special: entry.special !== false };
  });
}

/**
 * Reads a Hugging Face `tokenizer.json` (after `JSON.parse`).
 *
 * @throws UnsupportedConfigError naming the field for anything {@link BpeTokenizer} does not
 *   run exactly as `tokenizers` does: a model other than BPE, BPE dropout, a subword prefix or
 *   suffix, a normalizer / pre-tokenizer / decoder / post-processor outside `bpe-pipeline.ts`
 *   (e.g. a Split regex that is not a known one, a Regex Replace, RobertaProcessing),
 *   `byte_fallback` in a byte-level tokenizer, added tokens with `single_word` / `lstrip` /
 *   `rstrip`, or `normalized` added tokens beside a normalizer.
 * @throws CheckpointError if the file does not have the tokenizer.json structure.
 */
export function parseHuggingFace(json: unknown): BpeParts {
  if (!isObject(json)) throw new CheckpointError(`${WHAT}: expected the parsed tokenizer.json object, got ${show(json)}`);
  const model = json.model;
  if (!isObject(model)) throw new CheckpointError(`${WHAT}: tokenizer.json has no model object`);
  if (model.type !== undefined && model.type !== 'BPE') {
    throw unsupported('model.type', model.type, 'only BPE models are implemented');
  }
  const reader = new PipelineReader(WHAT);
  const normalizer = reader.normalizer(json.normalizer);
  const preTokenizer = reader.preTokenizer(json.pre_tokenizer);
  const decoder = reader.decoder(json.decoder);
  const postProcessor = reader.postProcessor(json.post_processor);
  checkModelOption(model, 'dropout', (v) => v === null || v === 0, 'BPE dropout is not implemented');
  checkModelOption(model, 'byte_fallback', (v) => typeof v === 'boolean', 'it must be a boolean');
  checkModelOption(model, 'ignore_merges', (v) => typeof v === 'boolean', 'it must be a boolean');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    checkModelOption(model, key, (v) => v === null || v === '', 'subword prefixes and suffixes are not implemented');
  }
  const pipeline: BpePipeline = {
    normalizer,
    preTokenizer,
    decoder,
    postProcessor,
    byteFallback: model.byte_fallback === true,
    ignoreMerges: model.ignore_merges === true,
  };
  checkPipeline(pipeline, reader);
  const unk = model.unk_token;
  if (unk !== undefined && unk !== null && typeof unk !== 'string') {
    throw new CheckpointError(`${WHAT}: model.unk_token must be a string or null, got ${show(unk)}`);
  }
  return {
    vocab: parseVocab(model.vocab, WHAT),
    merges: parseMergeList(model.merges, WHAT),
    specialTokens: parseAddedTokens(json.added_tokens, normalizer.length > 0),
    unkToken: unk ?? null,
    fuseUnk: model.fuse_unk === true,
    pipeline,
  };
}

/** Writes the parts as a Hugging Face `tokenizer.json` object (merges as `[left, right]` pairs). */
export function buildHuggingFace(parts: BpeParts): HuggingFaceTokenizerJSON {
  const { normalizer, pre_tokenizer, post_processor, decoder } = pipelineJson(parts.pipeline);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: parts.specialTokens.map(({ id, content, special }) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special,
    })),
    normalizer: normalizer as HuggingFaceTokenizerJSON['normalizer'],
    pre_tokenizer: pre_tokenizer as HuggingFaceTokenizerJSON['pre_tokenizer'],
    post_processor: post_processor as HuggingFaceTokenizerJSON['post_processor'],
    decoder: decoder as HuggingFaceTokenizerJSON['decoder'],
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: parts.unkToken,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: parts.fuseUnk,
      byte_fallback: parts.pipeline.byteFallback,
      ignore_merges: parts.pipeline.ignoreMerges,
      vocab: Object.fromEntries([...parts.vocab].sort((a, b) => a[1] - b[1])),
      merges: parts.merges.map(([a, b]) => [a, b]),
    },
  };
}
