// Pretrain a tiny BERT with masked-LM on the built-in grammar corpus (≈ 15 s on 2 cores),
// then fill a mask and embed sentences.
// Run: node examples/bert-quickstart.mjs
import { BERT, MaskedLMDataset, Trainer, WordPieceTokenizer, grammarCorpus, init } from 'wasmformer';

await init();
const sentences = grammarCorpus({ sentences: 3000, seed: 5 }).split('\n').filter(Boolean); // "the dog chased the cat ."
const tokenizer = WordPieceTokenizer.train(sentences, { vocabSize: 200 }); // [PAD] [UNK] [CLS] [SEP] [MASK] + words
const ids = sentences.map((s) => tokenizer.encode(s, undefined, { addSpecialTokens: false }).inputIds);
const { clsId, sepId, padId, maskId, vocabSize } = tokenizer;
const train = new MaskedLMDataset(ids, { clsId, sepId, padId, maskId, vocabSize }); // 15% of tokens chosen

const bert = BERT.create({ vocabSize, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64 });
const trainer = new Trainer(
  bert,
  { train },
  { batchSize: 32, maxSteps: Number(process.env.STEPS ?? 400), lr: 2e-3, warmupSteps: 20, weightDecay: 0.01 },
);
await trainer.fit();

for (const { token, score } of bert.fillMask(tokenizer, 'the [MASK] chased the cat .')[0]) console.log(token, score.toFixed(3));
const [dog, cat] = bert.embed(tokenizer, ['the dog ran .', 'the cat ran .'], { pooling: 'mean', normalize: true }); // [C] each
console.log('cosine:', dog.reduce((sum, x, i) => sum + x * cat[i], 0).toFixed(3));
