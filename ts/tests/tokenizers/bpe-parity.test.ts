// Parity with Hugging Face `tokenizers` and transformers' GPT2TokenizerFast. The fixtures in
// ts/tests/fixtures/bpe/ were written by scripts/fixtures/make_bpe_fixtures.py: a byte-level
// BPE trained by HF's BpeTrainer on train.txt (vocab 700, min_frequency 2, <|endoftext|>),
// saved as tokenizer.json / vocab.json / merges.txt, and expected.json with the ids HF gives
// for tricky strings (the script checks that tokenizers and transformers agree).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, UnsupportedConfigError } from '../../src/errors.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { ROOT } from '../helpers/node.js';

const DIR = join(ROOT, 'ts/tests/fixtures/bpe');

interface Expected {
  train: { vocab_size: number; min_frequency: number; special_tokens: string[] };
  vocab_size: number;
  encode: { text: string; ids: number[] }[];
  decode: { ids: number[]; text: string; skip_special: string }[];
}

const read = (name: string): string => readFileSync(join(DIR, name), 'utf8');
const expected = JSON.parse(read('expected.json')) as Expected;
const tokenizerJson = JSON.parse(read('tokenizer.json')) as Record<string, unknown> & { model: Record<string, unknown> };
const fromHf = BpeTokenizer.fromHuggingFace(tokenizerJson);
const fromFiles = BpeTokenizer.fromVocabMerges(JSON.parse(read('vocab.json')) as Record<string, number>, read('merges.txt'));

describe('byte-level BPE parity with Hugging Face', () => {
  it('loads tokenizer.json and vocab.json + merges.txt to the same tokenizer', () => {
    expect(fromHf.vocabSize).toBe(expected.vocab_size);
    expect(fromHf.merges.length).toBeGreaterThan(300);
    expect(fromHf.specialTokens).toEqual([{ id: 0, content: '<|endoftext|>', special: true }]);
    expect(fromFiles.toJSON()).toEqual(fromHf.toJSON());
  });

  it.each(expected.encode.map((e) => [JSON.stringify(e.text).slice(0, 50), e] as const))(
    'encodes %s to the ids of HF',
    (_, { text, ids }) => {
      expect([...fromHf.encode(text)]).toEqual(ids);
      expect([...fromFiles.encode(text)]).toEqual(ids);
      expect(fromHf.decode(ids)).toBe(text);
    },
  );

  it('decodes ids as HF does, including invalid UTF-8', () => {
    for (const { ids, text, skip_special } of expected.decode) {
      expect(fromHf.decode(ids)).toBe(text);
      expect(fromHf.decode(ids, { skipSpecialTokens: true })).toBe(skip_special);
    }
    expect(expected.decode.some((d) => d.text.includes('\ufffd'))).toBe(true);
  });

  it("training on the same text learns HF's vocabulary and merges exactly", () => {
    const { vocab_size, min_frequency, special_tokens } = expected.train;
    const ours = BpeTokenizer.train(read('train.txt'), {
      vocabSize: vocab_size,
      minFrequency: min_frequency,
      specialTokens: special_tokens,
    });
    expect(ours.merges).toEqual(fromHf.merges);
    expect(ours.toJSON()).toEqual(fromHf.toJSON());
  });

  it('writes a tokenizer.json with the model, added tokens and ByteLevel components of HF', () => {
    const ours = fromHf.toHuggingFace();
    expect(ours.model.vocab).toEqual(tokenizerJson.model.vocab);
    expect(ours.model.merges).toEqual(tokenizerJson.model.merges);
    expect(ours.added_tokens).toEqual(tokenizerJson.added_tokens);
    expect(ours.pre_tokenizer).toEqual(tokenizerJson.pre_tokenizer);
    expect(ours.decoder).toEqual(tokenizerJson.decoder);
    expect(ours.normalizer).toBeNull();
    const { vocab, merges } = fromHf.toVocabMerges();
    expect(vocab).toEqual(JSON.parse(read('vocab.json')));
    expect(merges).toBe(read('merges.txt'));
  });

  it('reads GPT-2\'s hub form: merges as "left right" strings, empty prefix/suffix, a normalized added token', () => {
    const merges = (tokenizerJson.model.merges as [string, string][]).map(([a, b]) => `${a} ${b}`);
    const addedTokens = [
      { id: 0, special: true, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true },
    ];
    const model = { ...tokenizerJson.model, merges, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false };
    const hub = BpeTokenizer.fromHuggingFace({ ...tokenizerJson, added_tokens: addedTokens, model });
    expect(hub.toJSON()).toEqual(fromHf.toJSON());
  });

  it('refuses what it does not implement, naming the field', () => {
    const variant = (patch: Record<string, unknown>, model: Record<string, unknown> = {}): unknown => ({
      ...tokenizerJson,
      ...patch,
      model: { ...tokenizerJson.model, ...model },
    });
    const cases: [unknown, string, unknown][] = [
      // Metaspace (SentencePiece-style) loads, but not mixed with byte-level parts (bpe-sentencepiece.test.ts).
      [
        variant({ pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true } }),
        'decoder',
        ['ByteLevel'],
      ],
      [variant({ decoder: { type: 'Metaspace', replacement: '▁' } }), 'decoder', ['Metaspace']],
      [variant({ normalizer: { type: 'NFC' } }), 'normalizer.type', 'NFC'],
      [
        variant({ pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } }),
        'pre_tokenizer.add_prefix_space',
        true,
      ],
      [variant({ pre_tokenizer: { type: 'Sequence', pretokenizers: [] } }), 'pre_tokenizer.pretokenizers', []],
      [variant({ pre_tokenizer: null }), 'decoder', ['ByteLevel']],
      [
        variant({ post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0] } }),
        'post_processor.type',
        'RobertaProcessing',
      ],
      [variant({}, { byte_fallback: true }), 'model.byte_fallback', true],
      [variant({}, { dropout: 0.1 }), 'model.dropout', 0.1],
      [variant({}, { type: 'Unigram' }), 'model.type', 'Unigram'],
      [variant({}, { continuing_subword_prefix: '##' }), 'model.continuing_subword_prefix', '##'],
      [
        variant({
          added_tokens: [
            { id: 0, content: '<|endoftext|>', lstrip: true, rstrip: false, single_word: false, normalized: false, special: true },
          ],
        }),
        'added_tokens[0].lstrip',
        true,
      ],
    ];
    for (const [json, field, value] of cases) {
      let error: unknown;
      try {
        BpeTokenizer.fromHuggingFace(json);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(UnsupportedConfigError);
      expect((error as UnsupportedConfigError).field).toBe(field);
      expect((error as UnsupportedConfigError).value).toEqual(value);
      expect((error as Error).message).toContain(field);
    }
    expect(() => BpeTokenizer.fromHuggingFace({ version: '1.0' })).toThrow(CheckpointError);
    expect(() => BpeTokenizer.fromHuggingFace(variant({}, { merges: [['Ġ', 'nope']] }))).toThrow(/not in the vocabulary/);
  });
});
