import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  DisposedError,
  GPT,
  InvalidArgumentError,
  Trainer,
  init,
  type TransformerConfigInput,
} from '../../../dist/index.node.js';

const POSITIONALS = ['learned', 'sinusoidal', 'none', 'relative', 'rope', 'alibi', 'kerple'] as const;

/** Greedy continuation by re-running the whole window each token (the spec of the KV cache). */
function greedyByFullForward(gpt: GPT, prompt: number[], steps: number): number[] {
  const out = prompt.slice();
  const v = gpt.config.vocabSize;
  for (let s = 0; s < steps; s++) {
    const logits = gpt.logits(out, 1, out.length);
    const last = logits.subarray((out.length - 1) * v);
    let best = 0;
    for (let i = 1; i < v; i++) if ((last[i] as number) > (last[best] as number)) best = i;
    out.push(best);
  }
  return out;
}

function tiny(extra: Partial<TransformerConfigInput> = {}): GPT {
  return GPT.create({ vocabSize: 29, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 32, ...extra }, { seed: 3 });
}

beforeAll(async () => {
  await init();
});

describe('generation with the KV cache', () => {
  it.each(POSITIONALS)('greedy decoding equals re-running the window (%s)', (positional) => {
    const gpt = tiny({ positional, ffn: positional === 'rope' ? 'swiglu' : 'gelu', norm: positional === 'rope' ? 'rmsnorm' : 'layernorm' });
    const prompt = [3, 1, 4, 1, 5];
    const want = greedyByFullForward(gpt, prompt, 19);
    const got = Array.from(gpt.generate(prompt, { maxNewTokens: 19, temperature: 0 }));
    expect(got).toEqual(want);
    gpt.dispose();
  });

  it('batched prompts of different lengths give what each gives alone (greedy)', () => {
    const gpt = tiny({ positional: 'rope' });
    const prompts = [[1, 2, 3, 4, 5, 6, 7], [9], [4, 4, 8]];
    const alone = prompts.map((p) => Array.from(gpt.generate(p, { maxNewTokens: 10, temperature: 0 })));
    const together = gpt.generateBatch(prompts, { maxNewTokens: 10, temperature: 0 }).map((o) => Array.from(o));
    expect(together).toEqual(alone);
    gpt.dispose();
  });

  it('sampling is seeded; topK 1 and a tiny topP are greedy; options change the draw', () => {
    const gpt = tiny();
    const prompt = [1, 2, 3];
    const greedy = Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 0 }));
    const a = Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 1.5, seed: 7 }));
    const b = Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 1.5, seed: 7 }));
    const c = Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 1.5, seed: 8 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 1.5, topK: 1, seed: 7 }))).toEqual(greedy);
    expect(Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 1.5, topP: 1e-6, seed: 7 }))).toEqual(greedy);
    // A strong repetition penalty keeps greedy decoding off the tokens it has already produced.
    const penalised = Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 0, repetitionPenalty: 1e6 }));
    const fresh = penalised.slice(3);
    expect(new Set(fresh).size).toBe(fresh.length);
    expect(fresh.some((t) => prompt.includes(t))).toBe(false);
    gpt.dispose();
  });

  it('stop tokens and stop sequences end a sequence (kept in the output)', () => {
    const gpt = tiny();
    const prompt = [5, 6];
    const free = Array.from(gpt.generate(prompt, { maxNewTokens: 20, temperature: 0 }));
    const stopAt = free[6] as number;
    const firstIndex = free.indexOf(stopAt, 2);
    const stopped = Array.from(gpt.generate(prompt, { maxNewTokens: 20, temperature: 0, stopTokens: [stopAt] }));
    expect(stopped).toEqual(free.slice(0, firstIndex + 1));
    const tail = free.slice(7, 9);
    const bySequence = Array.from(gpt.generate(prompt, { maxNewTokens: 20, temperature: 0, stopSequences: [tail] }));
    expect(bySequence.slice(-2)).toEqual(tail);
    expect(bySequence.length).toBeLessThanOrEqual(9);
    gpt.dispose();
  });

  it('learned positions refuse to pass blockSize unless asked to slide; RoPE, ALiBi and NoPE run past it', () => {
    const learned = tiny();
    expect(() => learned.generate([1, 2, 3], { maxNewTokens: 30 })).toThrow(InvalidArgumentError);
    expect(() => learned.generate([1, 2, 3], { maxNewTokens: 30 })).toThrow(/blockSize 24/);
    const slid = learned.generate([1, 2, 3], { maxNewTokens: 60, contextOverflow: 'slide', seed: 2 });
    expect(slid.length).toBe(63);
    // A prompt longer than the window is cropped to its newest blockSize tokens.
    const long = Array.from({ length: 40 }, (_, i) => i % 29);
    expect(learned.generate(long, { maxNewTokens: 3, contextOverflow: 'slide' }).length).toBe(43);
    learned.dispose();
    for (const positional of ['rope', 'alibi', 'none'] as const) {
      const gpt = tiny({ positional, ...(positional === 'rope' ? { ropeScaling: { type: 'linear' as const, factor: 4 } } : {}) });
      const out = gpt.generate([1, 2, 3], { maxNewTokens: 60, temperature: 0 });
      expect(out.length).toBe(63);
      gpt.dispose();
    }
  });

  it('bad options are typed errors and the model stays usable', () => {
    const gpt = tiny();
    const bad: object[] = [
      { maxNewTokens: -1 },
      { temperature: -1 },
      { topK: 0 },
      { topP: 0 },
      { topP: 1.5 },
      { repetitionPenalty: 0 },
      { stopTokens: [99] },
      { stopSequences: [[]] },
      { contextOverflow: 'wrap' },
    ];
    for (const options of bad) expect(() => gpt.generate([1], options), JSON.stringify(options)).toThrow(InvalidArgumentError);
    expect(() => gpt.generate([], {})).toThrow(InvalidArgumentError);
    expect(() => gpt.generate([1, 29], {})).toThrow(InvalidArgumentError);
    expect(() => gpt.generateBatch([], {})).toThrow(InvalidArgumentError);
    expect(gpt.generate([1], { maxNewTokens: 4 }).length).toBe(5);
    gpt.dispose();
  });
});

describe('streaming text', () => {
  let tokenizer: CharTokenizer;
  let gpt: GPT;

  beforeAll(() => {
    const text = 'the dog chased the cat. the cat chased the bird. '.repeat(40);
    tokenizer = CharTokenizer.fromText(text);
    gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 }, { seed: 1 });
    const ids = tokenizer.encode(text);
    const trainer = new Trainer(
      gpt,
      { train: ids, val: ids },
      { batchSize: 8, seqLen: 32, maxSteps: 150, lr: 3e-3, warmupSteps: 10, seed: 1 },
    );
    for (let i = 0; i < 150; i++) trainer.trainStep();
  });

  afterAll(() => gpt.dispose());

  it('pieces concatenate to the decoded continuation', async () => {
    const pieces: string[] = [];
    for await (const piece of gpt.stream(tokenizer, 'the dog ', { maxNewTokens: 20, temperature: 0 })) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(1);
    const ids = gpt.generate(tokenizer.encode('the dog '), { maxNewTokens: 20, temperature: 0 });
    expect(pieces.join('')).toBe(tokenizer.decode(ids.subarray(8)));
    expect(pieces.join('')).toMatch(/^chased the/);
  });

  it('stops at a stop string, which is left out', async () => {
    const text = await gpt.generateText(tokenizer, 'the dog ', { maxNewTokens: 24, temperature: 0, stop: ['.'] });
    expect(text).toBe('chased the cat');
    const none = await gpt.generateText(tokenizer, 'the dog ', { maxNewTokens: 24, temperature: 0, stop: ['zebra'] });
    expect(none.length).toBe(24);
  });

  it('breaking out of the loop early frees the cache and the model keeps working', async () => {
    for await (const piece of gpt.stream(tokenizer, 'the ', { maxNewTokens: 20 })) {
      expect(typeof piece).toBe('string');
      break;
    }
    expect(gpt.generate(tokenizer.encode('the '), { maxNewTokens: 5 }).length).toBe(9);
    await expect(async () => {
      for await (const _ of gpt.stream(tokenizer, 'the ', { stop: [''] })) void _;
    }).rejects.toThrow(InvalidArgumentError);
  });

  it('a model disposed while its stream is suspended ends the stream with DisposedError', async () => {
    const own = GPT.create(gpt.config, { seed: 2 });
    const stream = own.stream(tokenizer, 'the ', { maxNewTokens: 20 });
    expect(typeof (await stream.next()).value).toBe('string');
    own.dispose();
    await expect(stream.next()).rejects.toThrow(DisposedError);
    // The generator is finished, and returning it again (as `for await` does) is clean.
    await expect(stream.return(undefined)).resolves.toEqual({ done: true, value: undefined });
  });
});
