// Llama-3 / tiktoken-style byte-level BPE (Split regex + ByteLevel, ignore_merges) against HF
// `tokenizers`: the fixtures and the shared checks are described in bpe-llama-fixtures.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedConfigError } from '../../src/errors.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { fixtureJson, parityTests } from './bpe-llama-fixtures.js';

describe('Llama-3-style byte-level BPE: Split(Llama-3 regex) + ByteLevel, ignore_merges, TemplateProcessing', () => {
  parityTests('llama3');
});

describe('Llama-3-style byte-level BPE: what the fixtures pin down', () => {
  const json = fixtureJson('llama3');
  const tokenizer = BpeTokenizer.fromHuggingFace(json);

  it('is byte-level and adds <|begin_of_text|> unless told not to', () => {
    expect(tokenizer.family).toBe('byte-level');
    expect([...tokenizer.encode('')]).toEqual([tokenizer.tokenToId('<|begin_of_text|>')]);
  });

  it('emits a whole pre-token that is in the vocabulary as one token (ignore_merges)', () => {
    const zebra = tokenizer.tokenToId('Ġzebra');
    expect(zebra).toBeDefined();
    expect([...tokenizer.encode('a zebra', { addSpecialTokens: false })].slice(-1)).toEqual([zebra]);
    const merging = BpeTokenizer.fromHuggingFace({ ...json, model: { ...json.model, ignore_merges: false } });
    expect([...merging.encode(' zebra', { addSpecialTokens: false })].length).toBeGreaterThan(1);
  });

  it('decodes what it encodes, for any string without lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        expect(tokenizer.decode(tokenizer.encode(s, { addSpecialTokens: false }))).toBe(s);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('refuses a Split regex it has not translated, and other variants, naming the field', () => {
    const pre = json.pre_tokenizer as { pretokenizers: Record<string, unknown>[] };
    const withSplit = (split: Record<string, unknown>): Record<string, unknown> => ({
      ...json,
      pre_tokenizer: { ...pre, pretokenizers: [{ ...pre.pretokenizers[0], ...split }, pre.pretokenizers[1]] },
    });
    const cases: [Record<string, unknown>, string][] = [
      [withSplit({ pattern: { Regex: String.raw`(?i:'s|'t)|\p{L}+|\s+` } }), 'pre_tokenizer.pretokenizers[0].pattern.Regex'],
      [withSplit({ pattern: { String: ' ' } }), 'pre_tokenizer.pretokenizers[0].pattern'],
      [withSplit({ behavior: 'Removed' }), 'pre_tokenizer.pretokenizers[0].behavior'],
      [withSplit({ invert: true }), 'pre_tokenizer.pretokenizers[0].invert'],
      [{ ...json, model: { ...json.model, byte_fallback: true } }, 'model.byte_fallback'],
      [{ ...json, decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true } }, 'decoder'],
    ];
    for (const [variant, field] of cases) {
      let error: unknown;
      try {
        BpeTokenizer.fromHuggingFace(variant);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(UnsupportedConfigError);
      expect((error as UnsupportedConfigError).field, field).toBe(field);
    }
  });
});
