/**
 * Numerical faults and long-running use: a step whose loss explodes is refused with a
 * NumericalError and changes nothing (weights and AdamW state bit for bit); hundreds of
 * create → train → generate → dispose cycles (GPT and BERT) keep WebAssembly memory at its
 * first plateau; a disposed model throws DisposedError; `fit({ signal })` stops after the
 * current step and leaves the model usable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  DisposedError,
  GPT,
  InvalidArgumentError,
  MaskedLMDataset,
  NumericalError,
  Trainer,
  WordPieceTokenizer,
  grammarCorpus,
  init,
  setThreadLimit,
  wasmMemoryBytes,
} from '../../../dist/index.node.js';

const SOAK_CYCLES = Number(process.env.WASMFORMER_SOAK_CYCLES ?? 200);

/** A repeating 12-token sentence. */
const pattern = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => (i % 12) + 1);
const same = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

beforeAll(async () => {
  await init();
});

describe('numerical faults', () => {
  it('an exploding learning rate gives NumericalError and leaves weights and optimizer state bit for bit', () => {
    using gpt = GPT.create({ vocabSize: 16, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }, { seed: 1 });
    const trainer = new Trainer(
      gpt,
      { train: pattern(600) },
      { batchSize: 4, seqLen: 16, lr: 1e4, warmupSteps: 0, gradClip: 0, seed: 2, maxSteps: 1000 },
    );
    let caught: unknown;
    let before = { params: gpt.getFlatParams(), m: new Float32Array(0), v: new Float32Array(0), step: 0 };
    for (let i = 0; i < 100 && caught === undefined; i++) {
      const opt = gpt._optimizerState();
      before = { params: gpt.getFlatParams(), m: Float32Array.from(opt.m), v: Float32Array.from(opt.v), step: opt.step };
      try {
        trainer.trainStep();
      } catch (error) {
        caught = error;
      }
    }
    expect(caught).toBeInstanceOf(NumericalError);
    const after = gpt._optimizerState();
    expect(same(gpt.getFlatParams(), before.params)).toBe(true);
    expect(same(Float32Array.from(after.m), before.m)).toBe(true);
    expect(same(Float32Array.from(after.v), before.v)).toBe(true);
    expect(after.step).toBe(before.step);
    // The model stays usable: it still evaluates (to a finite or infinite loss, but no throw).
    expect(typeof gpt.loss(pattern(16), pattern(17).subarray(1), 1, 16)).toBe('number');
  });
});

describe('soak', () => {
  /** Runs the create → train → generate/embed → dispose cycles; returns wasm memory after each. */
  function soak(cycles: number): number[] {
    const sentences = grammarCorpus({ sentences: 64, seed: 3 }).split('\n').filter(Boolean);
    const tokenizer = WordPieceTokenizer.train(sentences, { vocabSize: 120 });
    const id = (token: string): number => tokenizer.tokenToId(token) ?? -1;
    const specials = { clsId: id('[CLS]'), sepId: id('[SEP]'), padId: id('[PAD]'), maskId: id('[MASK]'), vocabSize: tokenizer.vocabSize };
    const docs = sentences.map((s) => Array.from(tokenizer.encode(s, undefined, { addSpecialTokens: false }).inputIds));
    const memory: number[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      if (cycle % 2 === 0) {
        const gpt = GPT.create({ vocabSize: 16, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: cycle });
        const trainer = new Trainer(gpt, { train: pattern(200) }, { batchSize: 2, seqLen: 16, lr: 1e-3, maxSteps: 1000, seed: cycle });
        trainer.trainStep();
        trainer.trainStep();
        expect(gpt.generate([1, 2, 3], { maxNewTokens: 4, temperature: 0 }).length).toBe(7);
        gpt.dispose();
        expect(() => gpt.numParams).toThrow(DisposedError);
        expect(() => gpt.generate([1], { maxNewTokens: 1 })).toThrow(DisposedError);
      } else {
        const bert = BERT.create({ vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: cycle });
        const data = new MaskedLMDataset(docs, specials);
        const trainer = new Trainer(bert, { train: data }, { batchSize: 2, seqLen: 32, lr: 1e-3, maxSteps: 1000, seed: cycle });
        trainer.trainStep();
        const [vector] = bert.embed(tokenizer, ['the dog chased the cat .']);
        expect(vector?.length).toBe(16);
        bert.dispose();
        expect(() => bert.embed(tokenizer, ['the dog'])).toThrow(DisposedError);
      }
      memory.push(wasmMemoryBytes());
    }
    return memory;
  }

  /** The cycles after `warm` at which memory grew, and by how much. */
  const growth = (memory: number[], warm: number): string[] =>
    memory.flatMap((m, i) => (i > warm && m > (memory[i - 1] as number) ? [`cycle ${i}: +${m - (memory[i - 1] as number)}`] : []));

  // WebAssembly memory never shrinks, so a leak shows as growth. On one thread the allocations
  // come in the same order every run, so after the first cycles have found the plateau
  // (allocator warm-up) memory must not grow at all.
  it(`${SOAK_CYCLES} create → train → generate/embed → dispose cycles on one thread keep wasm memory flat`, () => {
    setThreadLimit(1);
    try {
      const memory = soak(SOAK_CYCLES);
      const warm = Math.min(20, SOAK_CYCLES - 1);
      expect(growth(memory, warm), `memory by cycle: ${memory.filter((_, i) => i % 20 === 0).join(', ')}`).toEqual([]);
    } finally {
      setThreadLimit(0);
    }
  }, 600_000);

  // On two threads the allocator's peak follows thread timing: in about half of 12 runs memory
  // took one 192 KiB step at a random cycle (cycle 3 to 159 of 200), and not again. So one step
  // of at most 256 KiB is allowed here; leaks are the one-thread test's job.
  it(`${SOAK_CYCLES} cycles on the thread pool: at most one step of memory after warm-up`, () => {
    const memory = soak(SOAK_CYCLES);
    const steps = growth(memory, Math.min(20, SOAK_CYCLES - 1));
    expect(steps.length, steps.join(', ')).toBeLessThanOrEqual(1);
    expect(memory[memory.length - 1] as number).toBeLessThanOrEqual((memory[Math.min(20, SOAK_CYCLES - 1)] as number) + 256 * 1024);
  }, 600_000);
});

describe('aborting', () => {
  it('fit({ signal }) stops after the current step and leaves the model usable', async () => {
    using gpt = GPT.create({ vocabSize: 16, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: 4 });
    const trainer = new Trainer(
      gpt,
      { train: pattern(400) },
      { batchSize: 2, seqLen: 16, lr: 1e-3, maxSteps: 1000, evalInterval: 0, seed: 4 },
    );
    const controller = new AbortController();
    trainer.on('step', (e) => {
      if (e.step === 3) controller.abort();
    });
    const result = await trainer.fit({ signal: controller.signal });
    expect(result.steps).toBe(3);
    expect(Number.isFinite(trainer.trainStep().loss)).toBe(true);
    // Aborted before it starts: no step at all.
    const result2 = await trainer.fit({ signal: AbortSignal.abort() });
    expect(result2.steps).toBe(4);
  });
});

describe('aborting generation', () => {
  it('stream({ signal }) ends before the next token and leaves the model usable', async () => {
    using gpt = GPT.create({ vocabSize: 16, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: 5 });
    // A tokenizer over the 16 ids: one character each.
    const chars = 'abcdefghijklmnop';
    const tokenizer = {
      encode: (text: string) => Array.from(text, (c) => chars.indexOf(c)),
      decode: (ids: ArrayLike<number>) => Array.from(ids, (i) => chars[i] ?? '?').join(''),
    };
    const controller = new AbortController();
    let pieces = 0;
    for await (const piece of gpt.stream(tokenizer, 'abc', { maxNewTokens: 40, temperature: 0, signal: controller.signal })) {
      expect(piece.length).toBeGreaterThan(0);
      pieces += 1;
      if (pieces === 3) controller.abort();
    }
    expect(pieces).toBe(3);
    // Usable afterwards: the same greedy continuation as before the abort, in full.
    const full = await gpt.generateText(tokenizer, 'abc', { maxNewTokens: 40, temperature: 0 });
    expect(full.length).toBe(40);
    let again = '';
    for await (const piece of gpt.stream(tokenizer, 'abc', { maxNewTokens: 40, temperature: 0 })) again += piece;
    expect(again).toBe(full);
    // Already aborted: nothing is generated.
    const none: string[] = [];
    for await (const piece of gpt.stream(tokenizer, 'abc', { maxNewTokens: 40, signal: AbortSignal.abort() })) none.push(piece);
    expect(none).toEqual([]);
    await expect(gpt.stream(tokenizer, 'abc', { signal: {} as AbortSignal }).next()).rejects.toThrow(InvalidArgumentError);
  });
});
