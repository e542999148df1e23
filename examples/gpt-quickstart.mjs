// Train a small character-level GPT, sample from it, and save it.
// Run: node examples/gpt-quickstart.mjs   (≈ 1–2 min on 2 cores; STEPS=50 for a quick look)
import { CharTokenizer, GPT, TokenDataset, Trainer, grammarCorpus, init, saveCheckpoint } from 'wasmformer';

await init(); // loads the fastest WebAssembly build this engine runs
const text = grammarCorpus({ sentences: 20_000, seed: 1 }); // or readFileSync('input.txt', 'utf8')
const tokenizer = CharTokenizer.fromText(text);
const { train, val } = TokenDataset.split(tokenizer.encode(text), 0.1); // 90% train, 10% validation
const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 });
const trainer = new Trainer(
  gpt,
  { train, val },
  { batchSize: 12, maxSteps: Number(process.env.STEPS ?? 600), lr: 2e-3, warmupSteps: 50, evalInterval: 100 },
);
trainer.on('eval', (e) => console.log(`step ${e.step}: train loss ${e.trainLoss.toFixed(3)}, val loss ${e.valLoss?.toFixed(3)}`));
await trainer.fit();
console.log(tokenizer.decode(gpt.generate(tokenizer.encode('the dog '), { maxNewTokens: 50, temperature: 0.8, seed: 1 })));
await saveCheckpoint('runs/quickstart', { model: gpt, trainer, tokenizer }); // Node only
