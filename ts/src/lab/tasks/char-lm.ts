/**
 * Train short, test long (Press et al. 2022, ALiBi): a character GPT on tinyshakespeare trained
 * on windows of `trainLen` characters, and its perplexity on held-out text at longer contexts,
 * two ways:
 *
 * - `chunks`: the text cut into non-overlapping windows of L; every character is scored, so
 *   the average mixes short and long contexts (positions 0 … L−1).
 * - `sliding`: windows of L with stride L/2; only each window's last L/2 characters are scored
 *   (all of the first window's), so every scored character sees at least L/2 characters of
 *   context and most positions scored are past the trained length.
 *
 * Shared by the `long-text` and `rope` experiments.
 */
import { CharTokenizer, GPT, type ModelBatch, Trainer, type TransformerConfigInput } from '../../index.node.js';
import { readDataFile } from '../lab.js';

/** How the held-out text is windowed: non-overlapping, or sliding with stride L/2. */
export type EvalMode = 'chunks' | 'sliding';

/** The corpus: tokenizer and the train / validation token arrays (90% / the next 10%). */
export interface CharCorpus {
  tokenizer: CharTokenizer;
  /** `[N]` training ids. */
  train: Int32Array;
  /** `[M]` held-out ids (the first `valChars` of the last 10%). */
  val: Int32Array;
}

/** tinyshakespeare as character ids, with `valChars` held-out characters. */
export function loadShakespeare(valChars: number): CharCorpus {
  const text = readDataFile('tinyshakespeare.txt');
  const tokenizer = CharTokenizer.fromText(text);
  const ids = tokenizer.encode(text);
  const split = Math.floor(ids.length * 0.9);
  return { tokenizer, train: ids.slice(0, split), val: ids.slice(split, split + valChars) };
}

/** Model and training sizes of one character model (the same for every variant). */
export interface CharLmSizes {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
  /** Context length of training. */
  trainLen: number;
  /** The longest evaluation context: every model is created with this blockSize. */
  maxLen: number;
}

/** The default character model of `long-text` and `rope` (the same, so their RoPE rows compare). */
export const CHAR_LM_SIZES: CharLmSizes = {
  nLayer: 2,
  nHead: 4,
  nEmbd: 64,
  batchSize: 16,
  steps: 300,
  lr: 3e-3,
  warmup: 30,
  trainLen: 64,
  maxLen: 512,
};
/** `--quick`: the same model, a few steps. */
export const CHAR_LM_QUICK: CharLmSizes = { ...CHAR_LM_SIZES, steps: 10, warmup: 2 };

/** What {@link trainCharModel} trains. */
export interface CharModelOptions {
  corpus: CharCorpus;
  sizes: CharLmSizes;
  /** Overrides of the model configuration (the positional options). */
  config: Partial<TransformerConfigInput>;
  /** Seed of the initialisation and of the data order. */
  seed: number;
  /** Called after every step (progress). */
  onStep: () => void;
}

/**
 * Trains a character GPT with `config` overrides (positional options) on windows of
 * `sizes.trainLen` characters (ids, targets: `[batchSize, trainLen]`).
 *
 * @returns the trained model (the caller disposes it) and its mean milliseconds per step
 */
export async function trainCharModel(options: CharModelOptions): Promise<{ model: GPT; msPerStep: number }> {
  const { corpus, sizes, config, seed, onStep } = options;
  const model = GPT.create(
    {
      vocabSize: corpus.tokenizer.vocabSize,
      blockSize: sizes.maxLen,
      nLayer: sizes.nLayer,
      nHead: sizes.nHead,
      nEmbd: sizes.nEmbd,
      ...config,
    },
    { seed },
  );
  const trainer = new Trainer(
    model,
    { train: corpus.train },
    { batchSize: sizes.batchSize, seqLen: sizes.trainLen, maxSteps: sizes.steps, lr: sizes.lr, warmupSteps: sizes.warmup, seed },
  );
  trainer.on('step', onStep);
  const fit = await trainer.fit();
  return { model, msPerStep: fit.msPerStep };
}

/**
 * Fine-tunes `model` in place for `steps` steps on windows of `seqLen` characters (warm-up
 * of a tenth, cosine decay from `lr`).
 */
export async function fineTune(
  model: GPT,
  corpus: CharCorpus,
  options: { seqLen: number; batchSize: number; steps: number; lr: number; seed: number; onStep: () => void },
): Promise<void> {
  const { seqLen, batchSize, steps, lr, seed, onStep } = options;
  const trainer = new Trainer(
    model,
    { train: corpus.train },
    { batchSize, seqLen, maxSteps: steps, lr, warmupSteps: Math.ceil(steps / 10), seed: seed + 500 },
  );
  trainer.on('step', onStep);
  await trainer.fit();
}

/** Where and how {@link perplexity} scores. */
export interface PerplexityOptions {
  /** L, the window length (≤ the model's blockSize for absolute positions). */
  len: number;
  /** Non-overlapping windows, or sliding with stride L/2. */
  mode: EvalMode;
  /** Windows per forward pass (default 8). */
  batchSize?: number;
}

/**
 * Perplexity of `model` on `val` at context length `len` (batches `[batchSize, L]`).
 *
 * @param val - `[M]` held-out ids
 * @returns `exp(mean cross-entropy)` over the scored characters
 */
export function perplexity(model: GPT, val: Int32Array, options: PerplexityOptions): number {
  const { len, mode, batchSize = 8 } = options;
  const stride = mode === 'chunks' ? len : len / 2;
  const starts: number[] = [];
  for (let s = 0; s + len + 1 <= val.length; s += stride) starts.push(s);
  if (starts.length === 0) throw new RangeError(`perplexity: ${val.length} held-out tokens cannot fill one window of ${len}`);
  let [lossSum, scored] = [0, 0];
  for (let first = 0; first < starts.length; first += batchSize) {
    const group = starts.slice(first, first + batchSize);
    const batch: ModelBatch = {
      ids: new Uint32Array(group.length * len),
      targets: new Int32Array(group.length * len),
      batchSize: group.length,
    };
    let count = 0;
    group.forEach((s, row) => {
      // The first window scores every position; later sliding windows only their last `stride`.
      const from = mode === 'sliding' && s > 0 ? len - stride : 0;
      for (let t = 0; t < len; t++) {
        (batch.ids as Uint32Array)[row * len + t] = val[s + t] as number;
        (batch.targets as Int32Array)[row * len + t] = t >= from ? (val[s + t + 1] as number) : -100;
        if (t >= from) count += 1;
      }
    });
    lossSum += model.evaluateBatch(batch, len).total * count;
    scored += count;
  }
  return Math.exp(lossSum / scored);
}

/**
 * A copy of `model` with another `ropeScaling` and the same weights:
 * RoPE has no parameters, so scaling is a change of configuration only.
 */
export function withRope(model: GPT, config: Pick<TransformerConfigInput, 'ropeScaling'>): GPT {
  const copy = GPT.create({ ...model.config, ...config });
  copy.setWeights(model.getWeights());
  return copy;
}
