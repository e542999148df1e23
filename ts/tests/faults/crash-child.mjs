// The writer of the crash test (./crash.test.ts): resumes the checkpoint in argv[2] if there is
// one (else starts a tiny GPT), then trains and saves in a loop, printing a JSON line after each
// save returns, until the parent kills it with SIGKILL.
import { existsSync } from 'node:fs';
import { CharTokenizer, GPT, Trainer, init, loadCheckpoint, saveCheckpoint } from '../../../dist/index.node.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: crash-child.mjs <checkpoint dir>');
await init({ threads: 1 });
const text = 'the dog chased the cat . the cat saw the bird . '.repeat(40);
const tokenizer = CharTokenizer.fromText(text);
const data = Int32Array.from(tokenizer.encode(text));
let model;
let trainer;
if (existsSync(dir) || existsSync(`${dir}.previous`)) {
  const loaded = await loadCheckpoint(dir);
  model = loaded.model;
  trainer = new Trainer(model, { train: data }, loaded.trainerOptions);
  loaded.restore(trainer);
} else {
  model = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: 3 });
  trainer = new Trainer(model, { train: data }, { batchSize: 2, seqLen: 16, lr: 3e-3, maxSteps: 1000000, seed: 5 });
}
console.log(JSON.stringify({ event: 'start', step: trainer.step }));
for (;;) {
  trainer.trainStep();
  await saveCheckpoint(dir, { model, trainer, tokenizer });
  console.log(JSON.stringify({ event: 'saved', step: trainer.step }));
}
