/**
 * Validation loss at longer contexts than the model was trained on, measured as the lab's
 * `long-text` experiment measures it (`perplexity` in ts/src/lab/tasks/char-lm.ts, mode
 * `chunks`): the validation tokens cut into non-overlapping windows of `len` tokens, every
 * position scored, the mean cross-entropy over all scored tokens (the lab reports its
 * exponential, the perplexity). The same windows at the training length are the compared runs'
 * validation loss, so the curve's first point is that loss.
 */
import { type BatchSource, type GPT, type ModelBatch, type Rng, TokenDataset } from 'wasmformer';

/**
 * The non-overlapping windows of `tokens` (`[N]`), `len` tokens each with their next-token
 * targets, in batches of at most `batchSize` windows: `ids, targets: [B, len]`.
 */
export function* windows(tokens: Int32Array, len: number, batchSize: number): Generator<ModelBatch> {
  const starts: number[] = [];
  for (let s = 0; s + len + 1 <= tokens.length; s += len) starts.push(s);
  for (let first = 0; first < starts.length; first += batchSize) {
    const group = starts.slice(first, first + batchSize);
    const ids = new Uint32Array(group.length * len);
    const targets = new Int32Array(group.length * len);
    group.forEach((s, row) => {
      ids.set(tokens.subarray(s, s + len), row * len);
      targets.set(tokens.subarray(s + 1, s + len + 1), row * len);
    });
    yield { ids, targets, batchSize: group.length, seqLen: len };
  }
}

/**
 * The validation split as a {@link BatchSource} the Trainer evaluates in full (every
 * non-overlapping window once, see {@link windows}) instead of on random windows.
 * `tokens: [N]`.
 */
export function fullValidation(tokens: Int32Array): BatchSource {
  return {
    sample(rng: Rng, batchSize: number, seqLen: number): ModelBatch {
      const b = new TokenDataset(tokens, { blockSize: seqLen, batchSize }).sampleBatch(rng);
      return { ids: Uint32Array.from(b.inputs), targets: b.targets, batchSize };
    },
    batches: (batchSize, seqLen) => windows(tokens, seqLen, batchSize),
  };
}

/** Options of {@link contextLoss}. */
export interface ContextLossOptions {
  /** The context length (tokens per window); at most the model's blockSize. */
  len: number;
  /** Windows per forward pass (default 8). */
  batchSize?: number;
}

/**
 * The mean validation cross-entropy (nats per token) of `model` on `val: [N]` cut into
 * non-overlapping windows of `options.len` tokens. Throws a RangeError when `val` cannot fill
 * one window.
 */
export function contextLoss(model: GPT, val: Int32Array, options: ContextLossOptions): number {
  const { len, batchSize = 8 } = options;
  let [lossSum, scored] = [0, 0];
  for (const batch of windows(val, len, batchSize)) {
    const count = batch.batchSize * len;
    lossSum += model.evaluateBatch(batch, len).total * count;
    scored += count;
  }
  if (scored === 0) throw new RangeError(`contextLoss: ${val.length} validation tokens cannot fill one window of ${len}`);
  return lossSum / scored;
}
