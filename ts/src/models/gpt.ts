/**
 * GPT: the transformer with a causal mask and a language-model head (nanoGPT / GPT-2).
 * Training goes through {@link Trainer}; this class adds creation with GPT defaults and
 * autoregressive sampling (without a KV cache: each new token re-runs the window).
 */
import { InvalidArgumentError } from '../errors.js';
import { Rng } from '../train/rng.js';
import type { TransformerConfig, TransformerConfigInput } from './config.js';
import { type MemoryPlan, TransformerModel } from './transformer.js';

/** GPT configuration input: `vocabSize` and `blockSize` are required. */
export type GPTConfigInput = TransformerConfigInput;

/** Options of {@link GPT.generate}. */
export interface GenerateOptions {
  /** Tokens to add (default 100). */
  maxNewTokens?: number;
  /** Softmax temperature; 0 = greedy (default 1). */
  temperature?: number;
  /** Sample only from the k most likely tokens. */
  topK?: number;
  /** Seed of the sampler (default 0). */
  seed?: number;
}

/** A decoder-only transformer. */
export class GPT extends TransformerModel {
  private constructor(config: TransformerConfig, seed: number) {
    super(config, seed);
  }

  /**
   * A new GPT with GPT-2 initialisation. Defaults are nanoGPT's GPT-2 (12 layers, 12
   * heads, 768 wide, learned positions, pre-LayerNorm, GELU, biases, tied embeddings).
   *
   * @example
   * ```ts
   * await init();
   * const gpt = GPT.create({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 });
   * console.log(gpt.numParams);
   * ```
   * @throws InvalidArgumentError for a bad option, naming it.
   */
  static create(config: GPTConfigInput, options: { seed?: number } = {}): GPT {
    const resolved = TransformerModel.resolve(config, { causal: true });
    if (!resolved.causal) throw new InvalidArgumentError('GPT is causal: config.causal must be true');
    return new GPT(resolved, options.seed ?? 0);
  }

  /** Bytes a GPT of `config` would plan for training at `batchSize × seqLen`. */
  static estimate(config: GPTConfigInput, batchSize: number, seqLen: number): MemoryPlan {
    return TransformerModel.estimateMemory(TransformerModel.resolve(config, { causal: true }), batchSize, seqLen, true);
  }

  /**
   * Continues `prompt` by sampling one token at a time from the model (the last
   * `blockSize` tokens are the context).
   *
   * @param prompt - int token ids (at least one)
   * @returns the prompt followed by the new tokens
   */
  generate(prompt: ArrayLike<number>, options: GenerateOptions = {}): Int32Array {
    const { maxNewTokens = 100, temperature = 1, topK, seed = 0 } = options;
    if (prompt.length < 1) throw new InvalidArgumentError('generate: the prompt needs at least one token');
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new InvalidArgumentError(`generate: maxNewTokens must be an integer >= 0, got ${maxNewTokens}`);
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new InvalidArgumentError(`generate: temperature must be >= 0, got ${temperature}`);
    if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw new InvalidArgumentError(`generate: topK must be an integer >= 1, got ${topK}`);
    const tokens = Array.from(this.checkTokens(prompt, prompt.length, 'prompt'));
    const rng = new Rng(seed);
    const v = this.config.vocabSize;
    for (let step = 0; step < maxNewTokens; step++) {
      const window = tokens.slice(-this.config.blockSize);
      const logits = this.handle.lastLogits(Uint32Array.from(window), 1, window.length);
      tokens.push(sample(logits, v, temperature, topK, rng));
    }
    return Int32Array.from(tokens);
  }
}

/** Draws one token from `logits: [V]`. */
function sample(logits: Float32Array, v: number, temperature: number, topK: number | undefined, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < v; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  if (temperature === 0) return best;
  let threshold = -Infinity;
  if (topK !== undefined && topK < v) {
    threshold = Array.from(logits).sort((a, b) => b - a)[topK - 1] as number;
  }
  const max = logits[best] as number;
  const weights = new Float64Array(v);
  let total = 0;
  for (let i = 0; i < v; i++) {
    const x = logits[i] as number;
    const w = x >= threshold ? Math.exp((x - max) / temperature) : 0;
    weights[i] = w;
    total += w;
  }
  let r = rng.nextFloat() * total;
  for (let i = 0; i < v; i++) {
    r -= weights[i] as number;
    if (r < 0) return i;
  }
  return best;
}
