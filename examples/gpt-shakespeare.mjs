// nanoGPT's Shakespeare character-level recipe (its CPU command: 4 layers, 4 heads, 128 wide,
// block 64, batch 12, 2000 steps), with a validation curve written to loss.svg and a checkpoint
// that can be resumed (examples/gpt-resume.mjs).
// Run: node examples/gpt-shakespeare.mjs [text file]   (≈ 2–4 min on 2 cores)
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CharTokenizer, GPT, TokenDataset, Trainer, init, lossCurveSvg, saveCheckpoint } from 'wasmformer';

const runtime = await init();
console.log(`build ${runtime.variant}, ${runtime.threads} thread(s)`);
const text = await readFile(process.argv[2] ?? 'data/tinyshakespeare.txt', 'utf8');
const tokenizer = CharTokenizer.fromText(text);
const { train, val } = TokenDataset.split(tokenizer.encode(text), 0.1); // first 90% / last 10%

const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0 });
const trainer = new Trainer(
  gpt,
  { train, val },
  {
    batchSize: 12,
    maxSteps: Number(process.env.STEPS ?? 2000),
    lr: 1e-3,
    minLr: 1e-4,
    warmupSteps: 100,
    beta2: 0.99,
    weightDecay: 0.1,
    gradClip: 1,
    evalInterval: 250,
    evalBatches: 20,
    seed: 1337,
  },
);
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
console.log(`${gpt.numParams} parameters; planned memory ${mib(trainer.memory.total)}`);
trainer.on('step', (e) => {
  if (e.step % 100 === 0)
    console.log(`step ${e.step}: loss ${e.loss.toFixed(4)}, lr ${e.lr.toExponential(2)}, ${Math.round(e.tokensPerSec)} tokens/s`);
});
trainer.on('eval', (e) => console.log(`step ${e.step}: val loss ${e.valLoss?.toFixed(4)}`));
const result = await trainer.fit(); // or trainer.trainStep(), one step at a time
console.log(`${result.steps} steps, ${result.msPerStep.toFixed(1)} ms/step, best val loss ${result.bestValLoss?.toFixed(4)}`);

writeFileSync(
  'loss.svg',
  lossCurveSvg(
    [
      { name: 'train', points: trainer.history.train },
      { name: 'val', points: trainer.history.val },
    ],
    { title: 'tinyshakespeare, char-level GPT (0.8M parameters)' },
  ),
);
const sample = await gpt.generateText(tokenizer, 'ROMEO:', {
  maxNewTokens: 200,
  temperature: 0.8,
  topK: 40,
  seed: 1,
  contextOverflow: 'slide',
});
console.log(`ROMEO:${sample}`);
await saveCheckpoint('runs/shakespeare', { model: gpt, trainer, tokenizer });
