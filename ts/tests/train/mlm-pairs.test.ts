import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MaskedLMDataset, Rng } from '../../../dist/index.node.js';

// Sentence s of document d is [10 + d, 20 + s]: a batch row tells which sentences it holds.
const docs = Array.from({ length: 6 }, (_, d) => Array.from({ length: 5 }, (_, s) => [10 + d, 20 + s]));
const specials = { clsId: 1, sepId: 2, padId: 0, maskId: 3, vocabSize: 32 };
// Masking is not what is tested here: choose (almost) no token.
const options = { maskProbability: 1e-9 };

/** The two segments of row r of a pair batch: [doc, sentence] of A and of B. */
function segments(ids: Uint32Array, t: number, r: number): [[number, number], [number, number]] {
  const row = Array.from(ids.subarray(r * t, (r + 1) * t));
  // [CLS] d s [SEP] d s [SEP]
  return [
    [(row[1] as number) - 10, (row[2] as number) - 20],
    [(row[4] as number) - 10, (row[5] as number) - 20],
  ];
}

describe('MaskedLMDataset sentence pairs', () => {
  it('sop: consecutive sentences of one document, in order (label 0) or swapped (label 1), about half each', () => {
    const data = new MaskedLMDataset(docs, specials, { ...options, sop: true });
    const batch = data.sample(new Rng(3), 400, 8);
    const t = batch.seqLen ?? 8;
    let swapped = 0;
    for (let r = 0; r < 400; r++) {
      const [a, b] = segments(batch.ids, t, r);
      const label = batch.labels?.[r];
      expect(a[0]).toBe(b[0]);
      if (label === 0) expect(b[1]).toBe(a[1] + 1);
      else {
        expect(label).toBe(1);
        expect(a[1]).toBe(b[1] + 1);
        swapped++;
      }
      expect(Array.from(batch.typeIds!.subarray(r * t, r * t + 7))).toEqual([0, 0, 0, 0, 1, 1, 1]);
    }
    expect(swapped).toBeGreaterThan(160);
    expect(swapped).toBeLessThan(240);
  });

  it('nsp: B follows A (label 0) or is a random sentence, mostly of another document (label 1)', () => {
    const data = new MaskedLMDataset(docs, specials, { ...options, nsp: true });
    const batch = data.sample(new Rng(4), 400, 8);
    const t = batch.seqLen ?? 8;
    let otherDocument = 0;
    for (let r = 0; r < 400; r++) {
      const [a, b] = segments(batch.ids, t, r);
      if (batch.labels?.[r] === 0) expect(b).toEqual([a[0], a[1] + 1]);
      else if (b[0] !== a[0]) otherDocument++;
    }
    expect(otherDocument).toBeGreaterThan(120);
  });

  it('refuses nsp with sop, and options that are not booleans', () => {
    expect(() => new MaskedLMDataset(docs, specials, { nsp: true, sop: true })).toThrow(InvalidArgumentError);
    expect(() => new MaskedLMDataset(docs, specials, { sop: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
    expect(() => new MaskedLMDataset(docs, specials, { sop: true, groupByLength: true })).toThrow(InvalidArgumentError);
    expect(() => new MaskedLMDataset([[5, 6]], specials, { sop: true })).toThrow(/at least two sentences/);
  });
});
