/**
 * The runtime under concurrent use: `init()` called twice or concurrently gives one runtime;
 * two models trained alternately in one runtime give exactly what each gives alone (no state
 * leaks between models through the shared pool, scratch or optimizer).
 */
import { describe, expect, it } from 'vitest';
import { GPT, Trainer, init, runtimeInfo } from '../../../dist/index.node.js';

const pattern = (n: number, shift: number): Int32Array => Int32Array.from({ length: n }, (_, i) => ((i + shift) % 12) + 1);

function makeRun(seed: number, config: { nLayer: number; nEmbd: number; positional: 'learned' | 'rope' }) {
  const gpt = GPT.create({ vocabSize: 16, blockSize: 16, nHead: 2, ...config }, { seed });
  const trainer = new Trainer(gpt, { train: pattern(500, seed) }, { batchSize: 4, seqLen: 16, lr: 3e-3, maxSteps: 1000, seed });
  return { gpt, trainer };
}

describe('runtime', () => {
  it('init() called concurrently and again gives the same runtime', async () => {
    const [a, b] = await Promise.all([init(), init()]);
    const c = await init();
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(runtimeInfo()).toBe(a);
    expect(a.threads).toBeGreaterThanOrEqual(1);
  });

  it('two models trained alternately match each trained alone, bit for bit', async () => {
    await init();
    const steps = 6;
    const configA = { nLayer: 2, nEmbd: 16, positional: 'learned' as const };
    const configB = { nLayer: 1, nEmbd: 24, positional: 'rope' as const };
    const alone = (seed: number, config: typeof configA | typeof configB) => {
      const { gpt, trainer } = makeRun(seed, config);
      const losses = Array.from({ length: steps }, () => trainer.trainStep().loss);
      const params = gpt.getFlatParams();
      gpt.dispose();
      return { losses, params };
    };
    const soloA = alone(1, configA);
    const soloB = alone(2, configB);
    const a = makeRun(1, configA);
    const b = makeRun(2, configB);
    const lossesA: number[] = [];
    const lossesB: number[] = [];
    for (let i = 0; i < steps; i++) {
      lossesA.push(a.trainer.trainStep().loss);
      lossesB.push(b.trainer.trainStep().loss);
      // A forward of the other model in between must not disturb either.
      a.gpt.generate([1, 2], { maxNewTokens: 2, temperature: 0 });
    }
    expect(lossesA).toEqual(soloA.losses);
    expect(lossesB).toEqual(soloB.losses);
    expect(Buffer.from(a.gpt.getFlatParams().buffer).equals(Buffer.from(soloA.params.buffer))).toBe(true);
    expect(Buffer.from(b.gpt.getFlatParams().buffer).equals(Buffer.from(soloB.params.buffer))).toBe(true);
    a.gpt.dispose();
    b.gpt.dispose();
  });
});
