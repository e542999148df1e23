/**
 * Algorithmic sequence tasks for length generalisation (Kazemnejad et al. 2023, "The Impact
 * of Positional Encoding on Length Generalization in Transformers"): copy, reverse, and
 * addition with the digits written least significant first. Each example is one decoder
 * sequence `input = output .`; the loss and the exact-match score read only the output part.
 *
 * ```
 * copy      3 1 4 = 3 1 4 .
 * reverse   3 1 4 = 4 1 3 .
 * addition  2 1 + 9 = 1 2 .       (12 + 9 = 21, digits reversed; operands padded to n digits)
 * ```
 *
 * The task's "length" `n` is the number of input digits (per operand, for addition). Batches
 * hold sequences of one length each or are right-padded: with a causal mask, padding after a
 * sequence's end cannot change what the model computes before it, and padded targets are -100.
 */
import {
  type BatchSource,
  type FitResult,
  GPT,
  type ModelBatch,
  type Rng,
  Trainer,
  type TransformerConfigInput,
} from '../../index.node.js';

/** The algorithmic tasks. */
export type AlgorithmicTask = 'copy' | 'reverse' | 'addition';

/** The tokens: padding, the separator `=`, the end `.`, `+`, then the digits 0–9. */
export const TASK_TOKENS = { pad: 0, sep: 1, end: 2, plus: 3, digit0: 4 } as const;
/** V: vocabulary size of every task. */
export const TASK_VOCAB_SIZE = 14;

/** One example: its tokens and where the output (the scored part) starts. */
export interface TaskExample {
  /** `[S]` the whole sequence, input `=` output `.`. */
  tokens: number[];
  /** Index in `tokens` of the first output token (right after `=`). */
  outputStart: number;
}

/** Tokens of the longest example of `task` at length `n` (the model's context must hold S − 1). */
export function exampleLength(task: AlgorithmicTask, n: number): number {
  return task === 'addition' ? 2 * n + 1 + 1 + (n + 1) + 1 : 2 * n + 2;
}

/**
 * A random example of `task` with `n` input digits (per operand for addition).
 *
 * @param rng - the stream the digits come from
 * @throws RangeError if `n` is not an integer ≥ 1
 */
export function makeExample(task: AlgorithmicTask, n: number, rng: Rng): TaskExample {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`task length must be an integer >= 1, got ${n}`);
  const digit = (d: number): number => TASK_TOKENS.digit0 + d;
  const draw = (): number[] => Array.from({ length: n }, () => rng.nextInt(10));
  if (task === 'addition') {
    // Least significant digit first, so each output digit depends on digits already seen.
    const a = draw();
    const b = draw();
    const sum: number[] = [];
    let carry = 0;
    for (let i = 0; i < n; i++) {
      const s = (a[i] as number) + (b[i] as number) + carry;
      sum.push(s % 10);
      carry = s >= 10 ? 1 : 0;
    }
    sum.push(carry);
    const input = [...a.map(digit), TASK_TOKENS.plus, ...b.map(digit)];
    return { tokens: [...input, TASK_TOKENS.sep, ...sum.map(digit), TASK_TOKENS.end], outputStart: input.length + 1 };
  }
  const x = draw();
  const y = task === 'copy' ? x : [...x].reverse();
  return { tokens: [...x.map(digit), TASK_TOKENS.sep, ...y.map(digit), TASK_TOKENS.end], outputStart: n + 1 };
}

/**
 * Examples as one next-token batch, right-padded to the longest: `ids: [B, T]` are tokens
 * `0 … S−2`, `targets: [B, T]` tokens `1 … S−1` on the output part and -100 elsewhere.
 */
export function exampleBatch(examples: readonly TaskExample[]): ModelBatch & { seqLen: number } {
  const seqLen = Math.max(...examples.map((e) => e.tokens.length - 1));
  const ids = new Uint32Array(examples.length * seqLen).fill(TASK_TOKENS.pad);
  const targets = new Int32Array(examples.length * seqLen).fill(-100);
  examples.forEach((e, row) => {
    for (let t = 0; t < e.tokens.length - 1; t++) {
      ids[row * seqLen + t] = e.tokens[t] as number;
      // Position t predicts token t + 1; only the output tokens (and the end) are scored.
      if (t + 1 >= e.outputStart) targets[row * seqLen + t] = e.tokens[t + 1] as number;
    }
  });
  return { ids, targets, batchSize: examples.length, seqLen };
}

/**
 * Training batches of `task`: each batch draws one length uniformly from `1 … maxLength` and
 * holds examples of that length (no padding, so a step costs what its length needs; the
 * batch's `seqLen` is ≤ the trainer's, which must be at least `exampleLength(task, maxLength) − 1`).
 */
export function taskSource(task: AlgorithmicTask, maxLength: number): BatchSource {
  return {
    sample(rng: Rng, batchSize: number): ModelBatch {
      const n = 1 + rng.nextInt(maxLength);
      return exampleBatch(Array.from({ length: batchSize }, () => makeExample(task, n, rng)));
    },
  };
}

/** What {@link scoreOutputs} returns for a batch. */
export interface OutputScores {
  /** Per example: greedy decoding reproduces its whole output. */
  exact: boolean[];
  /** Output tokens whose argmax is the target (given the right prefix). */
  right: number;
  /** Output tokens scored (targets other than -100). */
  scored: number;
}

/**
 * Exact match and per-token accuracy from teacher-forced logits. Greedy decoding reproduces
 * the output exactly iff the most likely next token is right at every output position given
 * the right prefix, so one forward pass scores a whole batch.
 *
 * @param logits - `[B, T, V]` float32 of `batch`
 * @param batch - from {@link exampleBatch} (`targets: [B, T]`, -100 outside the output)
 * @param vocabSize - V
 */
export function scoreOutputs(logits: Float32Array, batch: ModelBatch & { seqLen: number }, vocabSize: number): OutputScores {
  const { batchSize, seqLen, targets } = batch;
  if (!targets) throw new RangeError('scoreOutputs: the batch has no targets');
  const scores: OutputScores = { exact: [], right: 0, scored: 0 };
  for (let b = 0; b < batchSize; b++) {
    let ok = true;
    for (let t = 0; t < seqLen; t++) {
      const target = targets[b * seqLen + t] as number;
      if (target === -100) continue;
      const row = (b * seqLen + t) * vocabSize;
      let best = 0;
      for (let v = 1; v < vocabSize; v++) if ((logits[row + v] as number) > (logits[row + best] as number)) best = v;
      ok = ok && best === target;
      scores.right += best === target ? 1 : 0;
      scores.scored += 1;
    }
    scores.exact.push(ok);
  }
  return scores;
}

/**
 * Exact match and per-token accuracy of `model` on `examples`, scored in batches of
 * equal-length examples (one teacher-forced forward pass each).
 *
 * @returns the share of examples whose whole output greedy decoding reproduces, and the share
 *   of output tokens predicted right given the right prefix
 */
export function scoreModel(model: GPT, examples: readonly TaskExample[]): { exact: number; token: number } {
  const byLength = new Map<number, TaskExample[]>();
  for (const e of examples) byLength.set(e.tokens.length, [...(byLength.get(e.tokens.length) ?? []), e]);
  let [exact, tokensRight, tokens] = [0, 0, 0];
  for (const group of byLength.values()) {
    const batch = exampleBatch(group);
    const scores = scoreOutputs(model.batchOutputs(batch, batch.seqLen, 'logits'), batch, TASK_VOCAB_SIZE);
    exact += scores.exact.filter(Boolean).length;
    tokensRight += scores.right;
    tokens += scores.scored;
  }
  return { exact: exact / examples.length, token: tokensRight / tokens };
}

/** Sizes of {@link trainTaskModel}'s GPT and training. */
export interface TaskTrainingSizes {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  batchSize: number;
  steps: number;
  lr: number;
  warmup: number;
}

/** What {@link trainTaskModel} trains. */
export interface TaskTrainingOptions {
  task: AlgorithmicTask;
  /** The configuration beyond the sizes (the positional options). */
  config: Partial<TransformerConfigInput>;
  sizes: TaskTrainingSizes;
  /** Inputs of 1 … `trainMax` digits are trained on. */
  trainMax: number;
  /** The model's context holds inputs of up to `testMax` digits (learned positions past `trainMax` stay untrained). */
  testMax: number;
  seed: number;
  /** Called after every training step (progress). */
  onStep?: () => void;
}

/**
 * Trains a GPT on `task` at lengths 1 … `trainMax` (one length per batch, the loss on the output only).
 *
 * @returns the model (the caller disposes it) and the training summary
 */
export async function trainTaskModel(options: TaskTrainingOptions): Promise<{ model: GPT; fit: FitResult }> {
  const { task, config, sizes, trainMax, testMax, seed, onStep } = options;
  const model = GPT.create(
    {
      vocabSize: TASK_VOCAB_SIZE,
      blockSize: exampleLength(task, testMax) - 1,
      nLayer: sizes.nLayer,
      nHead: sizes.nHead,
      nEmbd: sizes.nEmbd,
      ...config,
    },
    { seed },
  );
  try {
    const trainer = new Trainer(
      model,
      { train: taskSource(task, trainMax) },
      {
        batchSize: sizes.batchSize,
        seqLen: exampleLength(task, trainMax) - 1,
        maxSteps: sizes.steps,
        lr: sizes.lr,
        warmupSteps: sizes.warmup,
        seed,
      },
    );
    if (onStep) trainer.on('step', onStep);
    return { model, fit: await trainer.fit() };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
