/**
 * A worker of the thread pool that stops (here: terminated from outside, as the host or a
 * crash would) turns into a ThreadPoolError on the next call instead of a hang; the runtime then
 * goes on on the calling thread. In its own file: it leaves this process without a pool.
 */
import { describe, expect, it } from 'vitest';
import { GPT, ThreadPoolError, Trainer, init, runtimeInfo, setThreadLimit } from '../../../dist/index.node.js';
import { stopPoolWorker } from '../../../dist/internals.node.js';

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

describe('a pool worker that stops', () => {
  it('gives a ThreadPoolError on the next call, then training goes on on one thread', async (context) => {
    const info = await init({ threads: 2 });
    if (info.threads < 2) context.skip(); // a build or host without a pool has no worker to lose
    using gpt = GPT.create({ vocabSize: 16, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 32 }, { seed: 1 });
    const train = Int32Array.from({ length: 400 }, (_, i) => (i % 12) + 1);
    const trainer = new Trainer(gpt, { train }, { batchSize: 4, seqLen: 16, lr: 1e-3, maxSteps: 100, seed: 1 });
    trainer.trainStep();
    expect(stopPoolWorker()).toBe(true);
    // The stop arrives as an event between calls.
    expect(await until(() => runtimeInfo().threads === 1, 10_000)).toBe(true);
    const step = trainer.step;
    expect(() => trainer.trainStep()).toThrow(ThreadPoolError);
    expect(trainer.step).toBe(step);
    expect(Number.isFinite(trainer.trainStep().loss)).toBe(true);
    expect(gpt.generate([1, 2, 3], { maxNewTokens: 3, temperature: 0 }).length).toBe(6);
    expect(runtimeInfo().notes.some((note) => note.includes('a worker of the thread pool stopped'))).toBe(true);
    expect(() => setThreadLimit(2)).toThrow(ThreadPoolError);
  });
});
