// Sinusoidal positions are fair to the tokens (issue 22): the repro as a new user runs it,
// "the dog chased the cat . the cat chased the dog . " repeated, characters, 2 layers, 32 wide,
// block 32, lr 3e-3, 150 steps, the Trainer's defaults otherwise. Before the token embeddings
// were initialised at N(0, 1/C) and scaled by √nEmbd, the unit-amplitude sinusoid drowned tokens
// initialised at N(0, 0.02²) and the validation loss stayed far above the learned-position
// model's (issue: 2.17 vs 0.37; 1.77–2.20 for seeds 1–3). Measured with both: 0.53–0.64 for
// seeds 1–2 (0.65–0.84 with the scale alone), learned 0.34–0.35.
import { beforeAll, describe, expect, it } from 'vitest';
import { CharTokenizer, GPT, Trainer, init, type Positional } from '../../../dist/index.node.js';

const TEXT = 'the dog chased the cat . the cat chased the dog . '.repeat(40);

/** Validation loss after the repro's 150 steps. */
async function valLoss(positional: Positional, seed: number): Promise<number> {
  const tokenizer = CharTokenizer.fromText(TEXT);
  const ids = tokenizer.encode(TEXT);
  const split = Math.floor(ids.length * 0.9);
  using gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 32, positional }, { seed });
  const trainer = new Trainer(
    gpt,
    { train: ids.subarray(0, split), val: ids.subarray(split) },
    { batchSize: 8, maxSteps: 150, lr: 3e-3, seed },
  );
  await trainer.fit();
  return trainer.evaluate('val');
}

beforeAll(async () => {
  await init();
});

describe('sinusoidal positions: unit-variance tokens (N(0, 1/C) scaled by √C)', () => {
  // Measured here (seeds 1 and 2): see the bound's comment. The bound sits between the fixed and
  // the unscaled sinusoidal model with a margin on each side.
  it('reach the learned-position model’s range on the issue-22 repro', async () => {
    for (const seed of [1, 2]) {
      const learned = await valLoss('learned', seed);
      const sinusoidal = await valLoss('sinusoidal', seed);
      console.log(`seed ${seed}: val loss learned ${learned.toFixed(3)}, sinusoidal ${sinusoidal.toFixed(3)}`);
      expect(learned).toBeLessThan(0.5);
      expect(sinusoidal).toBeLessThan(1.1);
    }
  });
});
