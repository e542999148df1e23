/**
 * Choosing the next token from logits, as Hugging Face's `generate` does: repetition penalty,
 * then temperature, top-k and top-p (nucleus) filtering, then a draw from the seeded
 * {@link Rng} (or the argmax when `temperature` is 0).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Rng } from '../train/rng.js';

/** How the next token is chosen. */
export interface SamplingOptions {
  /** Softmax temperature; 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p, in (0, 1]. */
  topP?: number;
  /**
   * CTRL / Hugging Face repetition penalty (> 0, 1 = off): the logit of every token already
   * in the sequence (prompt included) is divided by it when positive, multiplied when negative.
   */
  repetitionPenalty?: number;
}

/** Validated sampling settings. */
export interface Sampler {
  temperature: number;
  topK: number | undefined;
  topP: number;
  repetitionPenalty: number;
}

/** Checks the options (`where` names the caller in errors). */
export function makeSampler(options: SamplingOptions, where: string): Sampler {
  const { temperature = 1, topK, topP = 1, repetitionPenalty = 1 } = options;
  if (typeof temperature !== 'number' || !(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new InvalidArgumentError(`${where}: temperature must be a finite number >= 0, got ${String(temperature)}`);
  }
  if (topK !== undefined && (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1)) {
    throw new InvalidArgumentError(`${where}: topK must be an integer >= 1, got ${String(topK)}`);
  }
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) {
    throw new InvalidArgumentError(`${where}: topP must be in (0, 1], got ${String(topP)}`);
  }
  if (typeof repetitionPenalty !== 'number' || !(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) {
    throw new InvalidArgumentError(`${where}: repetitionPenalty must be a finite number > 0, got ${String(repetitionPenalty)}`);
  }
  return { temperature, topK, topP, repetitionPenalty };
}

/**
 * Draws one token id from `logits: [V]` (modified in place by the penalty).
 *
 * @param seen - token ids already in the sequence (for the repetition penalty)
 */
export function sampleToken(logits: Float32Array, seen: Iterable<number>, sampler: Sampler, rng: Rng): number {
  const v = logits.length;
  if (sampler.repetitionPenalty !== 1) {
    for (const id of new Set(seen)) {
      const x = logits[id] as number;
      logits[id] = x > 0 ? x / sampler.repetitionPenalty : x * sampler.repetitionPenalty;
    }
  }
  let best = 0;
  for (let i = 1; i < v; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
  if (sampler.temperature === 0) return best;
  // Candidates by decreasing logit (ties by id), cut by top-k.
  let order = Array.from({ length: v }, (_, i) => i);
  const byLogit = (a: number, b: number): number => (logits[b] as number) - (logits[a] as number) || a - b;
  if (sampler.topK !== undefined && sampler.topK < v) {
    order = partialTop(order, sampler.topK, byLogit);
  } else {
    order.sort(byLogit);
  }
  const max = logits[best] as number;
  const weights = order.map((id) => Math.exp(((logits[id] as number) - max) / sampler.temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  if (sampler.topP < 1) {
    // Smallest prefix whose probability reaches topP (at least one token).
    let kept = 0;
    let mass = 0;
    while (kept < weights.length && (kept === 0 || mass < sampler.topP * total)) mass += weights[kept++] as number;
    weights.length = kept;
    total = mass;
  }
  let r = rng.nextFloat() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i] as number;
    if (r < 0) return order[i] as number;
  }
  return order[weights.length - 1] as number;
}

/** The `k` first of `ids` under `compare`, sorted (a sort of the whole array for small V). */
function partialTop(ids: number[], k: number, compare: (a: number, b: number) => number): number[] {
  if (ids.length <= 4 * k) return ids.sort(compare).slice(0, k);
  const top: number[] = [];
  for (const id of ids) {
    if (top.length < k) {
      top.push(id);
      if (top.length === k) top.sort(compare);
    } else if (compare(id, top[k - 1] as number) < 0) {
      let at = k - 1;
      while (at > 0 && compare(id, top[at - 1] as number) < 0) at--;
      top.splice(at, 0, id);
      top.pop();
    }
  }
  return top;
}
