/**
 * What a BPE tokenizer does around its model, as read from (and written to) the `normalizer`,
 * `pre_tokenizer`, `decoder` and `post_processor` of a Hugging Face `tokenizer.json`, plus the
 * two model flags that change how a pre-token is tokenized (`byte_fallback`, `ignore_merges`).
 * Three families are implemented, each exactly as `tokenizers` runs it:
 *
 * - GPT-2 byte-level BPE: ByteLevel pre-tokenizer (GPT-2's regex) and decoder.
 * - Llama-3 / tiktoken-style byte-level BPE: Sequence[Split(Regex, Isolated), ByteLevel(use_regex
 *   false)] with a known regex (see `bpe-split-regex.ts`), usually with `ignore_merges`.
 * - SentencePiece-style BPE (Llama-1/2, Mistral): a Metaspace pre-tokenizer, or the older
 *   normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], `byte_fallback` to `<0xNN>` tokens,
 *   decoders Replace / ByteFallback / Fuse / Strip / Metaspace.
 *
 * Any post-processor is a TemplateProcessing (optionally in a Sequence with ByteLevel, which
 * only changes offsets) or none. Everything else is refused with an
 * {@link UnsupportedConfigError} naming the field.
 */
import { CheckpointError, UnsupportedConfigError } from '../errors.js';
import { KNOWN_SPLIT_PATTERNS, knownSplitPattern } from './bpe-split-regex.js';
import type { HuggingFaceTemplatePiece, HuggingFaceTemplateProcessing } from './huggingface-json.js';

/** One normalizer step; applied in order to each piece of text between added tokens. */
export type BpeNormalizerStep =
  /** Puts `prepend` before a non-empty text (HF `Prepend`). */
  | {
      /** The step. */
      type: 'Prepend';
      /** What is put first, e.g. `'▁'`. */
      prepend: string;
    }
  /** Replaces every occurrence of the string `pattern` by `content` (HF `Replace` with a String pattern). */
  | {
      /** The step. */
      type: 'Replace';
      /** The string replaced. */
      pattern: string;
      /** Its replacement. */
      content: string;
    };

/** When the Metaspace pre-tokenizer puts its replacement character before a text. */
export type MetaspacePrependScheme = 'first' | 'always' | 'never';

/** How text is cut into pre-tokens before BPE. */
export type BpePreTokenizer =
  /** GPT-2: GPT-2's regex, then each piece's UTF-8 bytes as byte-level characters. */
  | {
      /** The pre-tokenizer. */
      type: 'ByteLevel';
    }
  /** Split by a known regex (Oniguruma `pattern`, Isolated), then bytes as byte-level characters. */
  | {
      /** The pre-tokenizer. */
      type: 'SplitByteLevel';
      /** The regex, one of the known patterns (Llama-3's, …). */
      pattern: string;
    }
  /** Spaces become `replacement`, which is prepended by `prependScheme`; `split` cuts before each replacement character. */
  | {
      /** The pre-tokenizer. */
      type: 'Metaspace';
      /** What spaces become, usually `'▁'`. */
      replacement: string;
      /** When the replacement goes before a text. */
      prependScheme: MetaspacePrependScheme;
      /** Cut a pre-token before each replacement character. */
      split: boolean;
    }
  /** No pre-tokenizer: each (normalized) text between added tokens is one pre-token. */
  | {
      /** The pre-tokenizer. */
      type: 'None';
    };

/** One decoder step, applied in order to the list of token strings (HF `decode_chain`). */
export type BpeDecoderStep =
  /** Byte-level characters back to bytes, then UTF-8 text. */
  | {
      /** The step. */
      type: 'ByteLevel';
    }
  /** Replaces every `pattern` by `content` in each token string. */
  | {
      /** The step. */
      type: 'Replace';
      /** The string replaced. */
      pattern: string;
      /** Its replacement. */
      content: string;
    }
  /** `<0xNN>` tokens back to their bytes (invalid UTF-8 becomes U+FFFD). */
  | {
      /** The step. */
      type: 'ByteFallback';
    }
  /** Joins all token strings into one. */
  | {
      /** The step. */
      type: 'Fuse';
    }
  /** Removes up to `start` leading and `stop` trailing `content` characters from each string. */
  | {
      /** The step. */
      type: 'Strip';
      /** The character removed. */
      content: string;
      /** How many at most from the start. */
      start: number;
      /** How many at most from the end. */
      stop: number;
    }
  /** The Metaspace pre-tokenizer undone: `replacement` back to spaces. */
  | {
      /** The step. */
      type: 'Metaspace';
      /** The character that stands for a space. */
      replacement: string;
      /** Where a leading replacement was added (and is now removed). */
      prependScheme: MetaspacePrependScheme;
    };

/** One piece of a TemplateProcessing template, in tokenizer.json form. */
export type BpeTemplatePiece = HuggingFaceTemplatePiece;

/** A TemplateProcessing post-processor, in tokenizer.json form (written back as read). */
export type BpeTemplate = HuggingFaceTemplateProcessing;

/** Everything around the BPE model (see the module comment). */
export interface BpePipeline {
  /** Normalizer steps, in order (empty: none). */
  normalizer: BpeNormalizerStep[];
  /** How text is cut into pre-tokens. */
  preTokenizer: BpePreTokenizer;
  /** Decoder steps, in order. */
  decoder: BpeDecoderStep[];
  /** Adds special tokens around an encoded text (when asked to); null for none. */
  postProcessor: BpeTemplate | null;
  /** A character not in the vocabulary becomes its UTF-8 bytes' `<0xNN>` tokens, if they all exist. */
  byteFallback: boolean;
  /** A pre-token that is itself in the vocabulary is one token, without merging. */
  ignoreMerges: boolean;
}

/** GPT-2's pipeline, the one {@link BpeTokenizer.train} makes. */
export const GPT2_PIPELINE: BpePipeline = Object.freeze<BpePipeline>({
  normalizer: [],
  preTokenizer: { type: 'ByteLevel' },
  decoder: [{ type: 'ByteLevel' }],
  postProcessor: null,
  byteFallback: false,
  ignoreMerges: false,
});

/** Whether the model's symbols are byte-level characters (GPT-2, Llama-3) rather than Unicode characters. */
export function isByteLevel(p: BpePipeline): boolean {
  return p.preTokenizer.type === 'ByteLevel' || p.preTokenizer.type === 'SplitByteLevel';
}

/** Whether `p` is GPT-2's pipeline (nothing beyond what wasmformer's byte-level BPE always did). */
export function isGpt2Pipeline(p: BpePipeline): boolean {
  return p.preTokenizer.type === 'ByteLevel' && p.normalizer.length === 0 && p.postProcessor === null && !p.byteFallback && !p.ignoreMerges;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Parsing context: the name of the caller for messages. */
export class PipelineReader {
  constructor(private readonly what: string) {}

  unsupported(field: string, value: unknown, why: string): UnsupportedConfigError {
    return new UnsupportedConfigError(`${this.what}: ${field} = ${show(value)} is not supported; ${why}`, field, value);
  }

  malformed(field: string, expected: string, value: unknown): CheckpointError {
    return new CheckpointError(`${this.what}: ${field} must be ${expected}, got ${show(value)}`);
  }

  private object(field: string, value: unknown): Record<string, unknown> {
    if (!isObject(value)) throw this.malformed(field, 'an object', value);
    return value;
  }

  private string(field: string, value: unknown, nonEmpty = false): string {
    if (typeof value !== 'string' || (nonEmpty && value === ''))
      throw this.malformed(field, nonEmpty ? 'a non-empty string' : 'a string', value);
    return value;
  }

  private char(field: string, value: unknown): string {
    const s = this.string(field, value);
    if ([...s].length !== 1) throw this.malformed(field, 'one character', value);
    return s;
  }

  private list(field: string, value: unknown): unknown[] {
    if (!Array.isArray(value)) throw this.malformed(field, 'an array', value);
    return value;
  }

  /** A Replace pattern: only `{ String }` (a Regex pattern is refused). */
  private replacePattern(field: string, pattern: unknown): string {
    const p = this.object(field, pattern);
    if (p.Regex !== undefined) throw this.unsupported(`${field}.Regex`, p.Regex, 'only String patterns are implemented for Replace');
    return this.string(`${field}.String`, p.String, true);
  }

  normalizer(value: unknown, field = 'normalizer'): BpeNormalizerStep[] {
    if (value === null || value === undefined) return [];
    const n = this.object(field, value);
    if (n.type === 'Sequence')
      return this.list(`${field}.normalizers`, n.normalizers).flatMap((x, i) => this.normalizer(x, `${field}.normalizers[${i}]`));
    if (n.type === 'Prepend') return [{ type: 'Prepend', prepend: this.string(`${field}.prepend`, n.prepend) }];
    if (n.type === 'Replace')
      return [
        {
          type: 'Replace',
          pattern: this.replacePattern(`${field}.pattern`, n.pattern),
          content: this.string(`${field}.content`, n.content),
        },
      ];
    throw this.unsupported(
      `${field}.type`,
      n.type,
      'the normalizers implemented are Prepend, Replace (String pattern) and a Sequence of them',
    );
  }

  private metaspaceScheme(field: string, m: Record<string, unknown>): MetaspacePrependScheme {
    const scheme = m.prepend_scheme ?? 'always';
    if (scheme !== 'first' && scheme !== 'always' && scheme !== 'never')
      throw this.malformed(`${field}.prepend_scheme`, '"first", "always" or "never"', scheme);
    // Files from tokenizers < 0.19 have add_prefix_space instead (false means "never").
    if (m.add_prefix_space === false) {
      if (m.prepend_scheme !== undefined && scheme !== 'never')
        throw this.malformed(`${field}.add_prefix_space`, `true with prepend_scheme ${show(scheme)}`, false);
      return 'never';
    }
    return scheme;
  }

  preTokenizer(value: unknown): BpePreTokenizer {
    const field = 'pre_tokenizer';
    if (value === null || value === undefined) return { type: 'None' };
    const p = this.object(field, value);
    if (p.type === 'ByteLevel') {
      if (p.add_prefix_space === true)
        throw this.unsupported(`${field}.add_prefix_space`, true, 'wasmformer encodes text without adding a leading space');
      if (p.use_regex === false)
        throw this.unsupported(
          `${field}.use_regex`,
          false,
          'a ByteLevel pre-tokenizer without its regex is implemented only after a Split (Llama-3 style)',
        );
      return { type: 'ByteLevel' };
    }
    if (p.type === 'Metaspace') {
      const split = p.split ?? true;
      if (typeof split !== 'boolean') throw this.malformed(`${field}.split`, 'a boolean', split);
      return {
        type: 'Metaspace',
        replacement: this.char(`${field}.replacement`, p.replacement),
        prependScheme: this.metaspaceScheme(field, p),
        split,
      };
    }
    if (p.type === 'Sequence') {
      const steps = this.list(`${field}.pretokenizers`, p.pretokenizers);
      const [split, byteLevel] = steps;
      if (steps.length !== 2 || !isObject(split) || split.type !== 'Split' || !isObject(byteLevel) || byteLevel.type !== 'ByteLevel') {
        throw this.unsupported(
          `${field}.pretokenizers`,
          steps.map((s) => (isObject(s) ? s.type : s)),
          'the only Sequence implemented is [Split, ByteLevel] (Llama-3 style)',
        );
      }
      const where = `${field}.pretokenizers[0]`;
      const pattern = this.object(`${where}.pattern`, split.pattern);
      if (typeof pattern.Regex !== 'string')
        throw this.unsupported(`${where}.pattern`, pattern, 'only a Regex pattern is implemented for Split');
      if (knownSplitPattern(pattern.Regex) === undefined) {
        throw this.unsupported(
          `${where}.pattern.Regex`,
          pattern.Regex,
          `wasmformer runs only regexes it has translated exactly: ${KNOWN_SPLIT_PATTERNS.map(show).join(', ')}`,
        );
      }
      if (split.behavior !== 'Isolated') throw this.unsupported(`${where}.behavior`, split.behavior, 'only Isolated is implemented');
      if (split.invert === true) throw this.unsupported(`${where}.invert`, true, 'an inverted Split is not implemented');
      const bl = `${field}.pretokenizers[1]`;
      if (byteLevel.add_prefix_space === true)
        throw this.unsupported(`${bl}.add_prefix_space`, true, 'wasmformer encodes text without adding a leading space');
      if (byteLevel.use_regex !== false)
        throw this.unsupported(`${bl}.use_regex`, byteLevel.use_regex ?? true, 'after a Split, ByteLevel must not split again');
      return { type: 'SplitByteLevel', pattern: pattern.Regex };
    }
    throw this.unsupported(
      `${field}.type`,
      p.type,
      'the pre-tokenizers implemented are ByteLevel, Metaspace, Sequence[Split, ByteLevel] and none',
    );
  }

  decoder(value: unknown, field = 'decoder'): BpeDecoderStep[] {
    if (value === null || value === undefined)
      throw this.unsupported(
        field,
        null,
        'a decoder is required (ByteLevel, Metaspace or a Sequence of Replace / ByteFallback / Fuse / Strip)',
      );
    const d = this.object(field, value);
    switch (d.type) {
      case 'Sequence':
        if (field !== 'decoder') throw this.unsupported(`${field}.type`, d.type, 'nested decoder Sequences are not implemented');
        return this.list(`${field}.decoders`, d.decoders).flatMap((x, i) => this.decoder(x, `${field}.decoders[${i}]`));
      case 'ByteLevel':
        return [{ type: 'ByteLevel' }];
      case 'Replace':
        return [
          {
            type: 'Replace',
            pattern: this.replacePattern(`${field}.pattern`, d.pattern),
            content: this.string(`${field}.content`, d.content),
          },
        ];
      case 'ByteFallback':
      case 'Fuse':
        return [{ type: d.type }];
      case 'Strip': {
        const count = (key: 'start' | 'stop'): number => {
          const v = d[key];
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw this.malformed(`${field}.${key}`, 'a non-negative integer', v);
          return v;
        };
        return [{ type: 'Strip', content: this.char(`${field}.content`, d.content), start: count('start'), stop: count('stop') }];
      }
      case 'Metaspace':
        return [
          {
            type: 'Metaspace',
            replacement: this.char(`${field}.replacement`, d.replacement),
            prependScheme: this.metaspaceScheme(field, d),
          },
        ];
      default:
        throw this.unsupported(
          `${field}.type`,
          d.type,
          'the decoders implemented are ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip and a Sequence of them',
        );
    }
  }

  private template(field: string, value: unknown, pieces: 'A' | 'AB'): BpeTemplatePiece[] {
    const list = this.list(field, value).map((piece, i): BpeTemplatePiece => {
      const where = `${field}[${i}]`;
      const p = this.object(where, piece);
      const typeId = (x: Record<string, unknown>): number => {
        const t = x.type_id ?? 0;
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw this.malformed(`${where}.type_id`, 'a non-negative integer', t);
        return t;
      };
      if (isObject(p.SpecialToken))
        return { SpecialToken: { id: this.string(`${where}.SpecialToken.id`, p.SpecialToken.id), type_id: typeId(p.SpecialToken) } };
      if (isObject(p.Sequence) && (p.Sequence.id === 'A' || p.Sequence.id === 'B'))
        return { Sequence: { id: p.Sequence.id, type_id: typeId(p.Sequence) } };
      throw this.malformed(where, '{ SpecialToken } or { Sequence: { id: "A" | "B" } }', piece);
    });
    const sequences = list.map((p) => ('Sequence' in p ? p.Sequence.id : '')).join('');
    if (sequences !== pieces)
      throw this.malformed(field, `a template with ${pieces === 'A' ? 'the sequence A once' : 'A then B, once each'}`, value);
    return list;
  }

  private templateProcessing(field: string, p: Record<string, unknown>): BpeTemplate {
    const specials = this.object(`${field}.special_tokens`, p.special_tokens ?? {});
    const special_tokens: BpeTemplate['special_tokens'] = {};
    for (const [name, spec] of Object.entries(specials)) {
      const where = `${field}.special_tokens[${show(name)}]`;
      const s = this.object(where, spec);
      const ids = this.list(`${where}.ids`, s.ids);
      const tokens = this.list(`${where}.tokens`, s.tokens);
      if (
        !ids.every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0) ||
        !tokens.every((t) => typeof t === 'string') ||
        ids.length !== tokens.length
      ) {
        throw this.malformed(where, '{ id, ids: number[], tokens: string[] } of equal lengths', spec);
      }
      special_tokens[name] = { id: typeof s.id === 'string' ? s.id : name, ids: ids as number[], tokens: tokens as string[] };
    }
    const single = this.template(`${field}.single`, p.single, 'A');
    const pair = this.template(`${field}.pair`, p.pair, 'AB');
    for (const piece of [...single, ...pair]) {
      if ('SpecialToken' in piece && special_tokens[piece.SpecialToken.id] === undefined) {
        throw this.malformed(`${field}.special_tokens`, `an entry for ${show(piece.SpecialToken.id)}, which the template uses`, specials);
      }
    }
    return { type: 'TemplateProcessing', single, pair, special_tokens };
  }

  postProcessor(value: unknown): BpeTemplate | null {
    const field = 'post_processor';
    if (value === null || value === undefined) return null;
    const p = this.object(field, value);
    const steps = p.type === 'Sequence' ? this.list(`${field}.processors`, p.processors) : [p];
    let template: BpeTemplate | null = null;
    steps.forEach((step, i) => {
      const where = p.type === 'Sequence' ? `${field}.processors[${i}]` : field;
      const s = this.object(where, step);
      if (s.type === 'ByteLevel') return; // changes offsets only
      if (s.type !== 'TemplateProcessing')
        throw this.unsupported(
          `${where}.type`,
          s.type,
          'the post-processors implemented are TemplateProcessing, ByteLevel and a Sequence of them',
        );
      if (template !== null) throw this.unsupported(where, s.type, 'only one TemplateProcessing is implemented');
      template = this.templateProcessing(where, s);
    });
    return template;
  }
}

/** The decoder, pre-tokenizer and normalizer combinations {@link BpeTokenizer} runs; throws otherwise. */
export function checkPipeline(p: BpePipeline, reader: PipelineReader): void {
  const byteLevelDecoder = p.decoder.some((d) => d.type === 'ByteLevel');
  if (isByteLevel(p)) {
    if (p.normalizer.length > 0)
      throw reader.unsupported(
        'normalizer.type',
        p.normalizer[0]?.type,
        'byte-level BPE in wasmformer has no normalizer (it must be null)',
      );
    if (!byteLevelDecoder || p.decoder.length !== 1)
      throw reader.unsupported(
        'decoder',
        p.decoder.map((d) => d.type),
        'a byte-level pre-tokenizer needs the ByteLevel decoder alone',
      );
    if (p.byteFallback)
      throw reader.unsupported('model.byte_fallback', true, 'byte fallback belongs to SentencePiece-style BPE, not to byte-level BPE');
  } else if (byteLevelDecoder) {
    throw reader.unsupported(
      'decoder',
      p.decoder.map((d) => d.type),
      'the ByteLevel decoder needs a byte-level pre-tokenizer',
    );
  }
}

const byteLevelJson = (addPrefixSpace: boolean, trimOffsets: boolean, useRegex = true): Record<string, unknown> => ({
  type: 'ByteLevel',
  add_prefix_space: addPrefixSpace,
  trim_offsets: trimOffsets,
  use_regex: useRegex,
});

function stepJson(step: BpeNormalizerStep | BpeDecoderStep): Record<string, unknown> {
  switch (step.type) {
    case 'Prepend':
      return { type: 'Prepend', prepend: step.prepend };
    case 'Replace':
      return { type: 'Replace', pattern: { String: step.pattern }, content: step.content };
    case 'ByteLevel':
      return byteLevelJson(true, true);
    case 'ByteFallback':
      return { type: 'ByteFallback' };
    case 'Fuse':
      return { type: 'Fuse' };
    case 'Strip':
      return { type: 'Strip', content: step.content, start: step.start, stop: step.stop };
    case 'Metaspace':
      return { type: 'Metaspace', replacement: step.replacement, prepend_scheme: step.prependScheme, split: true };
  }
}

/** The four tokenizer.json components of a pipeline, as `tokenizers` serialises them. */
export function pipelineJson(p: BpePipeline): { normalizer: unknown; pre_tokenizer: unknown; post_processor: unknown; decoder: unknown } {
  const sequence = (key: string, steps: Record<string, unknown>[]): unknown =>
    steps.length === 1 ? steps[0] : { type: 'Sequence', [key]: steps };
  const pre = p.preTokenizer;
  let preTokenizer: unknown = null;
  if (pre.type === 'ByteLevel') preTokenizer = byteLevelJson(false, true);
  if (pre.type === 'Metaspace')
    preTokenizer = { type: 'Metaspace', replacement: pre.replacement, prepend_scheme: pre.prependScheme, split: pre.split };
  if (pre.type === 'SplitByteLevel') {
    preTokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: pre.pattern }, behavior: 'Isolated', invert: false },
        byteLevelJson(false, true, false),
      ],
    };
  }
  const template = p.postProcessor ? structuredClone(p.postProcessor) : null;
  let postProcessor: unknown = template;
  // As `tokenizers` writes GPT-2's (add_prefix_space only affects offsets) and Llama-3's.
  if (isByteLevel(p))
    postProcessor = template ? { type: 'Sequence', processors: [byteLevelJson(true, false), template] } : byteLevelJson(true, false);
  return {
    normalizer: p.normalizer.length === 0 ? null : sequence('normalizers', p.normalizer.map(stepJson)),
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor,
    decoder: sequence('decoders', p.decoder.map(stepJson)),
  };
}
