// The SentencePiece-style and Llama-3-style fixtures of ts/tests/fixtures/bpe/, written by
// scripts/fixtures/make_bpe_llama_fixtures.py (HF `tokenizers` 0.23.3), and the parity checks
// shared by bpe-sentencepiece.test.ts and bpe-llama3.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { ROOT } from '../helpers/node.js';

export const DIR = join(ROOT, 'ts/tests/fixtures/bpe');

/** One tricky string as HF encodes and decodes it. */
export interface EncodeRow {
  text: string;
  ids: number[];
  ids_with_specials: number[];
  decoded: string;
  decoded_with_specials: string;
  decoded_skip_special: string;
  round_trip: boolean;
}

export interface FixtureExpected {
  vocab_size: number;
  encode: EncodeRow[];
  decode: { ids: number[]; text: string; skip_special: string }[];
}

export type FixtureName = 'sp-metaspace' | 'sp-legacy' | 'sp-always' | 'llama3';

const all = JSON.parse(readFileSync(join(DIR, 'expected-llama.json'), 'utf8')) as Record<FixtureName, FixtureExpected>;

/** The parsed tokenizer.json of a fixture (a fresh copy each call). */
export function fixtureJson(name: FixtureName): Record<string, unknown> & { model: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(DIR, `${name}.tokenizer.json`), 'utf8')) as Record<string, unknown> & {
    model: Record<string, unknown>;
  };
}

export function fixtureExpected(name: FixtureName): FixtureExpected {
  return all[name];
}

/** Registers the parity tests of one fixture: ids, decodes and round trips identical to HF. */
export function parityTests(name: FixtureName): void {
  const expected = fixtureExpected(name);
  const tokenizer = BpeTokenizer.fromHuggingFace(fixtureJson(name));
  const label = (e: EncodeRow): string => JSON.stringify(e.text).slice(0, 40);

  it('has the vocabulary size of HF', () => {
    expect(tokenizer.vocabSize).toBe(expected.vocab_size);
    expect(expected.encode.length).toBeGreaterThanOrEqual(30);
  });

  it.each(expected.encode.map((e) => [label(e), e] as const))('encodes %s to the ids of HF, with and without special tokens', (_, e) => {
    expect([...tokenizer.encode(e.text, { addSpecialTokens: false })]).toEqual(e.ids);
    expect([...tokenizer.encode(e.text)]).toEqual(e.ids_with_specials);
  });

  it.each(expected.encode.map((e) => [label(e), e] as const))('decodes the ids of %s to the text of HF', (_, e) => {
    expect(tokenizer.decode(e.ids)).toBe(e.decoded);
    expect(tokenizer.decode(e.ids_with_specials)).toBe(e.decoded_with_specials);
    expect(tokenizer.decode(e.ids_with_specials, { skipSpecialTokens: true })).toBe(e.decoded_skip_special);
    if (e.round_trip) expect(tokenizer.decode(tokenizer.encode(e.text, { addSpecialTokens: false }))).toBe(e.text);
  });

  it('decodes id lists as HF does (byte tokens, invalid UTF-8, special tokens inside)', () => {
    expect(expected.decode.length).toBeGreaterThan(0);
    for (const { ids, text, skip_special } of expected.decode) {
      expect(tokenizer.decode(ids)).toBe(text);
      expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(skip_special);
    }
  });

  it('writes a tokenizer.json that HF checked (ours-*.tokenizer.json) and that loads back to the same tokenizer', () => {
    const ours = tokenizer.toHuggingFace();
    const checked = JSON.parse(readFileSync(join(DIR, `ours-${name}.tokenizer.json`), 'utf8')) as unknown;
    expect(JSON.parse(JSON.stringify(ours))).toEqual(checked);
    const again = BpeTokenizer.fromHuggingFace(JSON.parse(JSON.stringify(ours)));
    expect(again.toJSON()).toEqual(tokenizer.toJSON());
    const restored = BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    for (const e of expected.encode) expect([...restored.encode(e.text)]).toEqual(e.ids_with_specials);
  });
}
