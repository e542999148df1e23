import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  GPT,
  InvalidArgumentError,
  OutOfMemoryError,
  Trainer,
  init,
  loadCheckpoint,
  saveCheckpoint,
  type TransformerConfigInput,
} from '../../../dist/index.node.js';

/** A corpus with structure a tiny model learns quickly: a repeating sentence over 12 tokens. */
function patternTokens(length: number): Int32Array {
  const sentence = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0];
  return Int32Array.from({ length }, (_, i) => sentence[i % sentence.length] as number);
}

const TINY: TransformerConfigInput = { vocabSize: 12, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32 };
let dir: string;

beforeAll(async () => {
  await init();
  dir = await mkdtemp(join(tmpdir(), 'wasmformer-gpt-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('GPT config', () => {
  it('fills nanoGPT defaults and rejects bad options by name', () => {
    using gpt = GPT.create({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 });
    expect(gpt.config.positional).toBe('learned');
    expect(gpt.config.ffnHidden).toBe(512);
    // nanoGPT's Shakespeare CPU model: 0.80M parameters (wte tied) + 8192 positions.
    expect(gpt.numParams).toBe(809_856);
    expect(() => GPT.create({ ...TINY, nHead: 3 })).toThrow(/nEmbd \(32\) must be divisible by config.nHead \(3\)/);
    expect(() => GPT.create({ ...TINY, positional: 'absolute' as never })).toThrow(InvalidArgumentError);
    expect(() => GPT.create({ ...TINY, nLayers: 2 } as never)).toThrow(/unknown option 'nLayers'/);
    expect(() => GPT.create({ ...TINY, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(GPT.create({ ...TINY, ffn: 'swiglu' }).config.ffnHidden).toBe(88);
  });

  it('plans GPT-2 small at B=4, T=256 under 4 GiB and refuses what cannot fit, before allocating', () => {
    const gpt2 = { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 };
    const plan = GPT.estimate(gpt2, 4, 256);
    expect(plan.params).toBe(4 * 124_439_808);
    expect(plan.total).toBeLessThan(4 * 2 ** 30);
    expect(() => GPT.create({ ...gpt2, nLayer: 48, nEmbd: 2048, nHead: 16 })).toThrow(OutOfMemoryError);
    using small = GPT.create({ vocabSize: 50257, blockSize: 1024, nLayer: 1, nHead: 2, nEmbd: 64 });
    expect(() => small.plan(512, 1024)).toThrow(/needs .* GiB .*4 GiB/);
    // still usable after the refusal
    expect(small.plan(1, 8).total).toBeGreaterThan(0);
  });
});

describe('GPT training', () => {
  it('learns a repeating pattern, and samples it back', async () => {
    using gpt = GPT.create(TINY, { seed: 1 });
    const trainer = new Trainer(
      gpt,
      { train: patternTokens(2000), val: patternTokens(500) },
      {
        batchSize: 8,
        maxSteps: 80,
        lr: 3e-3,
        warmupSteps: 5,
        evalInterval: 40,
        evalBatches: 4,
      },
    );
    const losses: number[] = [];
    trainer.on('step', (e: { loss: number }) => losses.push(e.loss));
    const result = await trainer.fit();
    expect(result.steps).toBe(80);
    expect(losses[0]).toBeGreaterThan(2);
    expect(result.bestValLoss).toBeLessThan(0.2);
    expect(trainer.history.val.length).toBe(2);
    const out = gpt.generate([1, 2, 3], { maxNewTokens: 9, temperature: 0 });
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0]);
  });

  it.each(['learned', 'sinusoidal', 'none', 'relative', 'rope', 'alibi', 'kerple'] as const)(
    'trains with positional %s',
    async (positional) => {
      using gpt = GPT.create({ ...TINY, positional, norm: 'rmsnorm', ffn: 'swiglu' }, { seed: 2 });
      const trainer = new Trainer(gpt, { train: patternTokens(1000) }, { batchSize: 4, maxSteps: 40, lr: 3e-3 });
      const losses: number[] = [];
      trainer.on('step', (e: { loss: number }) => losses.push(e.loss));
      await trainer.fit();
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)).toBeLessThan((losses[0] as number) * 0.8);
    },
  );

  it('stops early when the validation loss stops improving', async () => {
    using gpt = GPT.create(TINY, { seed: 5 });
    const trainer = new Trainer(
      gpt,
      { train: patternTokens(1000), val: patternTokens(300) },
      {
        batchSize: 4,
        maxSteps: 100,
        lr: 0,
        minLr: 0,
        evalInterval: 5,
        evalBatches: 2,
        earlyStopping: { patience: 2, minDelta: 0.5 },
      },
    );
    const result = await trainer.fit();
    // eval at 5 sets the best; 10 and 15 do not beat it by minDelta → stop after step 15
    expect(result).toMatchObject({ stoppedEarly: true, steps: 15 });
  });

  it('accumulates micro-batches: 2 × B=4 gives the loss and gradient norm of 1 × B=8', () => {
    using gpt = GPT.create(TINY, { seed: 6 });
    const tokens = patternTokens(8 * 17);
    const ids = new Uint32Array(8 * 16);
    const targets = new Int32Array(8 * 16);
    for (let b = 0; b < 8; b++) {
      for (let t = 0; t < 16; t++) {
        ids[b * 16 + t] = tokens[b * 17 + t] as number;
        targets[b * 16 + t] = tokens[b * 17 + t + 1] as number;
      }
    }
    // lr 0: measure without changing the weights
    const hyper = {
      seqLen: 16,
      lr: 0,
      weightDecay: 0,
      decayEmbeddings: false,
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      gradClip: 0,
      dropoutSeed: 0,
    };
    const { loss: lossA, gradNorm: normA } = gpt._trainStepBatch({ ids, targets, batchSize: 8 }, { ...hyper, accum: 2 });
    const { loss: lossB, gradNorm: normB } = gpt._trainStepBatch({ ids, targets, batchSize: 8 }, { ...hyper, accum: 1 });
    expect(Math.abs(lossA - lossB)).toBeLessThan(1e-5);
    expect(Math.abs(normA - normB) / normB).toBeLessThan(1e-4);
  });

  it.each(['learned', 'relative', 'rope', 'alibi'] as const)('%s: any batch shape below, at or above the plan', (positional) => {
    using gpt = GPT.create({ ...TINY, positional, normPlacement: 'post', ffn: 'geglu' });
    gpt.plan(4, 16);
    for (const [b, t] of [
      [1, 1],
      [2, 5],
      [4, 16],
      [8, 16],
      [3, 7],
    ] as const) {
      const ids = Array.from({ length: b * t }, (_, i) => i % 12);
      const targets = ids.map((x) => (x + 1) % 12);
      expect(Number.isFinite(gpt.loss(ids, targets, b, t))).toBe(true);
      expect(gpt.logits(ids, b, t).length).toBe(b * t * 12);
    }
  });

  it('rejects bad batches with typed errors and stays usable', () => {
    using gpt = GPT.create(TINY);
    expect(() => gpt.loss([0, 1, 99], [1, 2, 3], 1, 3)).toThrow(/ids\[2\] = 99 is not a token id in \[0, 12\)/);
    expect(() => gpt.loss([0, 1, 2], [1, 2], 1, 3)).toThrow(/targets: expected 3, got 2/);
    expect(() => gpt.logits(new Array(17).fill(0), 1, 17)).toThrow(/exceeds blockSize 16/);
    expect(Number.isFinite(gpt.loss([0, 1, 2], [1, 2, -100], 1, 3))).toBe(true);
    gpt.dispose();
    expect(() => gpt.numParams).toThrow(/disposed/);
  });
});

describe('checkpoints', () => {
  const options = { batchSize: 4, maxSteps: 12, lr: 2e-3, warmupSteps: 3, seed: 7 } as const;

  it('resumes bit for bit: N steps straight = N/2, save, load, N/2', async () => {
    const config = { ...TINY, dropout: 0.1 };
    const train = patternTokens(1500);
    using straight = GPT.create(config, { seed: 3 });
    await new Trainer(straight, { train }, options).fit();

    using first = GPT.create(config, { seed: 3 });
    const t1 = new Trainer(first, { train }, options);
    await t1.fit({ steps: 6 });
    expect(t1.step).toBe(6);
    const path = join(dir, 'resume');
    await saveCheckpoint(path, { model: first, trainer: t1 });

    const loaded = await loadCheckpoint(path);
    using resumed = loaded.model;
    const t2 = new Trainer(resumed, { train }, { ...options, ...loaded.trainerOptions });
    loaded.restore(t2);
    expect(t2.step).toBe(6);
    await t2.fit();
    const a = straight.getFlatParams();
    const b = resumed.getFlatParams();
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });

  it('refuses truncated or altered files, and survives an interrupted save', async () => {
    using gpt = GPT.create(TINY, { seed: 4 });
    const path = join(dir, 'corrupt');
    await saveCheckpoint(path, { model: gpt });
    const weights = join(path, 'model.safetensors');
    const bytes = await readFile(weights);
    await writeFile(weights, bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(path)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(path)).rejects.toThrow(/truncated or corrupted/);
    const altered = Buffer.from(bytes);
    altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 1;
    await writeFile(weights, altered);
    await expect(loadCheckpoint(path)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(join(dir, 'missing'))).rejects.toThrow(CheckpointError);

    // A save interrupted after moving the old checkpoint aside still loads the old one.
    const good = join(dir, 'good');
    await saveCheckpoint(good, { model: gpt });
    await rename(good, `${good}.previous`);
    const loaded = await loadCheckpoint(good);
    expect(Buffer.from(loaded.model.getFlatParams().buffer).equals(Buffer.from(gpt.getFlatParams().buffer))).toBe(true);
    loaded.model.dispose();
  });
});
