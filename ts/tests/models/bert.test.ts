import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  CheckpointError,
  loadBertCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  ClassificationDataset,
  GRAMMAR_WORDS,
  InvalidArgumentError,
  MaskedLMDataset,
  ShapeError,
  Trainer,
  grammarCorpus,
  grammarVocabulary,
  init,
  WordPieceTokenizer,
} from '../../../dist/index.node.js';
import { WordTokenizer } from '../helpers/word-tokenizer.js';

const tokenizer = new WordTokenizer(grammarVocabulary());
const specials = { clsId: 2, sepId: 3, padId: 0, maskId: 4, vocabSize: tokenizer.vocabSize };
const sentences = grammarCorpus({ sentences: 3000, seed: 5 }).split('\n').filter(Boolean);
const tiny = { vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64 };

beforeAll(async () => {
  await init();
});

describe('BERT', () => {
  let bert: BERT;

  beforeAll(async () => {
    bert = BERT.create({ ...tiny, nClasses: 2 }, { seed: 1 });
    // Documents of 3 consecutive sentences, so next-sentence pairs exist.
    const docs: number[][][] = [];
    for (let i = 0; i + 3 <= sentences.length; i += 3) docs.push(sentences.slice(i, i + 3).map((s) => tokenizer.words(s)));
    const train = new MaskedLMDataset(docs.slice(0, -50), specials, { nsp: true });
    const val = new MaskedLMDataset(docs.slice(-50), specials, { nsp: true });
    const trainer = new Trainer(
      bert,
      { train, val },
      { batchSize: 32, seqLen: 32, maxSteps: 400, lr: 2e-3, warmupSteps: 20, weightDecay: 0.01, evalBatches: 4 },
    );
    const before = trainer.evaluate('val');
    await trainer.fit();
    const after = trainer.evaluate('val');
    expect(after).toBeLessThan(before - 1.5);
  });

  afterAll(() => bert.dispose());

  it('has BERT defaults and refuses a causal mask', () => {
    expect(bert.config).toMatchObject({
      normPlacement: 'post',
      causal: false,
      typeVocabSize: 2,
      embeddingNorm: true,
      geluExact: true,
      lmHead: 'mlm',
      normEps: 1e-12,
    });
    const names = bert.paramSpecs.map((s) => s.name);
    for (const name of [
      'transformer.wtt.weight',
      'transformer.ln_e.weight',
      'mlm.dense.weight',
      'mlm.ln.weight',
      'mlm.bias',
      'pooler.dense.weight',
      'classifier.weight',
    ]) {
      expect(names).toContain(name);
    }
    expect(names).not.toContain('transformer.ln_f.weight');
    expect(() => BERT.create({ ...tiny, causal: true })).toThrow(InvalidArgumentError);
    expect(() => BERT.create({ ...tiny, lmHead: 'none' })).toThrow(/needs an output/);
  });

  it('fills a mask with a word of the right kind after masked-LM pretraining', () => {
    const [candidates] = bert.fillMask(tokenizer, 'the [MASK] chased the cat', { topK: 3 });
    expect(candidates).toHaveLength(3);
    expect(GRAMMAR_WORDS.animates as readonly string[]).toContain(candidates?.[0]?.token);
    expect(candidates?.[0]?.score).toBeGreaterThan(candidates?.[2]?.score ?? 1);
    expect(() => bert.fillMask(tokenizer, 'the dog chased the cat')).toThrow(InvalidArgumentError);
  });

  it('mean-pooled embeddings ignore padding, and normalise to unit length', () => {
    const short = 'the dog ran .';
    const long = 'the old farmer gave the happy girl a red ball near the big river .';
    const [alone] = bert.embed(tokenizer, [short]);
    const [padded] = bert.embed(tokenizer, [short, long]);
    expect(alone).toHaveLength(64);
    for (let i = 0; i < 64; i++) expect(padded?.[i]).toBeCloseTo(alone?.[i] as number, 4);
    const [unit] = bert.embed(tokenizer, [long], { normalize: true, pooling: 'cls' });
    expect(Math.hypot(...(unit as Float32Array))).toBeCloseTo(1, 5);
  });

  it('fine-tunes a classifier to high accuracy and predicts', async () => {
    // Label: does the sentence mention a place?
    const places = new Set<string>(GRAMMAR_WORDS.places);
    const label = (s: string): number => (s.split(' ').some((w) => places.has(w)) ? 1 : 0);
    const train = ClassificationDataset.fromTexts(tokenizer, sentences.slice(0, 2000), sentences.slice(0, 2000).map(label), {
      maxLength: 32,
    });
    const dev = ClassificationDataset.fromTexts(tokenizer, sentences.slice(2000, 2400), sentences.slice(2000, 2400).map(label), {
      maxLength: 32,
    });
    const classifier = bert.withClassifier(2, { seed: 3 });
    expect(classifier.config.lmHead).toBe('none');
    expect(classifier.getWeights().get('transformer.h.1.attn.c_attn.weight')?.data).toEqual(
      bert.getWeights().get('transformer.h.1.attn.c_attn.weight')?.data,
    );
    const trainer = new Trainer(
      classifier,
      { train, val: dev },
      { batchSize: 32, seqLen: 32, maxSteps: 150, lr: 1e-3, warmupSteps: 10, evalInterval: 150 },
    );
    const evals: number[] = [];
    trainer.on('eval', (e) => evals.push(e.valAccuracy ?? NaN));
    await trainer.fit();
    expect(evals.at(-1)).toBeGreaterThan(0.9);
    const [yes, no] = classifier.predict(tokenizer, ['the dog ran near the river .', 'the dog ran .']);
    expect(yes?.label).toBe(1);
    expect(no?.label).toBe(0);
    expect((yes?.probs[0] as number) + (yes?.probs[1] as number)).toBeCloseTo(1, 5);
    classifier.dispose();
  });

  it('saves and loads as a BERT checkpoint, with its WordPiece tokenizer', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wasmformer-bert-')), 'ckpt');
    const wordpiece = WordPieceTokenizer.train(sentences.slice(0, 200), { vocabSize: 120 });
    await saveCheckpoint(dir, { model: bert, tokenizer: wordpiece });
    const loaded = await loadBertCheckpoint(dir);
    expect(loaded.tokenizer).toBeInstanceOf(WordPieceTokenizer);
    expect(loaded.tokenizer?.encode('the dog ran .')).toEqual(wordpiece.encode('the dog ran .'));
    const { batch, seqLen } = bert.encodeBatch(tokenizer, ['the dog ran .', 'a cat slept near the tree .']);
    expect(loaded.model).toBeInstanceOf(BERT);
    expect(loaded.model.batchOutputs(batch, seqLen, 'logits')).toEqual(bert.batchOutputs(batch, seqLen, 'logits'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(CheckpointError);
    loaded.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('bad batches are typed errors and the model stays usable', () => {
    const { batch, seqLen } = bert.encodeBatch(tokenizer, ['the dog ran .', ['a cat slept .', 'the boy sang .']]);
    expect(() => bert.evaluateBatch({ ...batch, labels: Int32Array.of(0, 2) }, seqLen)).toThrow(/labels\[1\] = 2/);
    expect(() => bert.evaluateBatch({ ...batch, labels: Int32Array.of(0) }, seqLen)).toThrow(ShapeError);
    expect(() => bert.evaluateBatch({ ...batch, typeIds: new Uint32Array(batch.ids.length).fill(2) }, seqLen)).toThrow(/segment id/);
    expect(() => bert.evaluateBatch({ ...batch, attentionMask: new Uint8Array(batch.ids.length).fill(3) }, seqLen)).toThrow(/0 or 1/);
    expect(() => bert.evaluateBatch(batch, seqLen)).toThrow(/neither targets nor labels/);
    const losses = bert.evaluateBatch({ ...batch, labels: Int32Array.of(0, 1) }, seqLen);
    expect(losses.class).toBeGreaterThan(0);
    expect(losses.token).toBeUndefined();
    expect(() => bert.predict(tokenizer, ['x'])).not.toThrow();
  });

  it('evaluates a loss and the class logits in one pass, equal to the two calls', () => {
    const { batch, seqLen } = bert.encodeBatch(tokenizer, ['the dog ran .', ['a cat slept .', 'the boy sang .'], 'a tree .']);
    const labelled = { ...batch, labels: Int32Array.of(1, 0, -100) };
    const both = bert.evaluateBatchWithClassLogits(labelled, seqLen);
    expect(both.classLogits).toHaveLength(3 * 2);
    expect(both.classLogits).toEqual(bert.batchOutputs(labelled, seqLen, 'classLogits'));
    expect(both.losses).toEqual(bert.evaluateBatch(labelled, seqLen));
    expect(both.losses.class).toBeGreaterThan(0);
    expect(() => bert.evaluateBatchWithClassLogits(batch, seqLen)).toThrow(/neither targets nor labels/);
    expect(() => bert.evaluateBatchWithClassLogits({ ...labelled, labels: Int32Array.of(0, 5, 0) }, seqLen)).toThrow(/labels\[1\] = 5/);
    const plain = BERT.create(tiny, { seed: 1 });
    expect(() => plain.evaluateBatchWithClassLogits(labelled, seqLen)).toThrow(/no classifier/);
    plain.dispose();
  });
});
