import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError, UnsupportedConfigError } from '../../src/errors.js';
import type { BertTokenizerLike } from '../../src/models/bert.js';
import type { ClassificationTokenizer } from '../../src/train/classification.js';
import { WordPieceTokenizer, type WordPieceEncodeOptions, type WordPieceEncoding } from '../../src/tokenizers/wordpiece.js';
import * as api from '../../src/index.js';

// Written by scripts/fixtures/make_wordpiece_fixtures.py with Hugging Face transformers /
// tokenizers from the all-MiniLM-L6-v2 files (see ts/tests/fixtures/wordpiece/README.md).
const dir = fileURLToPath(new URL('../fixtures/wordpiece/', import.meta.url));
const read = (name: string): string => readFileSync(dir + name, 'utf8');

interface Ids {
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
}
interface Case {
  text: string;
  pair: string | null;
  options: WordPieceEncodeOptions;
  expected: Ids;
  tokens: string[];
  tokenize: string[] | null;
  decoded: string;
  decodedSkipSpecial: string;
  legacyAgrees: boolean;
}
interface Expected {
  specialIds: { cls: number; sep: number; pad: number; mask: number; unk: number };
  cases: Case[];
  truncationErrors: { text: string; pair: string | null; options: WordPieceEncodeOptions; hf: { ok?: Ids; error?: string } }[];
  batch: { texts: string[]; inputIds: number[][]; tokenTypeIds: number[][]; attentionMask: number[][] };
}
interface TrainedExpected {
  options: { vocabSize: number; minFrequency: number; lowercase: boolean; specialTokens: string[] };
  wordCounts: [string, number][];
  vocabSize: number;
  sameVocabSetAcrossRuns: boolean;
  encodings: { text: string; ids: number[]; tokens: string[]; typeIds: number[]; decoded: string }[];
  pair: { text: string; pair: string; ids: number[]; typeIds: number[] };
}

const expected = JSON.parse(read('expected.json')) as Expected;
const vocabTxt = read('minilm-vocab.txt');
const vocabLines = vocabTxt.split('\n').slice(0, -1);
const tokenizerJson = JSON.parse(read('minilm-tokenizer-novocab.json')) as { model: { vocab: Record<string, number> } };
tokenizerJson.model.vocab = Object.fromEntries(vocabLines.map((t, i) => [t, i]));
const trainedJsonText = read('trained/tokenizer.json');
const trained = JSON.parse(read('trained/expected.json')) as TrainedExpected;

const fromTxt = WordPieceTokenizer.fromVocabTxt(vocabTxt, { lowercase: true });
const fromJson = WordPieceTokenizer.fromHuggingFace(tokenizerJson);

function plain(e: WordPieceEncoding): Ids {
  return { inputIds: [...e.inputIds], tokenTypeIds: [...e.tokenTypeIds], attentionMask: [...e.attentionMask] };
}

function encodeCase(tok: WordPieceTokenizer, c: { text: string; pair: string | null; options: WordPieceEncodeOptions }): WordPieceEncoding {
  return tok.encode(c.text, c.pair ?? undefined, c.options);
}

describe('WordPieceTokenizer: parity with Hugging Face BertTokenizer (all-MiniLM-L6-v2)', () => {
  it('has the special ids HF reports, from vocab.txt and tokenizer.json', () => {
    for (const tok of [fromTxt, fromJson]) {
      expect(tok.vocabSize).toBe(30522);
      const { cls, sep, pad, mask, unk } = expected.specialIds;
      expect([tok.clsId, tok.sepId, tok.padId, tok.maskId, tok.unkId]).toEqual([cls, sep, pad, mask, unk]);
      expect(tok.idToToken(tok.clsId)).toBe('[CLS]');
      expect(tok.tokenToId('[MASK]')).toBe(mask);
      expect(tok.tokenToId('not-a-token')).toBeUndefined();
      expect(tok.idToToken(30522)).toBeUndefined();
    }
  });

  it.each(expected.cases.map((c, i) => [i, c] as const))('case %i: ids, tokens and decode match HF', (_, c) => {
    for (const tok of [fromTxt, fromJson]) {
      const got = encodeCase(tok, c);
      expect(got.inputIds).toBeInstanceOf(Int32Array);
      expect(plain(got)).toEqual(c.expected);
      expect([...got.inputIds].map((id) => tok.idToToken(id))).toEqual(c.tokens);
      if (c.tokenize) expect(tok.tokenize(c.text)).toEqual(c.tokenize);
      expect(tok.decode(got.inputIds)).toBe(c.decoded);
      expect(tok.decode(got.inputIds, { skipSpecialTokens: true })).toBe(c.decodedSkipSpecial);
    }
  });

  it('covers the cases where HF Rust and the legacy Python tokenizer differ (the Rust one is followed)', () => {
    const disagree = expected.cases.filter((c) => !c.legacyAgrees).map((c) => c.text);
    expect(disagree).toContain('ΣΊΣΥΦΟΣ Greek final sigma ΟΔΟΣ σοφία');
    expect(disagree.length).toBeGreaterThan(0);
  });

  it('truncates like HF, and throws where HF raises', () => {
    for (const c of expected.truncationErrors) {
      for (const tok of [fromTxt, fromJson]) {
        if (c.hf.ok) expect(plain(encodeCase(tok, c))).toEqual(c.hf.ok);
        else expect(() => encodeCase(tok, c)).toThrow(InvalidArgumentError);
      }
    }
  });

  it('pads a batch to its longest row as HF', () => {
    for (const tok of [fromTxt, fromJson]) {
      const rows = tok.encodeBatch(expected.batch.texts);
      expect(rows.map((r) => [...r.inputIds])).toEqual(expected.batch.inputIds);
      expect(rows.map((r) => [...r.tokenTypeIds])).toEqual(expected.batch.tokenTypeIds);
      expect(rows.map((r) => [...r.attentionMask])).toEqual(expected.batch.attentionMask);
      const unpadded = tok.encodeBatch([...expected.batch.texts, ['a', 'b']], { padding: false });
      expect(unpadded.map((r) => r.inputIds.length)).toEqual([...expected.batch.inputIds.map((r) => r.filter((id) => id !== 0).length), 5]);
      const fixed = tok.encodeBatch(expected.batch.texts, { padding: 'max_length', maxLength: 20 });
      expect(fixed.every((r) => r.inputIds.length === 20 && r.attentionMask.length === 20)).toBe(true);
    }
  });

  it('cleans up tokenization spaces on request, as transformers does', () => {
    const ids = fromTxt.encode("McDonald's , it 's", undefined, { addSpecialTokens: false }).inputIds;
    expect(fromTxt.decode(ids)).toBe("mcdonald ' s, it ' s");
    expect(fromTxt.decode(ids, { cleanUpTokenizationSpaces: true })).toBe("mcdonald's, it's");
  });
});

describe('WordPieceTokenizer: a vocabulary trained by HF tokenizers', () => {
  const hf = WordPieceTokenizer.fromHuggingFace(JSON.parse(trainedJsonText));
  const txt = WordPieceTokenizer.fromVocabTxt(read('trained/vocab.txt'), { lowercase: trained.options.lowercase });

  it('encodes and decodes as HF from its tokenizer.json and its vocab.txt', () => {
    for (const e of trained.encodings) {
      for (const tok of [hf, txt]) {
        const got = tok.encode(e.text);
        expect([...got.inputIds]).toEqual(e.ids);
        expect([...got.tokenTypeIds]).toEqual(e.typeIds);
        expect([...got.inputIds].map((id) => tok.idToToken(id))).toEqual(e.tokens);
        expect(tok.decode(got.inputIds, { skipSpecialTokens: true })).toBe(e.decoded);
      }
    }
    const p = hf.encode(trained.pair.text, trained.pair.pair);
    expect([...p.inputIds]).toEqual(trained.pair.ids);
    expect([...p.tokenTypeIds]).toEqual(trained.pair.typeIds);
  });

  it('writes back the same tokenizer.json and vocab.txt', () => {
    expect(hf.toHuggingFace()).toEqual(JSON.parse(trainedJsonText));
    expect(hf.toVocabTxt()).toBe(read('trained/vocab.txt'));
    expect(txt.toVocabTxt()).toBe(read('trained/vocab.txt'));
  });

  it('handles added tokens (normalized, lstrip / rstrip, single_word, new ids) as HF', () => {
    const added = JSON.parse(read('trained/added-tokens.json')) as { tokenizer: unknown; encodings: { text: string; ids: number[] }[] };
    const tok = WordPieceTokenizer.fromHuggingFace(added.tokenizer);
    expect(tok.vocabSize).toBe(trained.vocabSize + 2);
    for (const e of added.encodings) expect([...tok.encode(e.text).inputIds]).toEqual(e.ids);
    expect(tok.toHuggingFace()).toEqual(added.tokenizer);
  });

  it('learns the same vocabulary from the same corpus (HF-style BPE-frequency merges)', () => {
    expect(trained.sameVocabSetAcrossRuns).toBe(true);
    const corpus = trained.wordCounts.flatMap(([word, count]) => Array.from({ length: count }, () => word));
    const ours = WordPieceTokenizer.train(corpus, trained.options);
    expect(ours.vocabSize).toBe(trained.vocabSize);
    expect(new Set(ours.vocab)).toEqual(new Set(hf.vocab));
    expect(ours.vocab.slice(0, 5)).toEqual(trained.options.specialTokens);
    for (const e of trained.encodings) {
      const got = ours.encode(e.text);
      expect([...got.inputIds].map((id) => ours.idToToken(id))).toEqual(e.tokens);
    }
    // Deterministic: the same corpus gives the same ids.
    expect(WordPieceTokenizer.train(corpus, trained.options).vocab).toEqual(ours.vocab);
    // minFrequency stops merging; vocabSize bounds the vocabulary.
    const rare = WordPieceTokenizer.train(corpus, { ...trained.options, vocabSize: 1000, minFrequency: 5000 });
    expect(rare.vocab.some((t) => t.length > 1 && !t.startsWith('##') && !t.startsWith('['))).toBe(false);
    // A pair seen exactly minFrequency times is merged (HF stops only below it): (c, ##a)
    // occurs in "ça" (4096) and "cat" (512).
    const edge = WordPieceTokenizer.train(corpus, { ...trained.options, vocabSize: 1000, minFrequency: 4608 });
    expect(edge.vocab.filter((t) => t.length > 1 && !t.startsWith('##') && !t.startsWith('['))).toEqual(['ca']);
    const big = WordPieceTokenizer.train(corpus, { ...trained.options, vocabSize: 1000 });
    expect(big.vocabSize).toBeGreaterThan(trained.vocabSize);
    expect(big.vocabSize).toBeLessThan(1000);
  });

  it('trains on ordinary text and encodes it back', () => {
    const texts = ['The quick brown fox jumps over the lazy dog.', 'The dog sleeps; the fox runs!', 'Quick, quicker, quickest.'];
    const decoded = ['the quick brown fox jumps over the lazy dog.', 'the dog sleeps ; the fox runs!', 'quick, quicker, quickest.'];
    const tok = WordPieceTokenizer.train(texts, { vocabSize: 80 });
    expect(tok.vocab.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    texts.forEach((t, i) => {
      const enc = tok.encode(t);
      expect(enc.inputIds[0]).toBe(tok.clsId);
      expect([...enc.inputIds]).not.toContain(tok.unkId);
      expect(tok.decode(enc.inputIds, { skipSpecialTokens: true })).toBe(decoded[i]);
    });
  });
});

describe('WordPieceTokenizer: serialisation and errors', () => {
  it('round-trips through JSON with identical encodings', () => {
    const back = WordPieceTokenizer.fromJSON(JSON.parse(JSON.stringify(fromTxt)));
    expect(back.toJSON()).toEqual(fromTxt.toJSON());
    for (const c of expected.cases) expect(plain(encodeCase(back, c))).toEqual(c.expected);
    expect(back.vocab).toEqual(vocabLines);
    expect(fromTxt.toVocabTxt()).toBe(vocabTxt);
    // vocab.txt → tokenizer.json gives what HF wrote (their truncation / padding defaults aside).
    const written = fromTxt.toHuggingFace();
    const { truncation: _t, padding: _p, ...rest } = tokenizerJson as unknown as Record<string, unknown>;
    expect({ ...written, truncation: undefined, padding: undefined }).toEqual({ ...rest, truncation: undefined, padding: undefined });
  });

  it('throws typed errors on bad input', () => {
    expect(() => WordPieceTokenizer.fromVocabTxt('')).toThrow(InvalidArgumentError);
    expect(() => WordPieceTokenizer.fromVocabTxt('[UNK]\n[CLS]\n[SEP]\na\na\n')).toThrow(/line 5 "a" duplicates line 4/);
    expect(() => WordPieceTokenizer.fromVocabTxt('[CLS]\n[SEP]\na\n')).toThrow(/no unk token "\[UNK\]"/);
    expect(() => WordPieceTokenizer.fromVocabTxt(42 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => WordPieceTokenizer.fromVocabTxt(vocabTxt, { lowercase: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);

    const bad = (patch: (j: Record<string, unknown>) => void): unknown => {
      const j = JSON.parse(trainedJsonText) as Record<string, unknown>;
      patch(j);
      return j;
    };
    const model = (j: Record<string, unknown>): Record<string, unknown> => j.model as Record<string, unknown>;
    const unsupported = (json: unknown, fieldName: string): void => {
      let error: unknown;
      try {
        WordPieceTokenizer.fromHuggingFace(json);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnsupportedConfigError);
      expect((error as UnsupportedConfigError).field).toBe(fieldName);
      expect((error as Error).message).toContain(fieldName);
    };
    unsupported(
      bad((j) => (model(j).type = 'BPE')),
      'model.type',
    );
    unsupported(
      bad((j) => (j.normalizer = { type: 'Lowercase' })),
      'normalizer.type',
    );
    unsupported(
      bad((j) => (j.pre_tokenizer = { type: 'Whitespace' })),
      'pre_tokenizer',
    );
    unsupported(
      bad((j) => (j.post_processor = { type: 'RobertaProcessing' })),
      'post_processor.type',
    );
    unsupported(
      bad((j) => (j.decoder = { type: 'ByteLevel' })),
      'decoder.type',
    );
    expect(() => WordPieceTokenizer.fromHuggingFace(bad((j) => (model(j).vocab = { a: 0, b: 5 })))).toThrow(CheckpointError);
    expect(() => WordPieceTokenizer.fromHuggingFace(bad((j) => (model(j).unk_token = '<unk>')))).toThrow(
      /unk_token "<unk>" is not in the vocabulary/,
    );
    expect(() => WordPieceTokenizer.fromHuggingFace(null)).toThrow(CheckpointError);
    expect(() => WordPieceTokenizer.fromJSON({ type: 'char', vocab: [] })).toThrow(CheckpointError);
    expect(() => WordPieceTokenizer.fromJSON('x')).toThrow(CheckpointError);

    expect(() => fromTxt.encode(7 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => fromTxt.encode('a', 7 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => fromTxt.encode('a', undefined, { padding: 'max_length' })).toThrow(/need maxLength/);
    expect(() => fromTxt.encode('a', undefined, { maxLength: 1 })).toThrow(/cannot hold the 2 special tokens/);
    expect(() => fromTxt.encode('a', undefined, { maxLength: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => fromTxt.encode('a', undefined, { truncation: 'sideways' as unknown as false, maxLength: 4 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => fromTxt.decode([101, 30522])).toThrow(/ids\[1\] = 30522/);
    expect(() => fromTxt.decode([-1])).toThrow(InvalidArgumentError);
    expect(() => fromTxt.decode([0.5])).toThrow(InvalidArgumentError);
    expect(() => fromTxt.encodeBatch('a' as unknown as string[])).toThrow(InvalidArgumentError);
    expect(() => WordPieceTokenizer.train(['a b'], { vocabSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => WordPieceTokenizer.train(['a b'], { vocabSize: 10, specialTokens: ['[UNK]'] })).toThrow(/no cls token/);
    expect(() => WordPieceTokenizer.train([3 as unknown as string], { vocabSize: 10 })).toThrow(/texts\[0\] must be a string/);
    const noPad = WordPieceTokenizer.fromVocabTxt('[UNK]\n[CLS]\n[SEP]\na\n');
    expect(() => noPad.padId).toThrow(/no pad token/);
    expect([...noPad.encode('a a').inputIds]).toEqual([1, 3, 3, 2]);
    // The longest token of the vocabulary is found, and a word it cannot cover is [UNK] whole.
    const long = WordPieceTokenizer.fromVocabTxt('[UNK]\n[CLS]\n[SEP]\nabcdefgh\n##x\n');
    expect(long.tokenize('abcdefgh abcdefghx abcdefghy')).toEqual(['abcdefgh', 'abcdefgh', '##x', '[UNK]']);
  });

  it('is exported from the package and fits what BERT and the classification dataset need', () => {
    expect(api.WordPieceTokenizer).toBe(WordPieceTokenizer);
    const bert: BertTokenizerLike = fromTxt;
    const cls: ClassificationTokenizer = fromTxt;
    expect([bert.clsId, bert.sepId, bert.maskId, cls.padId]).toEqual([101, 102, 103, 0]);
  });
});

describe('WordPieceTokenizer: properties', () => {
  it('never throws on any Unicode string; ids are in range and the layout is [CLS] … [SEP] (… [SEP])', () => {
    const V = fromTxt.vocabSize;
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: undefined }),
        (text, pair) => {
          const e = fromTxt.encode(text, pair);
          const ids = [...e.inputIds];
          expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < V)).toBe(true);
          expect(ids[0]).toBe(fromTxt.clsId);
          expect(ids[ids.length - 1]).toBe(fromTxt.sepId);
          expect(ids.filter((id) => id === fromTxt.sepId).length).toBeGreaterThanOrEqual(pair === undefined ? 1 : 2);
          expect(e.tokenTypeIds.length).toBe(ids.length);
          expect([...e.attentionMask].every((m) => m === 1)).toBe(true);
          const cut = fromTxt.encode(text, pair, { maxLength: 8, padding: 'max_length' });
          expect(cut.inputIds.length).toBe(8);
          expect(typeof fromTxt.decode(e.inputIds)).toBe('string');
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it('decode(encode(s)) is the lower-cased s for words of the vocabulary', () => {
    const words = vocabLines.filter((t) => /^[a-z]{2,}$/.test(t));
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 12 }), fc.boolean(), (ws, upper) => {
        const s = ws.join(' ');
        const input = upper ? s.toUpperCase() : s;
        expect(fromTxt.decode(fromTxt.encode(input).inputIds, { skipSpecialTokens: true })).toBe(s);
        expect(fromJson.tokenize(input)).toEqual(ws);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
