import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError } from '../../src/errors.js';
import { TokenDataset } from '../../src/train/dataset.js';
import { Rng } from '../../src/train/rng.js';

const iota = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

describe('TokenDataset', () => {
  it('splits like nanoGPT: first 90% train, last 10% val', () => {
    const { train, val } = TokenDataset.split(iota(1000), 0.1);
    expect(train.length).toBe(900);
    expect(val.length).toBe(100);
    expect(train[0]).toBe(0);
    expect(val[0]).toBe(900);
    const odd = TokenDataset.split(iota(11), 0.1);
    expect([odd.train.length, odd.val.length]).toEqual([9, 2]); // int(0.9 * 11) = 9
    expect(TokenDataset.split(iota(5), 0).val.length).toBe(0);
    expect(() => TokenDataset.split(iota(5), 1)).toThrow(InvalidArgumentError);
    expect(() => TokenDataset.split(iota(5), -0.1)).toThrow(InvalidArgumentError);
    expect(() => TokenDataset.split([1, 2] as unknown as Int32Array, 0.1)).toThrow(InvalidArgumentError);
  });

  it('samples [B, T] windows whose targets are the inputs shifted by one', () => {
    const tokens = iota(50).map((x) => x * 3 + 1);
    const ds = new TokenDataset(tokens, { blockSize: 8, batchSize: 4 });
    const { inputs, targets } = ds.sampleBatch(new Rng(1));
    expect(inputs.length).toBe(32);
    expect(targets.length).toBe(32);
    for (let b = 0; b < 4; b++) {
      const start = ((inputs[b * 8] ?? 0) - 1) / 3;
      for (let t = 0; t < 8; t++) {
        expect(inputs[b * 8 + t]).toBe(tokens[start + t]);
        expect(targets[b * 8 + t]).toBe(tokens[start + t + 1]);
      }
    }
  });

  it('draws starts from all of [0, N - T - 1] and no further', () => {
    const N = 12;
    const T = 4;
    const ds = new TokenDataset(iota(N), { blockSize: T, batchSize: 1 });
    const rng = new Rng(3);
    const starts = new Set<number>();
    for (let i = 0; i < 2000; i++) starts.add(ds.sampleBatch(rng).inputs[0] ?? -1);
    expect([...starts].sort((a, b) => a - b)).toEqual(Array.from({ length: N - T }, (_, i) => i));
    expect(ds.windowCount).toBe(N - T);
  });

  it('works with exactly blockSize + 1 tokens', () => {
    const ds = new TokenDataset(iota(5), { blockSize: 4, batchSize: 2 });
    const { inputs, targets } = ds.sampleBatch(new Rng(0));
    expect([...inputs]).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect([...targets]).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('batchInto fills caller arrays with the same windows as sampleBatch', () => {
    const ds = new TokenDataset(iota(100), { blockSize: 5, batchSize: 3 });
    const a = ds.sampleBatch(new Rng(77));
    const inputs = new Int32Array(15);
    const targets = new Int32Array(15);
    ds.batchInto(new Rng(77), inputs, targets);
    expect(inputs).toEqual(a.inputs);
    expect(targets).toEqual(a.targets);
    expect(() => ds.batchInto(new Rng(1), new Int32Array(14), targets)).toThrow(ShapeError);
    expect(() => ds.batchInto(new Rng(1), inputs, new Float32Array(15) as unknown as Int32Array)).toThrow(InvalidArgumentError);
  });

  it('is deterministic given the rng', () => {
    const ds = new TokenDataset(iota(1000), { blockSize: 16, batchSize: 8 });
    expect(ds.sampleBatch(new Rng(5))).toEqual(ds.sampleBatch(new Rng(5)));
    expect(ds.sampleBatch(new Rng(5)).inputs).not.toEqual(ds.sampleBatch(new Rng(6)).inputs);
  });

  it('rejects data shorter than blockSize + 1 and bad sizes', () => {
    expect(() => new TokenDataset(iota(4), { blockSize: 4, batchSize: 1 })).toThrow(ShapeError);
    expect(() => new TokenDataset(iota(4), { blockSize: 4, batchSize: 1 })).toThrow(/at least blockSize \+ 1 = 5 tokens.*got 4/);
    expect(() => new TokenDataset(iota(10), { blockSize: 0, batchSize: 1 })).toThrow(InvalidArgumentError);
    expect(() => new TokenDataset(iota(10), { blockSize: 2, batchSize: 1.5 })).toThrow(/batchSize/);
    expect(() => new TokenDataset([1, 2, 3] as unknown as Int32Array, { blockSize: 1, batchSize: 1 })).toThrow(InvalidArgumentError);
  });
});
