// Attention maps (TransformerModel.attentionWeights): parity with Hugging Face transformers'
// output_attentions (eager attention) for the tiny GPT-2 (learned positions), Llama (RoPE) and
// BERT (segments, padding) of ts/tests/fixtures/hf/ (attentions.json, written by
// scripts/fixtures/make_hf_fixtures.py and make_bert_fixtures.py),
// the properties of the maps for a BERT with padding and for ALiBi, and typed errors.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BERT, GPT, InvalidArgumentError, ShapeError, init, loadHuggingFace, type AttentionWeights } from '../../../dist/index.node.js';
import { maxAbsDiff, readJson } from '../io/hf-helpers.js';
import { ROOT } from '../helpers/node.js';

const FIXTURES = join(ROOT, 'ts/tests/fixtures/hf');

interface Attentions {
  ids: number[];
  nLayer: number;
  nHead: number;
  seqLen: number;
  attentions: number[];
}

beforeAll(async () => {
  await init();
});

/** Every row sums to 1 (or is all 0 when every key is masked) and masked entries are exactly 0. */
function checkRows(att: AttentionWeights, masked: (i: number, j: number) => boolean): void {
  const t = att.seqLen;
  expect(att.weights.length).toBe(att.nLayer * att.nHead * t * t);
  for (let l = 0; l < att.nLayer; l++) {
    for (let h = 0; h < att.nHead; h++) {
      const map = att.at(l, h);
      expect(map.length).toBe(t * t);
      for (let i = 0; i < t; i++) {
        let sum = 0;
        for (let j = 0; j < t; j++) {
          const p = map[i * t + j] as number;
          if (masked(i, j)) expect(p, `layer ${l} head ${h} P[${i}, ${j}] is masked`).toBe(0);
          expect(p).toBeGreaterThanOrEqual(0);
          sum += p;
        }
        expect(Math.abs(sum - 1), `layer ${l} head ${h} row ${i} sums to ${sum}`).toBeLessThan(1e-5);
      }
    }
  }
}

describe.each(['gpt2', 'llama'])('Hugging Face %s attentions', (name) => {
  it("equals transformers' output_attentions within 1e-5", async () => {
    const dir = join(FIXTURES, name);
    const expected = await readJson<Attentions>(join(dir, 'attentions.json'));
    const gpt = await loadHuggingFace(dir);
    if (!(gpt instanceof GPT)) throw new Error(`${name}: expected a GPT`);
    try {
      const att = gpt.attentionWeights(expected.ids);
      expect([att.nLayer, att.nHead, att.seqLen]).toEqual([expected.nLayer, expected.nHead, expected.seqLen]);
      const diff = maxAbsDiff(att.weights, expected.attentions);
      console.log(`${name}: max |attention - HF attention| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      checkRows(att, (i, j) => j > i);
      // at() is a view of the same numbers
      const t = att.seqLen;
      const start = (1 * att.nHead + 2) * t * t;
      expect(Array.from(att.at(1, 2))).toEqual(Array.from(att.weights.subarray(start, start + t * t)));
    } finally {
      gpt.dispose();
    }
  });
});

describe('Hugging Face BERT attentions', () => {
  it("equals transformers' output_attentions within 1e-5 (segments, padded keys)", async () => {
    const dir = join(FIXTURES, 'bert-pretraining');
    const expected = await readJson<Attentions & { typeIds: number[]; attentionMask: number[] }>(join(dir, 'attentions.json'));
    const bert = await loadHuggingFace(dir);
    if (!(bert instanceof BERT)) throw new Error('bert-pretraining: expected a BERT');
    try {
      const att = bert.attentionWeights(expected.ids, { typeIds: expected.typeIds, attentionMask: expected.attentionMask });
      const diff = maxAbsDiff(att.weights, expected.attentions);
      console.log(`bert: max |attention - HF attention| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-5);
      checkRows(att, (_i, j) => expected.attentionMask[j] === 0);
    } finally {
      bert.dispose();
    }
  });
});

describe('attentionWeights', () => {
  it('BERT: bidirectional rows, padded keys get zero weight', () => {
    const bert = BERT.create({ vocabSize: 30, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }, { seed: 3 });
    try {
      const ids = [2, 7, 8, 9, 3, 0, 0];
      const attentionMask = [1, 1, 1, 1, 1, 0, 0];
      const typeIds = [0, 0, 0, 1, 1, 0, 0];
      const att = bert.attentionWeights(ids, { attentionMask, typeIds });
      checkRows(att, (_i, j) => attentionMask[j] === 0);
      // not causal: a first row attends to later tokens
      expect(att.at(0, 0)[1]).toBeGreaterThan(0);
      // the mask changes the maps (it is applied, not ignored)
      const unmasked = bert.attentionWeights(ids, { typeIds });
      expect(maxAbsDiff(unmasked.weights, att.weights)).toBeGreaterThan(1e-3);
    } finally {
      bert.dispose();
    }
  });

  it('ALiBi and relative positions: causal probability rows', () => {
    for (const positional of ['alibi', 'relative'] as const) {
      const gpt = GPT.create({ vocabSize: 20, blockSize: 8, nLayer: 1, nHead: 4, nEmbd: 16, positional }, { seed: 1 });
      try {
        // longer than blockSize: allowed without absolute positions
        const att = gpt.attentionWeights([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(att.seqLen).toBe(10);
        checkRows(att, (i, j) => j > i);
      } finally {
        gpt.dispose();
      }
    }
  });

  it('throws typed errors for bad inputs and stays usable', () => {
    const gpt = GPT.create({ vocabSize: 20, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 }, { seed: 2 });
    try {
      expect(() => gpt.attentionWeights([1, 20, 3])).toThrow(InvalidArgumentError);
      expect(() => gpt.attentionWeights([1, -1])).toThrow(InvalidArgumentError);
      expect(() => gpt.attentionWeights([1, 2.5])).toThrow(InvalidArgumentError);
      expect(() => gpt.attentionWeights([])).toThrow(InvalidArgumentError);
      expect(() => gpt.attentionWeights(new Array(9).fill(1))).toThrow(/exceeds blockSize 8/);
      expect(() => gpt.attentionWeights([1, 2], { attentionMask: [1] })).toThrow(ShapeError);
      expect(() => gpt.attentionWeights([1, 2], { attentionMask: [1, 2] })).toThrow(InvalidArgumentError);
      expect(() => gpt.attentionWeights([1, 2], { typeIds: [0, 0] })).toThrow(/no segment embeddings/);
      const att = gpt.attentionWeights([1, 2, 3]);
      expect(() => att.at(2, 0)).toThrow(InvalidArgumentError);
      expect(() => att.at(0, -1)).toThrow(InvalidArgumentError);
      checkRows(att, (i, j) => j > i);
      expect(gpt.generate([1, 2], { maxNewTokens: 2, temperature: 0 }).length).toBe(4);
    } finally {
      gpt.dispose();
    }
    expect(() => gpt.attentionWeights([1])).toThrow(/disposed/);
  });
});
