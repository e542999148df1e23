// Fine-tune a BERT as a sentence classifier: masked-LM pretraining on unlabelled sentences,
// then a classifier on labelled ones, with dev accuracy at every evaluation, then predict.
// The task: does a sentence of the built-in grammar mention a place ("… near the river .")?
// Run: node examples/bert-classifier.mjs   (≈ 30 s on 2 cores)
import { BERT, ClassificationDataset, GRAMMAR_WORDS, MaskedLMDataset, Trainer, WordPieceTokenizer, grammarCorpus, init } from 'wasmformer';

await init();
const sentences = grammarCorpus({ sentences: 3000, seed: 5 }).split('\n').filter(Boolean);
const tokenizer = WordPieceTokenizer.train(sentences, { vocabSize: 200 });
const { clsId, sepId, padId, maskId, vocabSize } = tokenizer;

// 1. Masked-LM pretraining (15% of tokens chosen: 80% [MASK], 10% random, 10% kept).
const bert = BERT.create({ vocabSize, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64 });
const ids = sentences.map((s) => tokenizer.encode(s, undefined, { addSpecialTokens: false }).inputIds);
const mlm = new MaskedLMDataset(ids, { clsId, sepId, padId, maskId, vocabSize }, { groupByLength: true });
await new Trainer(
  bert,
  { train: mlm },
  { batchSize: 32, maxSteps: Number(process.env.STEPS ?? 300), lr: 2e-3, warmupSteps: 20, weightDecay: 0.01 },
).fit();

// 2. A classifier on the pretrained encoder (encoder and pooler copied, a new head).
const places = new Set(GRAMMAR_WORDS.places);
const mentionsPlace = (s) => (s.split(' ').some((w) => places.has(w)) ? 1 : 0);
const train = ClassificationDataset.fromTexts(tokenizer, sentences.slice(0, 2500), sentences.slice(0, 2500).map(mentionsPlace), {
  maxLength: 32,
});
const dev = ClassificationDataset.fromTexts(tokenizer, sentences.slice(2500), sentences.slice(2500).map(mentionsPlace), { maxLength: 32 });
const classifier = bert.withClassifier(2);
const finetune = new Trainer(
  classifier,
  { train, val: dev },
  { batchSize: 32, maxSteps: Number(process.env.STEPS ?? 150), lr: 1e-3, warmupSteps: 10, evalInterval: 50 },
);
finetune.on('eval', (e) =>
  console.log(`step ${e.step}: dev loss ${e.valLoss?.toFixed(3)}, dev accuracy ${(100 * e.valAccuracy).toFixed(1)}%`),
);
await finetune.fit();

const texts = ['the dog ran near the river .', 'the dog ran .'];
classifier
  .predict(tokenizer, texts)
  .forEach(({ label, probs }, i) => console.log(`${texts[i]} → ${label} (p = ${probs[label].toFixed(2)})`));
