import { beforeAll, describe, expect, it } from 'vitest';
import {
  BERT,
  ClassificationDataset,
  InvalidArgumentError,
  MaskedLMDataset,
  Rng,
  Trainer,
  init,
  type ClassificationExample,
} from '../../../dist/index.node.js';

const specials = { padId: 0, sepId: 3 };

/** Examples of lengths 3..(3 + n % 29): `[CLS] w… [SEP]`, label = parity of the first word. */
function examples(n: number): ClassificationExample[] {
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 1 + ((i * 7) % 29) }, (_, j) => 5 + ((i * 13 + j * 5) % 40));
    return { ids: [2, ...words, 3], label: (words[0] as number) % 2 };
  });
}

beforeAll(async () => {
  await init();
});

describe('ClassificationDataset padding', () => {
  it("pads to the longest sequence of the batch by default and to T with padding 'max'", () => {
    const data = examples(50);
    const longest = new ClassificationDataset(data, specials);
    const max = new ClassificationDataset(data, specials, { padding: 'max' });
    const a = longest.sample(new Rng(3), 4, 64);
    const b = max.sample(new Rng(3), 4, 64);
    expect(b.seqLen ?? 64).toBe(64);
    expect(b.ids.length).toBe(4 * 64);
    const t = a.seqLen as number;
    expect(t).toBeLessThan(64);
    expect(a.ids.length).toBe(4 * t);
    // Same examples: each row of `a` is the first t columns of `b`'s row, and nothing real is cut.
    for (let r = 0; r < 4; r++) {
      expect(Array.from(a.ids.subarray(r * t, (r + 1) * t))).toEqual(Array.from(b.ids.subarray(r * 64, r * 64 + t)));
      expect(b.attentionMask!.subarray(r * 64 + t, (r + 1) * 64).every((m) => m === 0)).toBe(true);
    }
    expect(Math.max(...Array.from({ length: 4 }, (_, r) => a.attentionMask!.subarray(r * t, (r + 1) * t).reduce((s, m) => s + m, 0)))).toBe(
      t,
    );
  });

  it('cuts long examples to T, keeping the final [SEP]', () => {
    const data = new ClassificationDataset([{ ids: [2, 7, 8, 9, 10, 3], label: 1 }], specials);
    const batch = data.sample(new Rng(1), 1, 4);
    expect(batch.seqLen ?? 4).toBe(4);
    expect(Array.from(batch.ids)).toEqual([2, 7, 8, 3]);
  });

  it('groupByLength draws batches of similar length and keeps every example equally likely', () => {
    const data = examples(600);
    const grouped = new ClassificationDataset(data, specials, { groupByLength: true, groupSize: 60 });
    const rng = new Rng(11);
    const counts = new Array<number>(data.length).fill(0);
    let spreadGrouped = 0;
    const draws = 3000;
    for (let k = 0; k < draws; k++) {
      const batch = grouped.sample(rng, 8, 64);
      const t = batch.seqLen ?? 64;
      const lengths = Array.from({ length: 8 }, (_, r) => batch.attentionMask!.subarray(r * t, (r + 1) * t).reduce((s, m) => s + m, 0));
      spreadGrouped += Math.max(...lengths) - Math.min(...lengths);
      for (let r = 0; r < 8; r++) {
        // Identify the example by its ids (the generator makes them unique).
        const row = Array.from(batch.ids.subarray(r * t, r * t + (lengths[r] as number)));
        const index = data.findIndex((e) => e.ids.length === row.length && (e.ids as number[]).every((v, j) => v === row[j]));
        counts[index] = (counts[index] as number) + 1;
      }
    }
    // Lengths span 3..31; 60 of 600 sorted examples span about 3 lengths.
    expect(spreadGrouped / draws).toBeLessThan(4);
    // 24,000 picks over 600 examples: 40 each on average; groups at the ends are not favoured.
    const mean = (draws * 8) / data.length;
    const firstGroup = counts.filter((_, i) => (data[i] as ClassificationExample).ids.length <= 4).reduce((s, c) => s + c, 0);
    const share = firstGroup / (draws * 8);
    const expected = data.filter((e) => e.ids.length <= 4).length / data.length;
    expect(Math.abs(share - expected)).toBeLessThan(0.02);
    expect(Math.min(...counts)).toBeGreaterThan(mean / 4);
  });

  it('refuses bad options with typed errors', () => {
    expect(() => new ClassificationDataset(examples(3), specials, { padding: 'left' as 'max' })).toThrow(InvalidArgumentError);
    expect(() => new ClassificationDataset(examples(3), specials, { groupSize: 0 })).toThrow(InvalidArgumentError);
  });
});

describe('training on batches padded to their longest sequence', () => {
  const config = { vocabSize: 48, blockSize: 40, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, nClasses: 2 } as const;
  // Returns the step losses, the validation loss and the class logits of a fixed batch after
  // 8 steps at a high learning rate (so that padding read by mistake would show).
  const run = (padding: 'longest' | 'max', gradAccumSteps: number): number[] => {
    const model = BERT.create(config, { seed: 5 });
    const data = new ClassificationDataset(examples(200), specials, { padding });
    const trainer = new Trainer(
      model,
      { train: data, val: data },
      { batchSize: 6, seqLen: 40, maxSteps: 8, lr: 1e-2, gradAccumSteps, seed: 9 },
    );
    const out = Array.from({ length: 8 }, () => trainer.trainStep().loss);
    out.push(trainer.evaluate('val'));
    const probe = new ClassificationDataset(examples(200), specials, { padding: 'max' }).sample(new Rng(4), 6, 40);
    out.push(...model.batchOutputs(probe, 40, 'classLogits'));
    model.dispose();
    return out;
  };

  it('gives the losses of padding every batch to T (padding is invisible)', () => {
    const longest = run('longest', 1);
    const max = run('max', 1);
    longest.forEach((value, i) => expect(Math.abs(value - (max[i] as number))).toBeLessThan(1e-5));
  });

  it('pads micro-batches of different lengths to one length for gradient accumulation', () => {
    const longest = run('longest', 3);
    const max = run('max', 3);
    longest.forEach((value, i) => expect(Math.abs(value - (max[i] as number))).toBeLessThan(1e-5));
  });
});

describe('MaskedLMDataset padding', () => {
  const docs = examples(120).map((e) => Array.from(e.ids).slice(1, -1));
  const mlmSpecials = { clsId: 2, sepId: 3, padId: 0, maskId: 4, vocabSize: 48 };

  it("pads to the longest sequence by default, with the same masking as padding 'max'", () => {
    const a = new MaskedLMDataset(docs, mlmSpecials).sample(new Rng(8), 5, 40);
    const b = new MaskedLMDataset(docs, mlmSpecials, { padding: 'max' }).sample(new Rng(8), 5, 40);
    const t = a.seqLen as number;
    expect(t).toBeLessThan(40);
    for (let r = 0; r < 5; r++) {
      expect(Array.from(a.ids.subarray(r * t, (r + 1) * t))).toEqual(Array.from(b.ids.subarray(r * 40, r * 40 + t)));
      expect(Array.from(a.targets!.subarray(r * t, (r + 1) * t))).toEqual(Array.from(b.targets!.subarray(r * 40, r * 40 + t)));
      expect(b.attentionMask!.subarray(r * 40 + t, (r + 1) * 40).every((m) => m === 0)).toBe(true);
    }
  });

  it('groupByLength draws sentences of similar length, and refuses nsp', () => {
    const grouped = new MaskedLMDataset(docs, mlmSpecials, { groupByLength: true, groupSize: 12 });
    const plain = new MaskedLMDataset(docs, mlmSpecials);
    const rng = new Rng(2);
    let [groupedT, plainT] = [0, 0];
    for (let k = 0; k < 200; k++) {
      groupedT += grouped.sample(rng, 6, 40).seqLen ?? 40;
      plainT += plain.sample(rng, 6, 40).seqLen ?? 40;
    }
    // Sentences of 3..31 tokens: random batches pad to about 27, grouped ones to about the mean.
    expect(groupedT / 200).toBeLessThan(0.75 * (plainT / 200));
    expect(() => new MaskedLMDataset([docs], mlmSpecials, { groupByLength: true, nsp: true })).toThrow(InvalidArgumentError);
    expect(() => new MaskedLMDataset(docs, mlmSpecials, { groupByLength: true, groupSize: 1.5 })).toThrow(InvalidArgumentError);
  });

  it('pretrains to the same losses as padding every batch to T', () => {
    const run = (padding: 'longest' | 'max'): number[] => {
      const model = BERT.create({ vocabSize: 48, blockSize: 40, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0 }, { seed: 5 });
      const data = new MaskedLMDataset(docs, mlmSpecials, { padding });
      const trainer = new Trainer(
        model,
        { train: data, val: data },
        { batchSize: 6, seqLen: 40, maxSteps: 6, lr: 1e-2, gradAccumSteps: 2, seed: 3 },
      );
      const out = Array.from({ length: 6 }, () => trainer.trainStep().loss);
      out.push(trainer.evaluate('val'));
      model.dispose();
      return out;
    };
    const longest = run('longest');
    run('max').forEach((value, i) => expect(Math.abs(value - (longest[i] as number))).toBeLessThan(1e-5));
  });
});
