// A child process for pool-lost.test.ts: a worker of the thread pool aborts in the middle of a
// call (`train`: a training step; `infer`: a forward pass). Prints one JSON line of what it saw.
// Run in its own process so that a regression (the call waiting forever) is a timeout the parent
// can kill, not a hung test runner.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT, Trainer, init, loadCheckpoint, runtimeInfo, saveCheckpoint } from '../../../dist/index.node.js';
import { failPoolWorkerDuringNextCall } from '../../../dist/internals.node.js';

const mode = process.argv[2];
const outcome = (fn) => {
  const start = performance.now();
  try {
    fn();
    return { error: null, ms: performance.now() - start };
  } catch (error) {
    return { error: error.name, message: error.message, ms: performance.now() - start };
  }
};

const info = await init({ threads: 2 });
if (info.threads < 2) {
  console.log(JSON.stringify({ skipped: `no pool here (${info.variant}, ${info.threads} thread)` }));
  process.exit(0);
}
const config = { vocabSize: 32, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 128 };
const gpt = GPT.create(config, { seed: 1 });
const train = Int32Array.from({ length: 4000 }, (_, i) => (i * 7) % 31);
const trainer = new Trainer(gpt, { train }, { batchSize: 8, seqLen: 64, lr: 1e-3, maxSteps: 100, seed: 1 });
trainer.trainStep();
const dir = mkdtempSync(join(tmpdir(), 'wasmformer-pool-lost-'));
await saveCheckpoint(dir, { model: gpt, trainer });
const ids = Int32Array.from({ length: 64 }, (_, i) => i % 31);

const injected = failPoolWorkerDuringNextCall();
const failed = outcome(() => (mode === 'train' ? trainer.trainStep() : gpt.logits(ids)));
// The lost worker's exit reaches this thread as an event: let it arrive.
await new Promise((resolve) => setTimeout(resolve, 200));
const threadsAfter = runtimeInfo().threads;
const reusedModel = outcome(() => (mode === 'train' ? trainer.trainStep() : gpt.logits(ids)));
const restored = await loadCheckpoint(dir);
const resumed = new Trainer(restored.model, { train }, restored.trainerOptions);
restored.restore(resumed);
const loss = resumed.trainStep().loss;
const fresh = GPT.create(config, { seed: 2 });
const logits = fresh.logits(ids);
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    injected,
    failed,
    threadsAfter,
    notes: runtimeInfo().notes,
    reusedModel,
    resumedLoss: loss,
    freshFinite: logits.every(Number.isFinite),
  }),
);
process.exit(0);
