// Resume training from a checkpoint exactly where it stopped (optimizer moments, step, data
// order), here for 200 steps more than it was planned for.
// Run after gpt-quickstart.mjs: node examples/gpt-resume.mjs [checkpoint dir]
import { TokenDataset, Trainer, grammarCorpus, init, loadCheckpoint, saveCheckpoint } from 'wasmformer';

await init();
const dir = process.argv[2] ?? 'runs/quickstart';
const ckpt = await loadCheckpoint(dir); // model, tokenizer, trainer options and state
const text = grammarCorpus({ sentences: 20_000, seed: 1 }); // the same data as before
const { train, val } = TokenDataset.split(ckpt.tokenizer.encode(text), 0.1);

const options = { ...ckpt.trainerOptions, maxSteps: ckpt.trainerOptions.maxSteps + Number(process.env.STEPS ?? 200) };
const trainer = new Trainer(ckpt.model, { train, val }, options);
ckpt.restore(trainer); // AdamW moments, step, data RNG, loss history
console.log(`resuming at step ${trainer.step} of ${options.maxSteps}`);
const result = await trainer.fit();
console.log(`step ${result.steps}: best val loss ${result.bestValLoss?.toFixed(3)}`);
await saveCheckpoint(dir, { model: ckpt.model, trainer, tokenizer: ckpt.tokenizer });
