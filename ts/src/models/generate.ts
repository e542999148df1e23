/**
 * Autoregressive generation over the model's KV cache (Rust `model/decode.rs`): the prompts
 * are fed once, then each step feeds one token per unfinished sequence, so a new token costs
 * O(T) attention instead of re-running the window. Several prompts decode together (one
 * cache slot each, of any lengths).
 *
 * Positions: learned absolute positions end at `blockSize`; past it `contextOverflow: 'error'`
 * (the default) refuses up front and `'slide'` keeps the last half of the window and
 * continues (nanoGPT crops its window the same way, re-encoding it every token). The other
 * encodings (RoPE, with the config's `ropeScaling`; ALiBi; relative; sinusoidal; none) run
 * past `blockSize`, as long as the cache fits in memory.
 */
import { InvalidArgumentError } from '../errors.js';
import { Rng } from '../train/rng.js';
import type { TransformerConfig } from './config.js';
import { makeSampler, sampleToken, type SamplingOptions } from './sampling.js';

/** Options of {@link GPT.generate} and {@link GPT.generateBatch}. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to add at most, per sequence (default 100). */
  maxNewTokens?: number;
  /** Seed of the sampler (default 0); the same seed gives the same tokens. */
  seed?: number;
  /** Token ids that end a sequence (an end-of-text id); the stop token is kept in the output. */
  stopTokens?: ArrayLike<number>;
  /** Token sequences (arrays or the `Int32Array`s tokenizers return) that end a sequence when generated; kept in the output. */
  stopSequences?: readonly ArrayLike<number>[];
  /**
   * What to do when a sequence would pass `blockSize` with learned absolute positions:
   * `'error'` (default) throws before generating; `'slide'` drops the older half of the
   * context and continues.
   */
  contextOverflow?: 'error' | 'slide';
}

/** The wasm model's decoding calls. */
export interface DecodeHandle {
  decodeStart(slots: number, capacity: number): number;
  decodeFeed(tokens: Uint32Array, counts: Uint32Array): Float32Array;
  decodeReset(slot: number): void;
  decodeEnd(): void;
}

/** One new token of one sequence. */
export interface GeneratedToken {
  /** Index of the prompt it continues. */
  sequence: number;
  /** The token id. */
  token: number;
  /** True if this is the sequence's last token. */
  done: boolean;
}

interface Settings {
  maxNewTokens: number;
  stopTokens: ReadonlySet<number>;
  stopSequences: readonly (readonly number[])[];
  slide: boolean;
  sampler: ReturnType<typeof makeSampler>;
  seed: number;
}

function tokenList(value: unknown, what: string, vocabSize: number): number[] {
  const isArrayLike = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!isArrayLike) throw new InvalidArgumentError(`generate: ${what} must be an array of token ids`);
  const ids = Array.from(value as ArrayLike<number>);
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new InvalidArgumentError(`generate: ${what} holds ${String(id)}, expected token ids in [0, ${vocabSize})`);
    }
  }
  return ids;
}

/** Validates the options against the model's config. */
export function generationSettings(options: GenerateOptions, config: TransformerConfig): Settings {
  const { maxNewTokens = 100, seed = 0, stopTokens = [], stopSequences = [], contextOverflow = 'error' } = options;
  if (typeof maxNewTokens !== 'number' || !Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new InvalidArgumentError(`generate: maxNewTokens must be an integer >= 0, got ${String(maxNewTokens)}`);
  }
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    throw new InvalidArgumentError(`generate: seed must be a number, got ${String(seed)}`);
  if (contextOverflow !== 'error' && contextOverflow !== 'slide') {
    throw new InvalidArgumentError(`generate: contextOverflow must be 'error' or 'slide', got ${JSON.stringify(contextOverflow)}`);
  }
  const stops = tokenList(stopTokens, 'stopTokens', config.vocabSize);
  if (!Array.isArray(stopSequences)) throw new InvalidArgumentError('generate: stopSequences must be an array of token-id arrays');
  const sequences = stopSequences.map((s, i) => tokenList(s, `stopSequences[${i}]`, config.vocabSize));
  if (sequences.some((s) => s.length === 0)) throw new InvalidArgumentError('generate: stopSequences must not contain an empty sequence');
  return {
    maxNewTokens,
    stopTokens: new Set(stops),
    stopSequences: sequences,
    slide: contextOverflow === 'slide',
    sampler: makeSampler(options, 'generate'),
    seed,
  };
}

function endsWith(seq: readonly number[], tail: readonly number[]): boolean {
  if (tail.length > seq.length) return false;
  const offset = seq.length - tail.length;
  return tail.every((id, i) => seq[offset + i] === id);
}

/**
 * Decodes `prompts` together, yielding each step's new tokens (sequence order). The cache is
 * opened here and freed when the generator finishes or is closed early.
 *
 * @throws InvalidArgumentError if a prompt is empty, or with learned positions and
 * `contextOverflow: 'error'` a prompt plus `maxNewTokens` exceeds `blockSize`;
 * OutOfMemoryError if the cache does not fit.
 */
export function* decodeSteps(
  handle: DecodeHandle,
  config: TransformerConfig,
  prompts: readonly Uint32Array[],
  settings: Settings,
): Generator<GeneratedToken[]> {
  const learned = config.positional === 'learned';
  const longest = Math.max(...prompts.map((p) => p.length));
  if (prompts.some((p) => p.length === 0)) throw new InvalidArgumentError('generate: every prompt needs at least one token');
  if (settings.maxNewTokens === 0) return;
  let capacity = longest + settings.maxNewTokens;
  if (learned && capacity > config.blockSize) {
    if (!settings.slide) {
      throw new InvalidArgumentError(
        `generate: the prompt (${longest} tokens) plus maxNewTokens (${settings.maxNewTokens}) is ${capacity} positions, ` +
          `more than blockSize ${config.blockSize}: learned absolute positions end there. Shorten the request or pass ` +
          `contextOverflow: 'slide' (RoPE, ALiBi, relative, sinusoidal and no positions can run longer)`,
      );
    }
    capacity = config.blockSize;
  }
  const sequences = prompts.map((p) => Array.from(p.length > capacity ? p.subarray(p.length - capacity) : p));
  const pending = sequences.map((s) => s.slice());
  const produced = prompts.map(() => 0);
  const finished = prompts.map(() => false);
  const lens = prompts.map(() => 0);
  const rng = new Rng(settings.seed);
  const v = config.vocabSize;
  handle.decodeStart(prompts.length, capacity);
  try {
    for (;;) {
      const counts = Uint32Array.from(pending, (p) => p.length);
      if (counts.every((c) => c === 0)) return;
      const logits = handle.decodeFeed(Uint32Array.from(pending.flat()), counts);
      const step: GeneratedToken[] = [];
      let row = 0;
      for (let s = 0; s < prompts.length; s++) {
        const count = counts[s] as number;
        if (count === 0) continue;
        lens[s] = (lens[s] as number) + count;
        const seq = sequences[s] as number[];
        const token = sampleToken(logits.slice(row * v, (row + 1) * v), seq, settings.sampler, rng);
        row++;
        seq.push(token);
        produced[s] = (produced[s] as number) + 1;
        const done =
          produced[s] === settings.maxNewTokens ||
          settings.stopTokens.has(token) ||
          settings.stopSequences.some((tail) => endsWith(seq, tail));
        finished[s] = done;
        step.push({ sequence: s, token, done });
        if (done) {
          pending[s] = [];
        } else if ((lens[s] as number) < capacity) {
          pending[s] = [token];
        } else {
          // Sliding window (learned positions): keep the newest half, re-encode it from position 0.
          handle.decodeReset(s);
          lens[s] = 0;
          pending[s] = seq.slice(seq.length - Math.max(1, Math.floor(capacity / 2)));
        }
      }
      yield step;
    }
  } finally {
    handle.decodeEnd();
  }
}
