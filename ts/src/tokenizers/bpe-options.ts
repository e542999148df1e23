/**
 * The option and serialisation types of {@link BpeTokenizer} (re-exported by `bpe.ts`), and
 * the reader of its saved pipeline.
 */
import { CheckpointError } from '../errors.js';
import type { BpeSpecialToken } from './bpe-huggingface.js';
import { checkPipeline, PipelineReader, type BpePipeline } from './bpe-pipeline.js';

/**
 * Which kind of BPE a tokenizer is: `'gpt2'` (byte-level with GPT-2's regex; what `train`
 * makes), `'byte-level'` (Llama-3 / tiktoken style: another split regex, `ignore_merges`, or a
 * post-processor template), `'sentencepiece'` (Metaspace / Prepend-Replace with byte fallback:
 * Llama-1/2, Mistral).
 */
export type BpeFamily = 'gpt2' | 'byte-level' | 'sentencepiece';

/** Options of {@link BpeTokenizer.encode}. */
export interface BpeEncodeOptions {
  /**
   * Add the special tokens of the tokenizer.json post-processor template (Llama's `<s>`,
   * Llama-3's `<|begin_of_text|>`), as HF's `add_special_tokens`. Default true; tokenizers
   * without a template (GPT-2, trained ones) never add any.
   */
  addSpecialTokens?: boolean;
}

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
  /** Tells the tokenizers of a checkpoint apart. */
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
  /**
   * For tokenizers that are not GPT-2 style: the tokenizer.json `normalizer`, `pre_tokenizer`,
   * `post_processor` and `decoder` and the model's `byte_fallback` and `ignore_merges`.
   * Absent for GPT-2 style (ByteLevel) tokenizers.
   */
  pipeline?: BpePipelineJSON;
}

/** {@link BpeTokenizerJSON.pipeline}: the tokenizer.json fields that define a non-GPT-2 pipeline. */
export interface BpePipelineJSON {
  /** tokenizer.json's `normalizer` (null or a supported Prepend / Replace sequence). */
  normalizer: unknown;
  /** tokenizer.json's `pre_tokenizer`. */
  pre_tokenizer: unknown;
  /** tokenizer.json's `post_processor` (null or TemplateProcessing). */
  post_processor: unknown;
  /** tokenizer.json's `decoder`. */
  decoder: unknown;
  /** `model.byte_fallback`: unknown characters become `<0xNN>` byte tokens. */
  byte_fallback: boolean;
  /** `model.ignore_merges`: a pre-token in the vocabulary is one token. */
  ignore_merges: boolean;
}

/** GPT-2's `vocab.json` (token → id) and `merges.txt` (text), as {@link BpeTokenizer.toVocabMerges} returns them. */
export interface BpeVocabMerges {
  /** vocab.json: token string → id. */
  vocab: Record<string, number>;
  /** merges.txt: a `#version` line, then one `left right` pair per line, by rank. */
  merges: string;
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Reads {@link BpeTokenizerJSON.pipeline} with the tokenizer.json readers (same checks, same errors). */
export function readPipeline(json: unknown, what: string): BpePipeline {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new CheckpointError(`${what}: pipeline must be an object, got ${show(json)}`);
  const j = json as Partial<Record<keyof BpePipelineJSON, unknown>>;
  const reader = new PipelineReader(what);
  const pipeline: BpePipeline = {
    normalizer: reader.normalizer(j.normalizer),
    preTokenizer: reader.preTokenizer(j.pre_tokenizer),
    decoder: reader.decoder(j.decoder),
    postProcessor: reader.postProcessor(j.post_processor),
    byteFallback: j.byte_fallback === true,
    ignoreMerges: j.ignore_merges === true,
  };
  checkPipeline(pipeline, reader);
  return pipeline;
}
