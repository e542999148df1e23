import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  ClassificationDataset,
  DisposedError,
  GRAMMAR_WORDS,
  InvalidArgumentError,
  MaskedLMDataset,
  Trainer,
  grammarCorpus,
  grammarVocabulary,
  init,
} from '../../../dist/index.node.js';
import { WordTokenizer } from '../helpers/word-tokenizer.js';

// Thresholds fixed before the first run:
// - fill-mask: the int8 model's top-1 token equals float32's at >= 95% of 120 masked positions
//   (one per dev sentence);
// - classification: the int8 classifier's label equals float32's for >= 95% of 400 dev sentences.
// Per-channel int8 moves each weight by at most 1/254 of its row's largest and the int16
// activations by 1/65534 of the row's largest (docs/design/int8.md): logits move by ~1% of
// their scale, so only near-ties can flip; 95% leaves room for those without hiding a wrong
// kernel (a wrong scale or layout scrambles the ranking).
const MIN_AGREEMENT = 0.95;

const tokenizer = new WordTokenizer(grammarVocabulary());
const specials = { clsId: 2, sepId: 3, padId: 0, maskId: 4, vocabSize: tokenizer.vocabSize };
const sentences = grammarCorpus({ sentences: 2400, seed: 7 }).split('\n').filter(Boolean);
const tiny = { vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64 };
const places = new Set<string>(GRAMMAR_WORDS.places);
const label = (s: string): number => (s.split(' ').some((w) => places.has(w)) ? 1 : 0);

/** One dev sentence per position with word `i mod length` replaced by [MASK]. */
const masked = sentences.slice(2000, 2120).map((s, i) => {
  const words = s.split(' ');
  words[i % words.length] = '[MASK]';
  return words.join(' ');
});
const dev = sentences.slice(2000, 2400);

beforeAll(async () => {
  await init();
});

describe('BERT.quantize int8 on trained models', () => {
  let bert: BERT;
  let classifier: BERT;
  let floatFill: number[];
  let floatLabels: number[];
  let floatLogits: Float32Array;

  beforeAll(async () => {
    bert = BERT.create(tiny, { seed: 1 });
    const docs: number[][][] = [];
    for (let i = 0; i + 2 <= 2000; i += 2) docs.push(sentences.slice(i, i + 2).map((s) => tokenizer.words(s)));
    const mlm = new MaskedLMDataset(docs, specials);
    await new Trainer(bert, { train: mlm }, { batchSize: 16, seqLen: 32, maxSteps: 200, lr: 2e-3, warmupSteps: 20 }).fit();
    classifier = bert.withClassifier(2, { seed: 3 });
    const train = ClassificationDataset.fromTexts(tokenizer, sentences.slice(0, 2000), sentences.slice(0, 2000).map(label), {
      maxLength: 32,
    });
    await new Trainer(classifier, { train }, { batchSize: 16, seqLen: 32, maxSteps: 100, lr: 1e-3, warmupSteps: 10 }).fit();

    floatFill = masked.map((text) => bert.fillMask(tokenizer, text, { topK: 1 })[0]?.[0]?.id ?? -1);
    floatLabels = classifier.predict(tokenizer, dev).map((p) => p.label);
    floatLogits = bert.logits(tokenizer.encode(masked[0] as string).inputIds);
    expect(bert.quantize({ weights: 'int8' })).toBe(bert);
    expect(classifier.quantize({ weights: 'int8' })).toBe(classifier);
  });

  afterAll(() => {
    bert?.dispose();
    classifier?.dispose();
  });

  it('fill-mask: top-1 agrees with float32', () => {
    const int8 = masked.map((text) => bert.fillMask(tokenizer, text, { topK: 1 })[0]?.[0]?.id ?? -2);
    const same = int8.filter((id, i) => id === floatFill[i]).length;
    console.info(`BERT int8 vs float32 fill-mask top-1 agreement: ${same}/${int8.length} = ${(same / int8.length).toFixed(3)}`);
    expect(same / int8.length).toBeGreaterThanOrEqual(MIN_AGREEMENT);
    // The int8 weights are in use: the logits move, a little.
    const logits = bert.logits(tokenizer.encode(masked[0] as string).inputIds);
    const scale = floatLogits.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const diff = logits.reduce((m, x, j) => Math.max(m, Math.abs(x - (floatLogits[j] as number))), 0);
    console.info(`BERT int8 vs float32 MLM logits: max |Δ| / max |logit| = ${(diff / scale).toExponential(2)}`);
    expect(diff).toBeGreaterThan(0);
  });

  it('classification: labels agree with float32', () => {
    const int8 = classifier.predict(tokenizer, dev).map((p) => p.label);
    const same = int8.filter((l, i) => l === floatLabels[i]).length;
    console.info(`BERT int8 vs float32 classifier label agreement: ${same}/${int8.length} = ${(same / int8.length).toFixed(3)}`);
    expect(same / int8.length).toBeGreaterThanOrEqual(MIN_AGREEMENT);
  });

  it('reports its int8 bytes: every linear layer of the blocks and heads', () => {
    const c = 64;
    const f = 4 * c;
    const v = tokenizer.vocab.length;
    const blockRows = 2 * (3 * c + c + f + c);
    const blockValues = 2 * (3 * c * c + c * c + f * c + c * f);
    // masked-LM: transform [C, C] and decoder [V, C]; classifier: pooler [C, C] and [2, C].
    expect(bert.quantization).toBe('int8');
    expect(bert.quantizedBytes).toBe(blockValues + c * c + v * c + 4 * (blockRows + c + v));
    expect(classifier.quantizedBytes).toBe(blockValues + c * c + 2 * c + 4 * (blockRows + c + 2));
  });

  it('refuses the float32 paths, loading weights and training; embed and withClassifier still work', () => {
    const ids = tokenizer.encode('the dog ran .').inputIds;
    const targets = ids.map(() => -100);
    expect(() => bert.loss(ids, targets)).toThrow(InvalidArgumentError);
    expect(() => bert.gradients(ids, targets)).toThrow(InvalidArgumentError);
    expect(() => bert.attentionWeights(ids)).toThrow(InvalidArgumentError);
    expect(() => bert.setWeights(bert.getWeights())).toThrow(InvalidArgumentError);
    expect(() => bert.setFlatParams(bert.getFlatParams())).toThrow(InvalidArgumentError);
    const batch = { ids: Uint32Array.from(ids), targets: Int32Array.from(targets), batchSize: 1 };
    expect(() => bert.evaluateBatch(batch)).toThrow(InvalidArgumentError);
    expect(() => bert.batchGradients(batch)).toThrow(InvalidArgumentError);
    const mlm = new MaskedLMDataset([[tokenizer.words('the dog ran .'), tokenizer.words('a cat sat .')]], specials);
    expect(() => new Trainer(bert, { train: mlm }, { batchSize: 2, seqLen: 8, maxSteps: 1 })).toThrow(/quantised/);
    expect(() => bert.quantize({ weights: 'int8' })).toThrow(/already quantised/);
    const [vector] = bert.embed(tokenizer, ['the dog ran .'], { normalize: true });
    expect(Math.hypot(...(vector as Float32Array))).toBeCloseTo(1, 5);
    const fresh = bert.withClassifier(2);
    expect(fresh.quantization).toBeNull();
    fresh.dispose();
  });
});

describe('BERT.quantize misuse', () => {
  const config = { vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 };

  it('validates its options', () => {
    const bert = BERT.create(config);
    for (const bad of [
      null,
      undefined,
      'int8',
      {},
      { weights: 'int4' },
      { weights: 'int8', blockSize: 12 },
      { weights: 'int8', groupSize: 32 },
    ]) {
      expect(() => bert.quantize(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(bert.quantization).toBeNull();
    expect(bert.quantizedBytes).toBe(0);
    expect(bert.logits([1, 2]).length).toBe(22); // still float32
    bert.dispose();
  });

  it('after dispose: DisposedError', () => {
    const bert = BERT.create(config);
    bert.dispose();
    expect(() => bert.quantize({ weights: 'int8' })).toThrow(DisposedError);
    const q = BERT.create(config).quantize({ weights: 'int8' });
    q.dispose();
    expect(() => q.logits([1, 2])).toThrow(DisposedError);
  });
});
