import { describe, expect, it } from 'vitest';
import { CheckpointError, InvalidArgumentError } from '../../src/errors.js';
import { CharTokenizer } from '../../src/tokenizers/char.js';

describe('CharTokenizer', () => {
  it('builds a sorted vocabulary of unique characters and round-trips text', () => {
    const text = 'hello world\nthe quick brown fox';
    const tok = CharTokenizer.fromText(text);
    expect(tok.vocab).toEqual([...new Set(text)].sort());
    expect(tok.vocabSize).toBe(new Set(text).size);
    const ids = tok.encode(text);
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(text.length);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode([...ids])).toBe(text);
    expect(tok.encode('')).toEqual(new Int32Array(0));
    expect(tok.decode([])).toBe('');
  });

  it('treats astral characters as single tokens, sorted by code point', () => {
    const text = 'a😀b\u{10000}\uffff😀';
    const tok = CharTokenizer.fromText(text);
    // U+FFFF sorts before U+10000 by code point (UTF-16 string order would put it after).
    expect(tok.vocab).toEqual(['a', 'b', '\uffff', '\u{10000}', '😀']);
    const ids = tok.encode(text);
    expect([...ids]).toEqual([0, 4, 1, 3, 2, 4]);
    expect(tok.decode(ids)).toBe(text);
  });

  it('round-trips through JSON with ids unchanged', () => {
    const tok = CharTokenizer.fromText('zyx😀 abc');
    const json = JSON.parse(JSON.stringify(tok)) as unknown;
    expect(json).toEqual({ type: 'char', vocab: tok.vocab });
    const back = CharTokenizer.fromJSON(json);
    expect(back.vocab).toEqual(tok.vocab);
    expect(back.encode('abc😀')).toEqual(tok.encode('abc😀'));
    // A non-sorted saved vocabulary keeps its ids.
    const custom = CharTokenizer.fromJSON({ type: 'char', vocab: ['b', 'a'] });
    expect([...custom.encode('ab')]).toEqual([1, 0]);
  });

  it('names the first unknown character and its index', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.encode('abXcY')).toThrow(InvalidArgumentError);
    expect(() => tok.encode('abXcY')).toThrow(/"X" \(U\+0058\) at index 2/);
    expect(() => tok.encode('a😀Z')).toThrow(/U\+1F600.*at index 1/);
    expect(() => CharTokenizer.fromText('a😀').encode('😀😀Z')).toThrow(/"Z" \(U\+005A\) at index 4/);
  });

  it('rejects out-of-range or non-integer ids in decode', () => {
    const tok = CharTokenizer.fromText('abc');
    expect(() => tok.decode([0, 3])).toThrow(InvalidArgumentError);
    expect(() => tok.decode([0, 3])).toThrow(/ids\[1\] = 3.*\[0, 3\)/);
    expect(() => tok.decode([-1])).toThrow(/ids\[0\] = -1/);
    expect(() => tok.decode([1.5])).toThrow(InvalidArgumentError);
    expect(() => tok.decode(new Float32Array([Number.NaN]))).toThrow(InvalidArgumentError);
  });

  it('rejects bad input to the builders', () => {
    expect(() => CharTokenizer.fromText('')).toThrow(InvalidArgumentError);
    expect(() => CharTokenizer.fromText(5 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => CharTokenizer.fromVocab(['a', 'a'])).toThrow(/duplicates vocab\[0\]/);
    expect(() => CharTokenizer.fromVocab(['ab'])).toThrow(/exactly one Unicode character/);
  });

  it('fromJSON rejects malformed objects with CheckpointError', () => {
    const bad: unknown[] = [
      null,
      'char',
      [],
      { vocab: ['a'] },
      { type: 'bpe', vocab: ['a'] },
      { type: 'char' },
      { type: 'char', vocab: 'abc' },
      { type: 'char', vocab: [] },
      { type: 'char', vocab: ['a', 1] },
      { type: 'char', vocab: ['a', ''] },
      { type: 'char', vocab: ['a', 'bc'] },
      { type: 'char', vocab: ['a', 'a'] },
    ];
    for (const json of bad) expect(() => CharTokenizer.fromJSON(json), JSON.stringify(json)).toThrow(CheckpointError);
  });
});
