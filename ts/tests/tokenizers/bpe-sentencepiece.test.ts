// SentencePiece-style BPE (Llama-1/2, Mistral as Hugging Face converts them) against HF
// `tokenizers`: the fixtures and the shared checks are described in bpe-llama-fixtures.ts.
import { describe, expect, it } from 'vitest';
import { UnsupportedConfigError } from '../../src/errors.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { fixtureExpected, fixtureJson, parityTests } from './bpe-llama-fixtures.js';

describe('SentencePiece-style BPE: Metaspace (prepend "first", split false), byte fallback, Replace/ByteFallback/Fuse/Strip decoder', () => {
  parityTests('sp-metaspace');
});

describe('SentencePiece-style BPE, older files: Prepend/Replace normalizer, no byte tokens for 0xE0..0xFF (fused <unk>)', () => {
  parityTests('sp-legacy');
});

describe('SentencePiece-style BPE: Metaspace (prepend "always", split true) and Metaspace decoder, no byte tokens, unfused <unk>', () => {
  parityTests('sp-always');
});

function refusal(json: unknown): UnsupportedConfigError {
  try {
    BpeTokenizer.fromHuggingFace(json);
  } catch (error) {
    expect(error).toBeInstanceOf(UnsupportedConfigError);
    return error as UnsupportedConfigError;
  }
  throw new Error('expected an UnsupportedConfigError');
}

describe('SentencePiece-style BPE: what the fixtures pin down', () => {
  const json = fixtureJson('sp-metaspace');
  const tokenizer = BpeTokenizer.fromHuggingFace(json);

  it('is a sentencepiece tokenizer that adds <s> unless told not to', () => {
    expect(tokenizer.family).toBe('sentencepiece');
    expect([...tokenizer.encode('')]).toEqual([1]);
    expect([...tokenizer.encode('', { addSpecialTokens: false })]).toEqual([]);
  });

  it('falls back to <0xNN> byte tokens for characters outside the vocabulary', () => {
    const ids = [...tokenizer.encode('😀', { addSpecialTokens: false })];
    expect(ids.slice(-4).map((id) => tokenizer.idToToken(id))).toEqual(['<0xF0>', '<0x9F>', '<0x98>', '<0x80>']);
    expect(tokenizer.decode(ids)).toBe('😀');
  });

  it('fuses a run of unknown characters into one <unk> when byte tokens are missing', () => {
    const legacy = BpeTokenizer.fromHuggingFace(fixtureJson('sp-legacy'));
    const row = fixtureExpected('sp-legacy').encode.find((e) => e.text.startsWith('東京'));
    expect(row?.ids.filter((id) => id === 0).length).toBeGreaterThan(0);
    expect([...legacy.encode('東京', { addSpecialTokens: false })].filter((id) => id === 0)).toHaveLength(1);
  });

  it('saves as tokenizer.json only: vocab.json + merges.txt cannot hold the pipeline', () => {
    expect(() => tokenizer.toVocabMerges()).toThrow(UnsupportedConfigError);
  });

  it('refuses what it does not implement, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...json, model: { ...json.model, type: 'Unigram' } }, 'model.type'],
      [
        {
          ...json,
          normalizer: {
            type: 'Sequence',
            normalizers: [
              { type: 'Prepend', prepend: '▁' },
              { type: 'Replace', pattern: { Regex: ' +' }, content: '▁' },
            ],
          },
        },
        'normalizer.normalizers[1].pattern.Regex',
      ],
      [{ ...json, normalizer: { type: 'NFKC' } }, 'normalizer.type'],
      [{ ...json, decoder: { type: 'CTC' } }, 'decoder.type'],
      [{ ...json, decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } }, 'decoder'],
      [{ ...json, post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1] } }, 'post_processor.type'],
      [{ ...json, pre_tokenizer: { type: 'Whitespace' } }, 'pre_tokenizer.type'],
      [{ ...json, model: { ...json.model, dropout: 0.1 } }, 'model.dropout'],
      [
        {
          ...json,
          normalizer: { type: 'Prepend', prepend: '▁' },
          added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
        },
        'added_tokens[0].normalized',
      ],
    ];
    for (const [variant, field] of cases) {
      const error = refusal(variant);
      expect(error.field, field).toBe(field);
      expect(error.message).toContain(field);
    }
  });
});
