import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError, UnsupportedConfigError } from '../../src/errors.js';
import type { TextTokenizer } from '../../src/models/gpt.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE, forEachPreToken, toByteLevel } from '../../src/tokenizers/byte-level.js';
import { naiveEncode, naiveTrain } from './bpe-reference.js';

const CORPUS = [
  "The quick brown fox jumps over the lazy dog. It's the fox's den, isn't it? We'll see, they've said.",
  'Numbers 12345 and 3.14159, 2024-06-01; prices: $9.99 €10 £7.',
  'Unicode: café naïve 東京 世界 😀 👍🏽 e\u0301 — and   runs   of   spaces\n\n\tand tabs.',
  'the the the then there their other another brother mother father',
]
  .join('\n')
  .repeat(8);

const trained = BpeTokenizer.train(CORPUS, { vocabSize: 400, specialTokens: ['<|endoftext|>', '<pad>'] });

function splitPreTokens(text: string): string[] {
  const out: string[] = [];
  forEachPreToken(text, (piece) => out.push(piece));
  return out;
}

describe('byte-level pieces', () => {
  it("maps the 256 bytes to GPT-2's printable characters, reversibly", () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(BYTE_TO_CHAR[0xe9]).toBe('é');
    expect(BYTE_TO_CHAR[0x00]).toBe('Ā');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    for (let b = 0; b < 256; b++) expect(CHAR_TO_BYTE.get(BYTE_TO_CHAR[b] as string)).toBe(b);
    expect(toByteLevel(' café')).toBe('ĠcafÃ©');
  });

  it("splits text with GPT-2's pattern", () => {
    expect(splitPreTokens("I'm here, don't  go!\n\n  x 123abc")).toEqual([
      'I',
      "'m",
      ' here',
      ',',
      ' don',
      "'t",
      ' ',
      ' go',
      '!',
      '\n\n ',
      ' x',
      ' 123',
      'abc',
    ]);
    // \s is Unicode White_Space (as in HF's regex engine): U+0085 is a space, U+FEFF is not.
    expect(splitPreTokens('a \u0085b')).toEqual(['a', ' ', '\u0085', 'b']);
    expect(splitPreTokens('a \ufeffb')).toEqual(['a', ' \ufeff', 'b']);
    expect(splitPreTokens('e\u0301x')).toEqual(['e', '\u0301', 'x']);
    expect(splitPreTokens('')).toEqual([]);
  });
});

describe('BpeTokenizer.train', () => {
  it('gives special tokens the first ids, then the byte alphabet, then merges', () => {
    expect(trained.tokenToId('<|endoftext|>')).toBe(0);
    expect(trained.tokenToId('<pad>')).toBe(1);
    expect(trained.tokenToId('!')).toBe(2);
    expect(trained.tokenToId('Ā')).toBe(2 + 188);
    expect(trained.vocabSize).toBe(400);
    expect(trained.merges.length).toBe(400 - 258);
    expect(trained.idToToken(258)).toBe(trained.merges[0]?.join(''));
    expect(trained.specialTokens).toEqual([
      { id: 0, content: '<|endoftext|>', special: true },
      { id: 1, content: '<pad>', special: true },
    ]);
    expect(Object.isFrozen(trained.merges) && Object.isFrozen(trained.merges[0])).toBe(true);
  });

  it('learns the same merges as a from-scratch recount at every step', () => {
    const words = new Map<string, number>();
    forEachPreToken(CORPUS, (piece) => words.set(toByteLevel(piece), (words.get(toByteLevel(piece)) ?? 0) + 1));
    const reference = naiveTrain(words, 400 - 2, 2);
    expect(trained.merges).toEqual(reference);
  });

  it('stops at minFrequency and is deterministic', () => {
    const a = BpeTokenizer.train(CORPUS, { vocabSize: 5000, minFrequency: 8 });
    const b = BpeTokenizer.train(CORPUS, { vocabSize: 5000, minFrequency: 8 });
    expect(a.merges).toEqual(b.merges);
    expect(a.vocabSize).toBeLessThan(5000);
    expect(a.vocabSize).toBe(256 + a.merges.length);
    // With minFrequency 1, training continues until every word is one token.
    const all = BpeTokenizer.train('abc abd', { vocabSize: 1000, minFrequency: 1 });
    expect([...all.encode('abc abd')].map((id) => all.idToToken(id))).toEqual(['abc', 'Ġabd']);
  });

  it('compresses the training text and round-trips it', () => {
    const ids = trained.encode(CORPUS);
    expect(trained.decode(ids)).toBe(CORPUS);
    const bytes = new TextEncoder().encode(CORPUS).length;
    expect(bytes / ids.length).toBeGreaterThan(2.5);
  });

  it('cuts special tokens out of the training text and treats documents separately', () => {
    const joined = BpeTokenizer.train('ab<|endoftext|>ab', { vocabSize: 300, specialTokens: ['<|endoftext|>'], minFrequency: 1 });
    expect(joined.merges).toEqual([['a', 'b']]);
    const docs = BpeTokenizer.train(['ab', 'ab'], { vocabSize: 300, minFrequency: 1 });
    expect(docs.merges).toEqual([['a', 'b']]);
    expect(BpeTokenizer.train('', { vocabSize: 300 }).merges).toEqual([]);
  });

  it('rejects bad options', () => {
    expect(() => BpeTokenizer.train('abc', { vocabSize: 255 })).toThrow(InvalidArgumentError);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 256, specialTokens: ['<s>'] })).toThrow(/\[257, /);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 300.5 })).toThrow(InvalidArgumentError);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 300, minFrequency: -1 })).toThrow(/minFrequency/);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 300, specialTokens: ['x', 'x'] })).toThrow(/distinct/);
    expect(() => BpeTokenizer.train('abc', { vocabSize: 300, specialTokens: [''] })).toThrow(InvalidArgumentError);
    expect(() => BpeTokenizer.train(42 as unknown as string, { vocabSize: 300 })).toThrow(InvalidArgumentError);
  });
});

describe('BpeTokenizer.encode / decode', () => {
  it('matches the plain GPT-2 algorithm (lowest rank everywhere, repeat) on arbitrary text', () => {
    const ranks = new Map(trained.merges.map(([a, b], rank) => [`${a} ${b}`, rank]));
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.constantFrom(...CORPUS.split(/(?<=\s)/).slice(0, 60)),
        (random, words) => {
          const text = `${words}${random}${words}`;
          const expected = naiveEncode(text, ranks).map((token) => trained.tokenToId(token));
          expect([...trained.encode(text)]).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it('round-trips any well-formed Unicode string (fast-check)', () => {
    const property = (s: string): void => {
      expect(trained.decode(trained.encode(s))).toBe(s);
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), property), { numRuns: 500, seed: 1 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), property), { numRuns: 300, seed: 2 });
    const pieces = fc.constantFrom('<|endoftext|>', '<pad>', ' ', '\n', "'s", 'the', '😀', 'é', '\ufeff', '<|end');
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string({ unit: 'binary', maxLength: 5 })), { maxLength: 30 }), (parts) => {
        property(parts.join(''));
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('encodes lone surrogates as U+FFFD (they have no UTF-8 form)', () => {
    expect(trained.encode('a\ud800b')).toEqual(trained.encode('a\ufffdb'));
    expect(trained.decode(trained.encode('x\udc00'))).toBe('x\ufffd');
  });

  it('matches special tokens before pre-tokenization, longest first', () => {
    const tok = BpeTokenizer.train(CORPUS, { vocabSize: 300, specialTokens: ['<|end|>', '<|end|><|end|>'] });
    const ids = [...tok.encode('a<|end|><|end|><|end|>b')];
    expect(ids.map((id) => tok.idToToken(id))).toEqual(['a', '<|end|><|end|>', '<|end|>', 'b']);
    expect(tok.decode(ids)).toBe('a<|end|><|end|><|end|>b');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('ab');
    const plain = BpeTokenizer.train(CORPUS, { vocabSize: 300 });
    const strings = (t: BpeTokenizer, text: string): (string | undefined)[] => [...t.encode(text)].map((i) => t.idToToken(i));
    expect(strings(tok, '<|end| <|end>')).toEqual(strings(plain, '<|end| <|end>'));
  });

  it('decodes invalid UTF-8 with one U+FFFD per invalid sequence and keeps a BOM', () => {
    const id = (token: string): number => trained.tokenToId(token) as number;
    expect(trained.decode([id('â')])).toBe('\ufffd');
    expect(trained.decode([id('ä'), id('½')])).toBe('\ufffd'); // 2 of the 3 bytes of 你
    expect(trained.decode([id('ä'), id('½'), id('ł')])).toBe('你');
    expect(trained.decode([id('ð'), id('Ł'), id('<|endoftext|>'), id('ĺ'), id('Ģ')])).toBe('\ufffd<|endoftext|>\ufffd\ufffd');
    expect(trained.decode([id('ð'), id('Ł'), id('<|endoftext|>'), id('ĺ'), id('Ģ')], { skipSpecialTokens: true })).toBe('😀');
    expect(trained.decode([id('ï'), id('»'), id('¿'), id('a')])).toBe('\ufeffa');
    expect(trained.decode(new Int32Array(0))).toBe('');
  });

  it('returns Int32Array ids, accepts any array-like in decode and fits GPT.stream', () => {
    const forModels: TextTokenizer = trained;
    expect(forModels.decode(forModels.encode('hi'))).toBe('hi');
    const ids = trained.encode('hello there');
    expect(ids).toBeInstanceOf(Int32Array);
    expect(trained.decode([...ids])).toBe('hello there');
    expect(trained.decode(Uint32Array.from(ids))).toBe('hello there');
  });

  it('names bad ids and bad input', () => {
    expect(() => trained.decode([5, 400])).toThrow(InvalidArgumentError);
    expect(() => trained.decode([5, 400])).toThrow(/ids\[1\] = 400/);
    expect(() => trained.decode([-1])).toThrow(/ids\[0\] = -1/);
    expect(() => trained.decode([1.5])).toThrow(InvalidArgumentError);
    expect(() => trained.decode(null as unknown as number[])).toThrow(InvalidArgumentError);
    expect(() => trained.encode(5 as unknown as string)).toThrow(InvalidArgumentError);
  });
});

describe('BpeTokenizer serialisation', () => {
  it('round-trips through toJSON / fromJSON with identical ids', () => {
    const json = JSON.parse(JSON.stringify(trained)) as unknown;
    const back = BpeTokenizer.fromJSON(json);
    expect(back.toJSON()).toEqual(trained.toJSON());
    expect(back.encode(CORPUS)).toEqual(trained.encode(CORPUS));
  });

  it('round-trips through vocab.json + merges.txt and tokenizer.json', () => {
    const { vocab, merges } = trained.toVocabMerges();
    expect(merges.split('\n')[0]).toBe('#version: 0.2');
    expect(merges.split('\n')[1]).toBe(trained.merges[0]?.join(' '));
    const fromFiles = BpeTokenizer.fromVocabMerges(vocab, merges.replace(/\n/g, '\r\n'), { specialTokens: ['<|endoftext|>', '<pad>'] });
    expect(fromFiles.toJSON()).toEqual(trained.toJSON());
    const fromHf = BpeTokenizer.fromHuggingFace(JSON.parse(JSON.stringify(trained.toHuggingFace())));
    expect(fromHf.toJSON()).toEqual(trained.toJSON());
  });

  it("keeps a '__proto__' token as an ordinary vocabulary entry", () => {
    const json = JSON.parse('{"type":"bpe","vocab":{"a":0,"__proto__":1},"merges":[],"specialTokens":[]}') as unknown;
    const tok = BpeTokenizer.fromJSON(json);
    expect(tok.tokenToId('__proto__')).toBe(1);
    expect(tok.idToToken(1)).toBe('__proto__');
    expect(Object.hasOwn(tok.toJSON().vocab, '__proto__')).toBe(true);
    expect(Object.hasOwn(tok.toVocabMerges().vocab, '__proto__')).toBe(true);
    expect(Object.hasOwn(tok.toHuggingFace().model.vocab, '__proto__')).toBe(true);
    expect(BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tok))).tokenToId('__proto__')).toBe(1);
  });

  it('uses the unknown token for bytes without a token, and refuses them without one', () => {
    const vocab = { a: 0, b: 1, ab: 2, '<unk>': 3 };
    const bare = BpeTokenizer.fromVocabMerges(vocab, 'a b\n');
    expect([...bare.encode('abab')]).toEqual([2, 2]);
    expect(() => bare.encode('abc')).toThrow(/byte 0x63 of "abc" has no token/);
    const json = { ...bare.toJSON(), unkToken: '<unk>' };
    expect([...BpeTokenizer.fromJSON(json).encode('abccab')]).toEqual([2, 3, 3, 2]);
    expect([...BpeTokenizer.fromJSON({ ...json, fuseUnk: true }).encode('abccab')]).toEqual([2, 3, 2]);
  });

  it('refuses inconsistent files with CheckpointError', () => {
    const good = trained.toJSON();
    expect(() => BpeTokenizer.fromJSON(null)).toThrow(CheckpointError);
    expect(() => BpeTokenizer.fromJSON({ ...good, type: 'char' })).toThrow(/expected type 'bpe'/);
    expect(() => BpeTokenizer.fromJSON({ ...good, merges: [['Ġ', 'zzz']] })).toThrow(/"zzz", which is not in the vocabulary/);
    expect(() => BpeTokenizer.fromJSON({ ...good, vocab: { ...good.vocab, extra: 5 } })).toThrow(/same id 5/);
    expect(() => BpeTokenizer.fromJSON({ ...good, vocab: { ...good.vocab, extra: -1 } })).toThrow(/non-negative integer/);
    expect(() => BpeTokenizer.fromJSON({ ...good, specialTokens: [{ id: 7, content: '<|endoftext|>', special: true }] })).toThrow(
      /vocabulary gives it 0/,
    );
    expect(() => BpeTokenizer.fromJSON({ ...good, unkToken: '<nope>' })).toThrow(/unknown token/);
    expect(() => BpeTokenizer.fromVocabMerges({ a: 0, b: 1 }, 'a b c\n')).toThrow(/line 1/);
    expect(() => BpeTokenizer.fromVocabMerges({ a: 0, b: 1 }, 'a b\n')).toThrow(/"ab", which is not in the vocabulary/);
    const spaced = BpeTokenizer.fromJSON({ type: 'bpe', vocab: { a: 0, ' ': 1, 'a ': 2 }, merges: [['a', ' ']], specialTokens: [] });
    expect(() => spaced.toVocabMerges()).toThrow(UnsupportedConfigError);
  });
});
