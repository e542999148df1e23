// The model options added for the lecture lab (issue 22): the ReLU MLP, KERPLE, partial RoPE,
// p-RoPE, YaRN and layers without positions. Each trains, decodes with the KV cache exactly as
// the full forward does, survives a checkpoint round trip bit for bit, and is validated with a
// typed error before any wasm work. The gradients are checked natively
// (crates/core/tests/model_gradcheck.rs).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  GPT,
  InvalidArgumentError,
  Trainer,
  init,
  loadCheckpoint,
  saveCheckpoint,
  type TransformerConfigInput,
} from '../../../dist/index.node.js';

const BASE = { vocabSize: 29, blockSize: 24, nLayer: 4, nHead: 2, nEmbd: 32 } as const;

const OPTIONS: [string, Partial<TransformerConfigInput>][] = [
  ['relu MLP', { ffn: 'relu' }],
  ['kerple', { positional: 'kerple' }],
  ['partial rope', { positional: 'rope', ropeFraction: 0.25 }],
  ['p-rope', { positional: 'rope', ropeKeepFrequencies: 0.75 }],
  ['yarn', { positional: 'rope', ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 8, betaFast: 32, betaSlow: 1 } }],
  ['rope with nope layers', { positional: 'rope', noPositionLayers: [3] }],
  ['alibi with nope layers', { positional: 'alibi', noPositionLayers: [1, 3] }],
  ['kerple with nope layers', { positional: 'kerple', noPositionLayers: [0] }],
];

/** Greedy continuation by re-running the whole window each token (the KV cache's spec). */
function greedyByFullForward(gpt: GPT, prompt: number[], steps: number): number[] {
  const out = prompt.slice();
  const v = gpt.config.vocabSize;
  for (let s = 0; s < steps; s++) {
    const last = gpt.logits(out, 1, out.length).subarray((out.length - 1) * v);
    let best = 0;
    for (let i = 1; i < v; i++) if ((last[i] as number) > (last[best] as number)) best = i;
    out.push(best);
  }
  return out;
}

function pattern(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 5 + Math.floor(i / 7)) % BASE.vocabSize);
}

let tmp: string;

beforeAll(async () => {
  await init();
  tmp = await mkdtemp(join(tmpdir(), 'wasmformer-lab-options-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('lab model options', () => {
  it.each(OPTIONS)('%s: trains, decodes like the full forward, round-trips a checkpoint', async (name, extra) => {
    const gpt = GPT.create({ ...BASE, ...extra }, { seed: 4 });
    expect(gpt.config).toMatchObject(extra);
    const trainer = new Trainer(gpt, { train: pattern(600) }, { batchSize: 4, maxSteps: 30, lr: 3e-3 });
    const losses: number[] = [];
    trainer.on('step', (e: { loss: number }) => losses.push(e.loss));
    await trainer.fit();
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)).toBeLessThan((losses[0] as number) * 0.9);
    const prompt = [3, 1, 4, 1, 5];
    const want = greedyByFullForward(gpt, prompt, 15);
    expect(Array.from(gpt.generate(prompt, { maxNewTokens: 15, temperature: 0 }))).toEqual(want);
    const dir = join(tmp, name.replaceAll(' ', '-'));
    await saveCheckpoint(dir, { model: gpt });
    const loaded = (await loadCheckpoint(dir)).model as GPT;
    expect(loaded.config).toEqual(gpt.config);
    expect(loaded.logits(prompt, 1, prompt.length)).toEqual(gpt.logits(prompt, 1, prompt.length));
    loaded.dispose();
    gpt.dispose();
  });

  it('KERPLE learns its rates: r1 and r2 are parameters with gradients', () => {
    const gpt = GPT.create({ ...BASE, positional: 'kerple' }, { seed: 1 });
    const spec = gpt.paramSpecs.find((s) => s.name === 'transformer.kerple.weight');
    expect(spec?.shape).toEqual([2, BASE.nHead]);
    const ids = Array.from(pattern(BASE.blockSize + 1));
    const grads = gpt.gradients(ids.slice(0, -1), ids.slice(1), 1, BASE.blockSize);
    const g = grads.grads.get('transformer.kerple.weight');
    expect(g?.data.some((x: number) => x !== 0)).toBe(true);
    gpt.dispose();
  });

  it('KERPLE and layers without positions work in a bidirectional encoder (BERT)', () => {
    const bert = BERT.create({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, positional: 'kerple', noPositionLayers: [1] });
    const ids = [2, 5, 7, 9, 3, 11];
    const logits = bert.logits(ids, 1, ids.length);
    expect(logits.every(Number.isFinite)).toBe(true);
    // Bidirectional: the first token's output depends on later tokens.
    const changed = bert.logits([2, 5, 7, 9, 3, 12], 1, ids.length);
    expect(changed.subarray(0, 40)).not.toEqual(logits.subarray(0, 40));
    bert.dispose();
  });

  it('a layer without positions ignores them: with every layer NoPE, RoPE and ALiBi equal no positions', () => {
    const all = [0, 1, 2, 3];
    const ids = [1, 2, 3, 4, 5, 6];
    const none = GPT.create({ ...BASE, positional: 'none' }, { seed: 9 });
    for (const positional of ['rope', 'alibi'] as const) {
      const gpt = GPT.create({ ...BASE, positional, noPositionLayers: all }, { seed: 9 });
      expect(gpt.logits(ids, 1, ids.length)).toEqual(none.logits(ids, 1, ids.length));
      const withPositions = GPT.create({ ...BASE, positional }, { seed: 9 });
      expect(withPositions.logits(ids, 1, ids.length)).not.toEqual(none.logits(ids, 1, ids.length));
      gpt.dispose();
      withPositions.dispose();
    }
    none.dispose();
  });

  it('attention maps of a layer without positions have no bias (layer 0 of ALiBi with noPositionLayers [0] is NoPE)', () => {
    const ids = [1, 2, 3, 4, 5, 6];
    using none = GPT.create({ ...BASE, positional: 'none' }, { seed: 6 });
    using alibi = GPT.create({ ...BASE, positional: 'alibi', noPositionLayers: [0] }, { seed: 6 });
    const [a, b] = [none.attentionWeights(ids), alibi.attentionWeights(ids)];
    expect(b.at(0, 1)).toEqual(a.at(0, 1));
    expect(b.at(1, 1)).not.toEqual(a.at(1, 1));
  });

  it('the ReLU MLP defaults to 4C hidden units, like GELU', () => {
    const gpt = GPT.create({ ...BASE, ffn: 'relu' });
    expect(gpt.config.ffnHidden).toBe(4 * BASE.nEmbd);
    gpt.dispose();
  });

  it.each<[Partial<TransformerConfigInput>, RegExp]>([
    [{ positional: 'rope', ropeFraction: 0 }, /ropeFraction must be a number in \(0, 1\]/],
    [{ positional: 'rope', ropeFraction: 1.5 }, /ropeFraction must be a number in \(0, 1\]/],
    [{ positional: 'rope', ropeFraction: 0.1 }, /rotates 1 of 16 dims/],
    [{ positional: 'learned', ropeFraction: 0.5 }, /needs positional 'rope'/],
    [{ positional: 'rope', ropeKeepFrequencies: 0.05 }, /keeps no frequency of 8/],
    [{ positional: 'alibi', ropeKeepFrequencies: 0.5 }, /needs positional 'rope'/],
    [{ positional: 'rope', noPositionLayers: [4] }, /4 is not a layer index in \[0, 4\)/],
    [{ positional: 'rope', noPositionLayers: [1, 1] }, /lists a layer twice/],
    [{ positional: 'rope', noPositionLayers: 3 as unknown as number[] }, /must be an array/],
    [{ positional: 'learned', noPositionLayers: [1] }, /needs positions inside attention/],
    [{ positional: 'sinusoidal', noPositionLayers: [1] }, /needs positions inside attention/],
    [{ ffn: 'relu6' as 'relu' }, /ffn must be one of/],
    [{ positional: 'fire' as 'kerple' }, /positional must be one of/],
    [{ positional: 'rope', ropeScaling: { type: 'yarn', factor: 4 } as never }, /originalMaxPositionEmbeddings/],
    [
      { positional: 'rope', ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 8, betaFast: 1, betaSlow: 2 } },
      /betaSlow < betaFast/,
    ],
    [
      {
        positional: 'rope',
        ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 8, betaFast: 32, betaSlow: 1, attentionFactor: 0 },
      },
      /attentionFactor is 0/,
    ],
    [
      { positional: 'rope', ropeScaling: { type: 'yarn', factor: 4, originalMaxPositionEmbeddings: 8, mscale: 1 } as never },
      /unknown keys mscale/,
    ],
  ])('refuses %j with a typed error', (extra, message) => {
    expect(() => GPT.create({ ...BASE, ...extra })).toThrow(InvalidArgumentError);
    expect(() => GPT.create({ ...BASE, ...extra })).toThrow(message);
  });

  it('YaRN fills betaFast 32 and betaSlow 1 when omitted (Hugging Face defaults)', () => {
    const gpt = GPT.create({
      ...BASE,
      positional: 'rope',
      ropeScaling: { type: 'yarn', factor: 2, originalMaxPositionEmbeddings: 8 } as never,
    });
    expect(gpt.config.ropeScaling).toEqual({ type: 'yarn', factor: 2, originalMaxPositionEmbeddings: 8, betaFast: 32, betaSlow: 1 });
    gpt.dispose();
  });
});
