// One API shape: token-array calls infer one sequence's shape or take (ids, B, T); they run the
// same batch path as the batch methods; the configuration comes from one table; one RopeScaling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  GPT,
  InvalidArgumentError,
  ShapeError,
  Trainer,
  init,
  kernels,
  type ModelBatch,
  type TransformerConfigInput,
} from '../../../dist/index.node.js';
import { resolveConfig } from '../../../dist/internals.node.js';

const V = 13;
const TINY: TransformerConfigInput = { vocabSize: V, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 };
const seq = (t: number, shift = 0): number[] => Array.from({ length: t }, (_, i) => (i * 5 + shift) % V);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
};

let gpt: GPT;
beforeAll(async () => {
  await init();
  gpt = GPT.create(TINY, { seed: 3 });
});
afterAll(() => gpt.dispose());

describe('one sequence: shapes inferred', () => {
  it('logits(ids) is [T, V] and equals the [1, T] batch form', () => {
    const ids = seq(7);
    const one = gpt.logits(ids);
    expect(one).toBeInstanceOf(Float32Array);
    expect(one.length).toBe(7 * V);
    expect(Array.from(one)).toEqual(Array.from(gpt.logits(ids, 1, 7)));
  });

  it('a batch [B, T] is its sequences side by side', () => {
    const a = seq(6, 0);
    const b = seq(6, 4);
    const batch = gpt.logits([...a, ...b], 2, 6);
    expect(batch.length).toBe(2 * 6 * V);
    expect(maxAbsDiff(batch.subarray(0, 6 * V), gpt.logits(a))).toBeLessThan(1e-5);
    expect(maxAbsDiff(batch.subarray(6 * V), gpt.logits(b))).toBeLessThan(1e-5);
  });

  it('loss and gradients of one sequence equal the [1, T] forms', () => {
    const ids = seq(9);
    const targets = seq(9, 5).map((x, i) => (i === 3 ? -100 : x));
    const loss = gpt.loss(ids, targets);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBe(gpt.loss(ids, targets, 1, 9));
    const one = gpt.gradients(ids, targets);
    const batch = gpt.gradients(ids, targets, 1, 9);
    expect(one.loss).toBe(batch.loss);
    expect(one.loss).toBeCloseTo(loss, 5);
    expect([...one.grads.keys()]).toEqual(gpt.paramSpecs.map((s) => s.name));
    for (const [name, g] of one.grads) expect(Array.from(g.data), name).toEqual(Array.from(batch.grads.get(name)?.data ?? []));
  });

  it('the token-array methods and the batch methods agree (one batch path)', () => {
    const ids = Uint32Array.from(seq(2 * 8, 1));
    const targets = Int32Array.from(seq(2 * 8, 2));
    const batch: ModelBatch = { ids, targets, batchSize: 2 };
    // seqLen inferred from ids.length / batchSize when not given
    expect(gpt.evaluateBatch(batch)).toEqual(gpt.evaluateBatch(batch, 8));
    expect(gpt.loss(ids, targets, 2, 8)).toBe(gpt.evaluateBatch(batch).total);
    expect(Array.from(gpt.logits(ids, 2, 8))).toEqual(Array.from(gpt.batchOutputs(batch, 8, 'logits')));
    const g = gpt.batchGradients(batch);
    expect(g.losses.token).toBe(gpt.gradients(ids, targets, 2, 8).loss);
    expect(g.losses.class).toBeUndefined();
  });
});

describe('bad shapes are typed errors before WebAssembly runs', () => {
  it('ShapeError when ids.length is not B·T', () => {
    expect(() => gpt.logits(seq(15), 2, 8)).toThrow(ShapeError);
    expect(() => gpt.logits(seq(15), 2, 8)).toThrow(/expected B·T = 2·8 = 16 token ids, got 15/);
    expect(() => gpt.loss(seq(17), seq(17), 2, 8)).toThrow(ShapeError);
    expect(() => gpt.gradients(seq(8), seq(8), 4, 3)).toThrow(ShapeError);
    const error = (() => {
      try {
        gpt.logits(seq(15), 2, 8);
      } catch (e) {
        return e as ShapeError;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ expected: '16', got: '15' });
  });

  it('ShapeError when targets do not match ids', () => {
    expect(() => gpt.loss(seq(5), seq(4))).toThrow(ShapeError);
    expect(() => gpt.loss(seq(5), seq(4))).toThrow(/targets: expected 5, got 4/);
    expect(() => gpt.gradients(seq(6), seq(12), 2, 3)).toThrow(ShapeError);
  });

  it('ShapeError when a batch does not split into batchSize equal rows', () => {
    const batch: ModelBatch = { ids: Uint32Array.from(seq(7)), targets: Int32Array.from(seq(7)), batchSize: 2 };
    expect(() => gpt.evaluateBatch(batch)).toThrow(ShapeError);
    expect(() => gpt.batchGradients(batch)).toThrow(/7 ids do not split into batchSize 2/);
  });

  it('InvalidArgumentError for half a shape, an empty sequence, or one past blockSize', () => {
    expect(() => gpt.logits(seq(8), 2)).toThrow(/give both batchSize and seqLen/);
    expect(() => gpt.logits(seq(8), undefined, 8)).toThrow(InvalidArgumentError);
    expect(() => gpt.logits([])).toThrow(/ids is empty/);
    expect(() => gpt.loss([], [])).toThrow(InvalidArgumentError);
    expect(() => gpt.logits(seq(17))).toThrow(/exceeds blockSize 16/);
    expect(() => gpt.logits(seq(4).concat([V]))).toThrow(/ids\[4\] = 13 is not a token id/);
    // @ts-expect-error: not an array
    expect(() => gpt.logits(7)).toThrow(/ids must be an array/);
    // the model stays usable
    expect(gpt.logits(seq(3)).length).toBe(3 * V);
  });
});

describe('the trainer goes through the model', () => {
  it('token arrays train through the batch step, and resume exactly from the optimizer state', async () => {
    const tokens = Int32Array.from({ length: 400 }, (_, i) => (i * 7) % V);
    const options = { batchSize: 4, seqLen: 8, maxSteps: 4, lr: 3e-3, gradAccumSteps: 2, seed: 5 };
    using a = GPT.create(TINY, { seed: 1 });
    const ta = new Trainer(a, { train: tokens }, options);
    await ta.fit({ steps: 2 });
    // a second model restored from the first one's weights, optimizer and trainer state
    using b = GPT.create(TINY, { seed: 2 });
    b.setWeights(a.getWeights());
    const tb = new Trainer(b, { train: tokens }, options);
    const state = a._optimizerState();
    expect(state.step).toBe(2);
    expect(state.m.length).toBe(a.numParams);
    b._setOptimizerState(state);
    tb.setState(ta.getState());
    const la = ta.trainStep().loss;
    const lb = tb.trainStep().loss;
    expect(lb).toBe(la);
    expect(Array.from(b.getFlatParams())).toEqual(Array.from(a.getFlatParams()));
  });
});

describe('configuration: one table', () => {
  it('fills GPT-2 defaults and derives ffnHidden', () => {
    const c = resolveConfig({ vocabSize: 10, blockSize: 8 });
    expect(c).toEqual({
      vocabSize: 10,
      blockSize: 8,
      nLayer: 12,
      nHead: 12,
      nEmbd: 768,
      ffnHidden: 3072,
      positional: 'learned',
      norm: 'layernorm',
      normPlacement: 'pre',
      ffn: 'gelu',
      dropout: 0,
      bias: true,
      tieEmbeddings: true,
      ropeBase: 10000,
      ropeScaling: null,
      ropeFraction: 1,
      ropeKeepFrequencies: 1,
      noPositionLayers: [],
      relativeBuckets: 32,
      relativeMaxDistance: 128,
      normEps: 1e-5,
      causal: true,
      typeVocabSize: 0,
      embeddingNorm: false,
      geluExact: false,
      lmHead: 'plain',
      nClasses: 0,
    });
    expect(resolveConfig({ vocabSize: 10, blockSize: 8, nEmbd: 64, nHead: 4, ffn: 'swiglu' }).ffnHidden).toBe(176);
    expect(resolveConfig({ vocabSize: 10, blockSize: 8, ffnHidden: undefined }).ffnHidden).toBe(3072);
    expect(resolveConfig({ vocabSize: 10, blockSize: 8, nEmbd: 64, nHead: 4, ffn: 'relu' }).ffnHidden).toBe(256);
    // Each configuration gets its own noPositionLayers array.
    const a = resolveConfig({ vocabSize: 10, blockSize: 8 });
    expect(a.noPositionLayers).not.toBe(resolveConfig({ vocabSize: 10, blockSize: 8 }).noPositionLayers);
  });

  it('model-family defaults replace the GPT-2 ones (BERT)', () => {
    using bert = BERT.create({ vocabSize: 20, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 });
    expect(bert.config).toMatchObject({
      causal: false,
      normPlacement: 'post',
      typeVocabSize: 2,
      normEps: 1e-12,
      lmHead: 'mlm',
      geluExact: true,
      embeddingNorm: true,
    });
  });

  it('names the field in every error', () => {
    const base = { vocabSize: 10, blockSize: 8 };
    expect(() => resolveConfig({ ...base, nLayr: 2 } as TransformerConfigInput)).toThrow(/unknown option 'nLayr'/);
    expect(() => resolveConfig({ ...base, nEmbd: 30, nHead: 4 })).toThrow(/config.nEmbd \(30\) must be divisible by config.nHead \(4\)/);
    expect(() => resolveConfig({ ...base, nEmbd: 12, nHead: 4, positional: 'rope' })).toThrow(/even head size/);
    // @ts-expect-error: not a norm
    expect(() => resolveConfig({ ...base, norm: 'batchnorm' })).toThrow(/config.norm must be one of 'layernorm', 'rmsnorm'/);
    expect(() => resolveConfig({ ...base, dropout: 1 })).toThrow(/config.dropout must be in \[0, 1\)/);
    expect(() => resolveConfig({ ...base, normEps: 0 })).toThrow(/config.normEps must be a finite number > 0/);
    expect(() => resolveConfig({ ...base, relativeBuckets: 3, causal: false })).toThrow(/config.relativeBuckets must be an integer >= 4/);
    expect(() => resolveConfig({ ...base, positional: 'relative', relativeBuckets: 32, relativeMaxDistance: 16 })).toThrow(
      /relativeMaxDistance must exceed 16/,
    );
    expect(() => resolveConfig({ ...base, lmHead: 'none' })).toThrow(/needs an output/);
    expect(() => resolveConfig({ vocabSize: 10 } as TransformerConfigInput)).toThrow(
      /config.blockSize must be an integer >= 1, got undefined/,
    );
  });
});

describe('one RopeScaling type', () => {
  it('the config and the rope kernel take the same value', () => {
    const scaling = { type: 'linear', factor: 4 } as const;
    const c = resolveConfig({ vocabSize: 10, blockSize: 8, positional: 'rope', nEmbd: 16, nHead: 2, ropeScaling: scaling });
    expect(c.ropeScaling).toEqual(scaling);
    const x = Float32Array.from({ length: 1 * 4 * 2 * 8 }, (_, i) => Math.sin(i));
    const dims = { b: 1, t: 4, h: 2, d: 8, positionOffset: 8 };
    const scaled = kernels.rope(x, { ...dims, scaling: c.ropeScaling });
    // linear scaling by 4: the first row, at position 8, turns as position 2 does unscaled
    const plain = kernels.rope(x, { ...dims, positionOffset: 2, scaling: null });
    expect(maxAbsDiff(scaled.subarray(0, 16), plain.subarray(0, 16))).toBeLessThan(1e-6);
    expect(Array.from(kernels.rope(x, { ...dims, scaling: null }))).toEqual(Array.from(kernels.rope(x, dims)));
    // @ts-expect-error: 'none' is spelled null
    expect(() => kernels.rope(x, { ...dims, scaling: { type: 'none' } })).toThrow(InvalidArgumentError);
  });
});
