/**
 * The parts of a BERT WordPiece tokenizer over a plain vocabulary (a `vocab.txt` or a trained
 * one), as HF `BertTokenizer(vocab=…)` sets them up: BertNormalizer, BertPreTokenizer, the
 * five special tokens as added tokens, the [CLS] A [SEP] (B [SEP]) template, WordPiece decoder.
 */
import { InvalidArgumentError } from '../errors.js';
import type { WordPieceParts } from './wordpiece-huggingface.js';
import type { AddedTokenSpec, BertNormalizerOptions } from './wordpiece-text.js';
import type { WordPieceVocabOptions } from './wordpiece.js';

function bertTemplate(cls: string, clsId: number, sep: string, sepId: number): WordPieceParts['postProcessor'] {
  const s = (token: string, typeId: number) => ({ kind: 'special' as const, token, typeId });
  const q = (sequence: 'A' | 'B', typeId: number) => ({ kind: 'sequence' as const, sequence, typeId });
  return {
    single: [s(cls, 0), q('A', 0), s(sep, 0)],
    pair: [s(cls, 0), q('A', 0), s(sep, 0), q('B', 1), s(sep, 1)],
    specialTokens: new Map([
      [cls, { ids: [clsId], tokens: [cls] }],
      [sep, { ids: [sepId], tokens: [sep] }],
    ]),
  };
}

/** Throws InvalidArgumentError unless `v` is a boolean or undefined. */
export function checkBool(v: unknown, name: string, what: string): void {
  if (v !== undefined && typeof v !== 'boolean')
    throw new InvalidArgumentError(`${what}: ${name} must be a boolean, got ${JSON.stringify(v) ?? String(v)}`);
}

/** BertNormalizer options from user options (HF defaults: clean text, CJK, lower-case, strip accents = lower-case). */
export function normalizerOf(options: WordPieceVocabOptions, what: string): BertNormalizerOptions {
  for (const k of ['lowercase', 'cleanText', 'handleChineseChars'] as const) checkBool(options[k], k, what);
  if (options.stripAccents !== undefined && options.stripAccents !== null) checkBool(options.stripAccents, 'stripAccents', what);
  return {
    cleanText: options.cleanText ?? true,
    handleChineseChars: options.handleChineseChars ?? true,
    stripAccents: options.stripAccents ?? null,
    lowercase: options.lowercase ?? true,
  };
}

/** A special added token as HF registers BERT's: whole, matched on the raw text. */
export function specialToken(id: number, content: string): AddedTokenSpec {
  return { id, content, special: true, normalized: false, singleWord: false, lstrip: false, rstrip: false };
}

/** Builds the parts of a BERT tokenizer over a plain vocabulary (vocab.txt or a trained one). */
export function bertParts(vocab: string[], options: WordPieceVocabOptions, what: string): WordPieceParts {
  const ids = new Map<string, number>();
  vocab.forEach((token, id) => {
    const previous = ids.get(token);
    if (previous !== undefined)
      throw new InvalidArgumentError(
        `${what}: line ${id + 1} ${JSON.stringify(token)} duplicates line ${previous + 1}; tokens must be unique`,
      );
    ids.set(token, id);
  });
  const names = {
    unk: options.unkToken ?? '[UNK]',
    cls: options.clsToken ?? '[CLS]',
    sep: options.sepToken ?? '[SEP]',
    pad: options.padToken ?? '[PAD]',
    mask: options.maskToken ?? '[MASK]',
  };
  for (const key of ['unk', 'cls', 'sep'] as const) {
    if (!ids.has(names[key])) throw new InvalidArgumentError(`${what}: the vocabulary has no ${key} token ${JSON.stringify(names[key])}`);
  }
  const maxChars = options.maxInputCharsPerWord ?? 100;
  if (!Number.isInteger(maxChars) || maxChars < 1)
    throw new InvalidArgumentError(`${what}: maxInputCharsPerWord must be an integer >= 1, got ${maxChars}`);
  const addedTokens = [...new Set([names.pad, names.unk, names.cls, names.sep, names.mask])]
    .filter((t) => ids.has(t))
    .map((t) => specialToken(ids.get(t) as number, t))
    .sort((x, y) => x.id - y.id);
  return {
    vocab,
    modelVocabSize: vocab.length,
    unkToken: names.unk,
    continuingSubwordPrefix: '##',
    maxInputCharsPerWord: maxChars,
    normalizer: normalizerOf(options, what),
    addedTokens,
    postProcessor: bertTemplate(names.cls, ids.get(names.cls) as number, names.sep, ids.get(names.sep) as number),
    decoder: { prefix: '##', cleanup: true },
  };
}
